package service

import (
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// serveShell treats the client as a reverse shell waiting for its
// operator: it sends Config.ShellCommand and records what comes back.
// prompted says the client already showed a shell prompt; otherwise the
// reply must look like a shell's for the connection to count as one.
func (ss *session) serveShell(prompted bool) {
	cfg := ss.s.cfg
	// What came before the command (a prompt) is in the capture already;
	// Received is the answer alone.
	ss.br.Discard(ss.br.Buffered())
	if ss.writeString(cfg.ShellCommand) != nil {
		return
	}
	var got []byte
	var buf [4096]byte
	for len(got) < cfg.CaptureBytes {
		ss.wait(cfg.IdleTimeout)
		n, err := ss.br.Read(buf[:])
		got = append(got, buf[:min(n, cfg.CaptureBytes-len(got))]...)
		if err != nil {
			break
		}
	}
	if prompted || looksLikeShellReply(got, cfg.ShellCommand) {
		ss.c.App = AppShell
		ss.c.Shell = &trace.ShellInfo{Sent: cfg.ShellCommand, Received: clean(string(got), cfg.CaptureBytes)}
	}
}

// shellMarkers are what a Unix shell's answer to a command holds: the
// output of id and uname, or its complaints.
var shellMarkers = [...]string{"uid=", "gid=", "Linux", "not found", "syntax error", "No such file", "Permission denied", "unexpected"}

// looksLikeShellReply reports whether got, the answer to sent, came from
// a shell rather than from a client of some protocol that objects to
// unexpected text.
func looksLikeShellReply(got []byte, sent string) bool {
	if len(got) == 0 || !isText(got) {
		return false
	}
	s := string(got)
	for _, m := range shellMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	// A shell on a pty echoes what it was sent.
	if cmd := strings.TrimSpace(sent); cmd != "" && strings.Contains(s, cmd) {
		return true
	}
	return looksLikePrompt(got)
}
