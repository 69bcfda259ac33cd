package service

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"time"
)

// sshBanner is the server identification sent to SSH clients.
const sshBanner = "SSH-2.0-OpenSSH_9.2p1\r\n"

// readLine reads one line without its line end, waiting at most
// Config.IdleTimeout; a line longer than max is cut to max bytes.
func (ss *session) readLine(max int) (string, error) {
	ss.wait(ss.s.cfg.IdleTimeout)
	var line []byte
	for {
		frag, err := ss.br.ReadSlice('\n')
		if room := max - len(line); room > 0 {
			line = append(line, frag[:min(len(frag), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (err != io.EOF || len(line) == 0) {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// dialog answers a line protocol: reply gets each line and says what to
// send back and whether the conversation is over.
func (ss *session) dialog(maxLine int, reply func(line string) (out string, done bool)) {
	for range maxDialogLines {
		line, err := ss.readLine(maxLine)
		if err != nil {
			return
		}
		out, done := reply(line)
		if out != "" && ss.writeString(out) != nil {
			return
		}
		if done {
			return
		}
	}
}

// drain reads until the client stops sending, so byte counts and the
// capture see everything it sent.
func (ss *session) drain() {
	for {
		ss.wait(ss.s.cfg.IdleTimeout)
		if _, err := ss.br.Discard(ss.br.Buffered() + 1); err != nil {
			return
		}
	}
}

// linger ends a conversation gracefully: half-close where the connection
// can, then read briefly, so the client gets our last words before a
// close with unread data turns into a reset.
func (ss *session) linger() {
	if cw, ok := ss.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	ss.wait(min(ss.s.cfg.IdleTimeout, time.Second))
	io.Copy(io.Discard, ss.br)
}

// command splits a protocol line into its upper-cased command word and
// the rest.
func command(line string) (cmd, rest string) {
	cmd, rest, _ = strings.Cut(strings.TrimSpace(line), " ")
	return strings.ToUpper(cmd), strings.TrimSpace(rest)
}

// token makes an untrusted word safe to echo back inside a protocol line.
func token(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == ':' || r == ',' {
			return -1
		}
		return r
	}, s)
	return clean(s, max)
}

// serveSSH records the client's identification line and answers with a
// server's; with no key exchange to offer it then reads until the client
// gives up.
func (ss *session) serveSSH() {
	ss.c.App = AppSSH
	line, err := ss.readLine(255)
	if err != nil {
		return
	}
	ss.c.Banner = clean(line, 255)
	if !ss.bannerSent && ss.writeString(sshBanner) != nil {
		return
	}
	ss.drain()
}

// serveIRC plays an IRC server far enough for a bot to register, join its
// channels and wait for orders. Banner is the NICK line.
func (ss *session) serveIRC() {
	ss.c.App = AppIRC
	const srv = ":irc.localdomain "
	nick, welcomed := "guest", false
	ss.dialog(512, func(line string) (string, bool) {
		cmd, rest := command(line)
		switch cmd {
		case "NICK":
			ss.c.Banner = clean(line, 255)
			if n := token(strings.Fields(rest + " x")[0], 32); n != "" {
				nick = n
			}
		case "USER":
			if !welcomed {
				welcomed = true
				return srv + "001 " + nick + " :Welcome to the Internet Relay Network " + nick + "\r\n" +
					srv + "002 " + nick + " :Your host is irc.localdomain\r\n" +
					srv + "376 " + nick + " :End of /MOTD command.\r\n", false
			}
		case "PING":
			return srv + "PONG irc.localdomain :" + token(strings.TrimPrefix(rest, ":"), 64) + "\r\n", false
		case "JOIN":
			var out strings.Builder
			for ch := range strings.SplitSeq(strings.Fields(rest + " x")[0], ",") {
				if ch = token(ch, 64); ch != "" {
					out.WriteString(":" + nick + "!" + nick + "@sandbox JOIN :" + ch + "\r\n")
					out.WriteString(srv + "366 " + nick + " " + ch + " :End of /NAMES list.\r\n")
				}
			}
			return out.String(), false
		case "CAP":
			if strings.HasPrefix(strings.ToUpper(rest), "LS") {
				return srv + "CAP * LS :\r\n", false
			}
		case "QUIT":
			return "ERROR :Closing Link\r\n", true
		}
		return "", false
	})
}

// serveSMTP accepts mail: HELO/EHLO, AUTH, MAIL, RCPT, DATA and QUIT all
// succeed. Banner is the HELO/EHLO line.
func (ss *session) serveSMTP() {
	ss.c.App = AppSMTP
	authLines, inData := 0, false
	ss.dialog(1024, func(line string) (string, bool) {
		if inData {
			if line == "." {
				inData = false
				return "250 2.0.0 Ok: queued as 4F2A81C0D3\r\n", false
			}
			return "", false
		}
		if authLines > 0 {
			authLines--
			if authLines == 1 {
				return "334 UGFzc3dvcmQ6\r\n", false // "Password:"
			}
			return "235 2.7.0 Authentication successful\r\n", false
		}
		cmd, rest := command(line)
		switch cmd {
		case "HELO":
			ss.c.Banner = clean(line, 255)
			return "250 mail.localdomain\r\n", false
		case "EHLO":
			ss.c.Banner = clean(line, 255)
			return "250-mail.localdomain\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n", false
		case "AUTH":
			mech, initial, _ := strings.Cut(rest, " ")
			switch {
			case strings.EqualFold(mech, "LOGIN") && initial == "":
				authLines = 2
				return "334 VXNlcm5hbWU6\r\n", false // "Username:"
			case strings.EqualFold(mech, "LOGIN"):
				authLines = 1
				return "334 UGFzc3dvcmQ6\r\n", false
			case initial == "":
				authLines = 1
				return "334 \r\n", false
			}
			return "235 2.7.0 Authentication successful\r\n", false
		case "MAIL", "RCPT", "RSET", "NOOP", "VRFY":
			return "250 2.1.0 Ok\r\n", false
		case "DATA":
			inData = true
			return "354 End data with <CR><LF>.<CR><LF>\r\n", false
		case "STARTTLS":
			return "454 4.7.0 TLS not available due to local problem\r\n", false
		case "QUIT":
			return "221 2.0.0 Bye\r\n", true
		}
		return "502 5.5.2 Error: command not recognized\r\n", false
	})
}

// serveFTP logs any user in and refuses data connections. Banner is the
// USER line.
func (ss *session) serveFTP() {
	ss.c.App = AppFTP
	ss.dialog(1024, func(line string) (string, bool) {
		switch cmd, _ := command(line); cmd {
		case "USER":
			ss.c.Banner = clean(line, 255)
			return "331 Please specify the password.\r\n", false
		case "PASS":
			return "230 Login successful.\r\n", false
		case "SYST":
			return "215 UNIX Type: L8\r\n", false
		case "FEAT":
			return "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n211 End\r\n", false
		case "PWD", "XPWD":
			return "257 \"/\" is the current directory\r\n", false
		case "CWD", "CDUP":
			return "250 Directory successfully changed.\r\n", false
		case "TYPE", "MODE", "STRU", "OPTS", "NOOP":
			return "200 Command okay.\r\n", false
		case "AUTH":
			return "530 Please login with USER and PASS.\r\n", false
		case "PASV", "EPSV", "PORT", "EPRT", "LIST", "NLST", "RETR", "STOR", "APPE", "SIZE":
			return "425 Can't open data connection.\r\n", false
		case "QUIT":
			return "221 Goodbye.\r\n", true
		}
		return "500 Unknown command.\r\n", false
	})
}

// servePOP3 logs any user into an empty mailbox. Banner is the USER line.
func (ss *session) servePOP3() {
	ss.c.App = AppPOP3
	ss.dialog(1024, func(line string) (string, bool) {
		switch cmd, _ := command(line); cmd {
		case "USER":
			ss.c.Banner = clean(line, 255)
			return "+OK\r\n", false
		case "PASS", "APOP":
			return "+OK Logged in.\r\n", false
		case "STAT":
			return "+OK 0 0\r\n", false
		case "LIST", "UIDL":
			return "+OK 0 messages\r\n.\r\n", false
		case "CAPA":
			return "+OK\r\nUSER\r\nUIDL\r\n.\r\n", false
		case "NOOP", "RSET":
			return "+OK\r\n", false
		case "QUIT":
			return "+OK Bye\r\n", true
		}
		return "-ERR Unknown command\r\n", false
	})
}
