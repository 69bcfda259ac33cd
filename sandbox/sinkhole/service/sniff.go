package service

import (
	"bytes"
	"strings"
)

// httpMethods are the request lines' openings HTTP is recognised by.
var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// sniff names the protocol of a connection to port whose client spoke
// first with b. more says b is too short to tell (the caller may wait for
// more bytes and ask again; app is then "").
func sniff(b []byte, port uint16) (app string, more bool) {
	if len(b) == 0 {
		return "", true
	}
	// A TLS handshake record: type 22, version 3.x.
	if b[0] == 0x16 {
		if len(b) < 3 {
			return "", true
		}
		if b[1] == 3 && b[2] <= 4 {
			return AppTLS, false
		}
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) {
			return AppHTTP, false
		}
		if len(b) < len(m) && strings.HasPrefix(m, string(b)) {
			more = true
		}
	}
	if bytes.HasPrefix(b, []byte("SSH-")) {
		return AppSSH, false
	}
	if len(b) < 4 && strings.HasPrefix("SSH-", string(b)) {
		more = true
	}
	switch t := bytes.TrimLeft(b, " \t\r\n"); {
	case len(t) == 0:
		more = true
	case t[0] == '{':
		// JSON-RPC: serveStratum tells mining from anything else.
		return AppStratum, false
	}
	if word, ok := firstWord(b); ok {
		if app := lineProtocol(strings.ToUpper(word), port); app != "" {
			return app, false
		}
	} else if len(b) < sniffWant && isText(b) {
		more = true
	}
	if looksLikePrompt(b) {
		return AppShell, false
	}
	if port == 53 {
		// DNS over TCP: a length prefix, then at least a header.
		if len(b) < 2 {
			return "", true
		}
		if int(b[0])<<8|int(b[1]) >= 12 {
			return AppDNS, false
		}
	}
	if more {
		return "", true
	}
	return AppUnknown, false
}

// firstWord is b's first word if a space or line end closes it.
func firstWord(b []byte) (string, bool) {
	i := bytes.IndexAny(b, " \r\n")
	if i <= 0 || i > 16 {
		return "", false
	}
	return string(b[:i]), true
}

// lineProtocol names a text protocol by the client's first command; the
// port decides between those that share commands (USER, PASS).
func lineProtocol(cmd string, port uint16) string {
	switch cmd {
	case "HELO", "EHLO":
		return AppSMTP
	case "NICK", "CAP":
		return AppIRC
	case "USER", "PASS":
		switch port {
		case 21:
			return AppFTP
		case 110:
			return AppPOP3
		}
		return AppIRC
	case "AUTH", "SYST", "FEAT", "OPTS":
		if port == 21 {
			return AppFTP
		}
	case "CAPA", "APOP", "STLS":
		if port == 110 {
			return AppPOP3
		}
	}
	return ""
}

// looksLikePrompt reports whether b ends in what an interactive shell
// prints while it waits for a command ("$ ", "# ", "sh-5.2$ ", ">>> "),
// or holds what an interactive shell says when its stdin is a socket.
func looksLikePrompt(b []byte) bool {
	if !isText(b) {
		return false
	}
	s := string(b)
	// What shells say when -i finds a socket instead of a tty: bash, then
	// busybox ash and dash. It may come before the prompt, in its own write.
	for _, m := range [...]string{"no job control in this shell", "cannot set terminal process group",
		"job control turned off", "can't access tty"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	last := s[strings.LastIndexByte(s, '\n')+1:]
	if len(last) < 2 || len(last) > 256 {
		return false
	}
	for _, p := range [...]string{"$ ", "# ", "> ", "% "} {
		if strings.HasSuffix(last, p) {
			return true
		}
	}
	return false
}
