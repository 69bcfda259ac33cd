package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sandscan/sandscan/trace"
)

// App values of trace.Conn: the protocol recognised on a connection.
const (
	AppHTTP      = "http"
	AppHTTPProxy = "http-proxy" // a proxy request: absolute URI or CONNECT
	AppTLS       = "tls"
	AppStratum   = "stratum"
	AppSSH       = "ssh"
	AppIRC       = "irc"
	AppSMTP      = "smtp"
	AppFTP       = "ftp"
	AppPOP3      = "pop3"
	AppDNS       = "dns" // DNS over TCP; the questions are in Network.DNS
	AppShell     = "shell"
	AppUnknown   = "unknown"
)

const (
	// readBuffer is what sniffing can look at before deciding.
	readBuffer = 16 << 10
	// sniffWant is how many bytes sniffing asks for when the first ones
	// are not enough to decide.
	sniffWant = 16
	// sniffMore is how much unrecognised text is read before judging it
	// again: a shell's greeting and prompt fit.
	sniffMore = 512
)

var errReadLimit = errors.New("sinkhole: connection read limit reached")

// HandleTCP serves one TCP connection the sandbox opened to orig (its
// original destination) and records it; it returns when the conversation
// is over and closes conn. It waits Config.BannerWait for the client's
// first bytes, speaks first when they do not come (a banner for the port,
// else the shell command), recognises the protocol and answers it. Every
// connection is recorded, even one refused because Config.MaxHandlers are
// busy (its App is then ""); cancelling ctx ends the conversation.
//
// The record's App is one of the App constants; Banner is the client's
// identifying line where its protocol has one (the SSH version string, the
// IRC NICK line, the SMTP HELO/EHLO line, the FTP or POP3 USER line);
// FirstData holds the first Config.CaptureBytes bytes the client sent.
func (s *Service) HandleTCP(ctx context.Context, conn net.Conn, orig netip.AddrPort) {
	defer conn.Close()
	c := trace.Conn{
		Time:    s.rec.now(),
		Proto:   "tcp",
		DstIP:   orig.Addr().Unmap().String(),
		DstPort: orig.Port(),
		SrcPort: remotePort(conn),
		Host:    s.rec.lookup(orig.Addr()),
	}
	idx := s.rec.addConn(c)
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		s.cfg.Logger.Warn("sinkhole: too many connections, closing", "dst", orig, "max", s.cfg.MaxHandlers)
		return
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	m := &meter{conn: conn, limit: s.cfg.MaxConnBytes, capN: s.cfg.CaptureBytes}
	ss := &session{
		s:    s,
		ctx:  ctx,
		orig: orig,
		conn: conn,
		m:    m,
		br:   bufio.NewReaderSize(m, readBuffer),
		end:  time.Now().Add(s.cfg.ConnTimeout),
		c:    c,
	}
	defer func() {
		// A bug in a recogniser must cost one connection, not the sinkhole.
		if p := recover(); p != nil {
			s.cfg.Logger.Error("sinkhole: handler panic", "dst", orig, "panic", p, "stack", string(debug.Stack()))
		}
		ss.c.BytesIn, ss.c.BytesOut = m.in, m.out
		ss.c.FirstData = m.capture
		s.rec.setConn(idx, ss.c)
	}()
	ss.run()
	ss.linger()
}

// remotePort is the sandbox's port of conn, or 0 if its address is not IP.
func remotePort(conn net.Conn) uint16 {
	if a := conn.RemoteAddr(); a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Port()
		}
	}
	return 0
}

// meter counts a connection's bytes both ways, keeps the first ones read
// and refuses to read past a limit.
type meter struct {
	conn    net.Conn
	in, out int64
	limit   int64
	capture []byte
	capN    int
}

func (m *meter) Read(p []byte) (int, error) {
	if m.in >= m.limit {
		return 0, errReadLimit
	}
	if rem := m.limit - m.in; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := m.conn.Read(p)
	m.in += int64(n)
	if room := m.capN - len(m.capture); room > 0 && n > 0 {
		m.capture = append(m.capture, p[:min(n, room)]...)
	}
	return n, err
}

func (m *meter) Write(p []byte) (int, error) {
	n, err := m.conn.Write(p)
	m.out += int64(n)
	return n, err
}

// session is one connection being served.
type session struct {
	s          *Service
	ctx        context.Context
	orig       netip.AddrPort
	conn       net.Conn
	m          *meter
	br         *bufio.Reader
	end        time.Time  // the connection's last moment
	c          trace.Conn // the record being filled
	bannerSent bool
}

// wait sets the deadline of the next read or write: d from now, never past
// the connection's end.
func (ss *session) wait(d time.Duration) {
	t := time.Now().Add(d)
	if t.After(ss.end) {
		t = ss.end
	}
	ss.conn.SetDeadline(t)
}

func (ss *session) write(b []byte) error {
	ss.wait(ss.s.cfg.IdleTimeout)
	_, err := ss.m.Write(b)
	return err
}

func (ss *session) writeString(s string) error { return ss.write([]byte(s)) }

// peek waits up to d for at least n buffered bytes and returns what is
// buffered (maybe fewer bytes, with the error that stopped it).
func (ss *session) peek(n int, d time.Duration) ([]byte, error) {
	ss.wait(d)
	_, err := ss.br.Peek(n)
	b, _ := ss.br.Peek(ss.br.Buffered())
	return b, err
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// run is the whole conversation.
func (ss *session) run() {
	cfg := ss.s.cfg
	ss.c.App = AppUnknown
	first, err := ss.peek(1, cfg.BannerWait)
	if len(first) == 0 {
		if !isTimeout(err) {
			return // closed without a word
		}
		// The client waits for the server: a protocol whose server speaks
		// first, or a reverse shell waiting for commands.
		if banner := ss.banner(); banner != "" {
			if ss.writeString(banner) != nil {
				return
			}
			ss.bannerSent = true
			first, err = ss.peek(1, cfg.IdleTimeout)
		}
		if len(first) == 0 {
			if isTimeout(err) {
				ss.serveShell(false)
			}
			return
		}
	}
	app, more := sniff(first, ss.c.DstPort)
	switch {
	case more:
		// Too few bytes to tell: give the client a moment to send more.
		first, _ = ss.peek(sniffWant, cfg.BannerWait)
		app, _ = sniff(first, ss.c.DstPort)
	case app == AppUnknown && isText(first):
		// Text that names no protocol may be a shell's greeting cut by
		// the network mid-line ("...job co"): read on, then judge again.
		first, _ = ss.peek(sniffMore, cfg.BannerWait)
		app, _ = sniff(first, ss.c.DstPort)
	}
	if app == "" {
		app = AppUnknown
	}
	switch app {
	case AppHTTP:
		ss.serveHTTP()
	case AppTLS:
		ss.serveTLS()
	case AppStratum:
		ss.serveStratum()
	case AppSSH:
		ss.serveSSH()
	case AppIRC:
		ss.serveIRC()
	case AppSMTP:
		ss.serveSMTP()
	case AppFTP:
		ss.serveFTP()
	case AppPOP3:
		ss.servePOP3()
	case AppDNS:
		ss.serveDNS()
	case AppShell:
		ss.serveShell(true)
	default:
		ss.serveUnknown()
	}
}

// banner is what a server on this port says first, or "".
func (ss *session) banner() string {
	host := ss.c.Host
	if host == "" {
		host = "mail.localdomain"
	}
	switch ss.c.DstPort {
	case 22, 2222:
		return sshBanner
	case 21:
		return "220 (vsFTPd 3.0.3)\r\n"
	case 25, 465, 587, 2525:
		return fmt.Sprintf("220 %s ESMTP Postfix (Debian/GNU)\r\n", clean(host, 255))
	case 110:
		return "+OK POP3 server ready\r\n"
	case 143:
		return "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] IMAP4rev1 Service Ready\r\n"
	case 6667, 6668, 6669, 7000:
		return ":irc.localdomain NOTICE * :*** Looking up your hostname...\r\n"
	}
	return ""
}

// serveUnknown reads what the client sends until it stops. A client that
// sent text and then waits for an answer may be a reverse shell that
// greeted its operator: it gets the shell command too.
func (ss *session) serveUnknown() {
	cfg := ss.s.cfg
	text := true
	var buf [4096]byte
	for {
		ss.wait(cfg.IdleTimeout)
		n, err := ss.br.Read(buf[:])
		text = text && isText(buf[:n])
		if err != nil {
			if isTimeout(err) && text && ss.m.in > 0 {
				ss.serveShell(false)
			}
			return
		}
	}
}

// serveDNS answers DNS over TCP: messages with a 2-byte length prefix.
func (ss *session) serveDNS() {
	ss.c.App = AppDNS
	var src netip.AddrPort
	if a := ss.conn.RemoteAddr(); a != nil {
		src, _ = netip.ParseAddrPort(a.String())
	}
	var lenBuf [2]byte
	for range 64 {
		ss.wait(ss.s.cfg.IdleTimeout)
		if _, err := io.ReadFull(ss.br, lenBuf[:]); err != nil {
			return
		}
		msg := make([]byte, int(lenBuf[0])<<8|int(lenBuf[1]))
		if _, err := io.ReadFull(ss.br, msg); err != nil {
			return
		}
		reply := ss.s.HandleDNS(ss.ctx, msg, src, ss.orig)
		if reply == nil {
			return
		}
		out := append([]byte{byte(len(reply) >> 8), byte(len(reply))}, reply...)
		if ss.write(out) != nil {
			return
		}
	}
}

// clean makes untrusted bytes a record string: valid UTF-8 (bad bytes
// become U+FFFD), at most max bytes.
func clean(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	// Replacements grew it: cut again at a rune boundary.
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// isText reports whether b looks like terminal text: printable ASCII,
// whitespace, escape sequences and UTF-8.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x1b && c != '\b' && c != 0x07 {
			return false
		}
		if c == 0x7f {
			return false
		}
	}
	return true
}
