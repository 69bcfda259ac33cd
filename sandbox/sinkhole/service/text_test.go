package service

import (
	"bufio"
	"io"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestSSHClient(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("bastion.example:22")
	_, _, _, err := ssh.NewClientConn(conn, "bastion.example:22", &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("toor")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		ClientVersion:   "SSH-2.0-libssh_0.9.6",
		Timeout:         10 * time.Second,
	})
	if err == nil {
		t.Fatal("an SSH handshake with the sinkhole succeeded")
	}
	conn.Close()
	sn.wait()
	c := lastConn(t, s)
	if c.App != AppSSH || c.Banner != "SSH-2.0-libssh_0.9.6" || c.Host != "bastion.example" {
		t.Errorf("recorded %+v", c)
	}
	// The client went on to its key exchange: those bytes count too.
	if c.BytesIn <= int64(len("SSH-2.0-libssh_0.9.6\r\n")) || c.BytesOut != int64(len(sshBanner)) {
		t.Errorf("bytes in %d out %d", c.BytesIn, c.BytesOut)
	}
}

// TestServerSpeaksFirst checks the banners sent to clients that wait for
// the server, and that the client's answer is recognised afterwards.
func TestServerSpeaksFirst(t *testing.T) {
	tests := []struct {
		port   string
		banner string
		reply  string
		app    string
	}{
		{"22", sshBanner, "SSH-2.0-PuTTY_Release_0.78\r\n", AppSSH},
		{"21", "220 (vsFTPd 3.0.3)\r\n", "USER anonymous\r\n", AppFTP},
		{"110", "+OK POP3 server ready\r\n", "USER bob\r\n", AppPOP3},
		{"6667", ":irc.localdomain NOTICE * :*** Looking up your hostname...\r\n", "NICK bot\r\n", AppIRC},
		{"25", "220 mx.target.example ESMTP Postfix (Debian/GNU)\r\n", "EHLO x\r\n", AppSMTP},
	}
	for _, tt := range tests {
		t.Run(tt.port, func(t *testing.T) {
			s := newService(t, testConfig())
			sn := newSandboxNet(t, s)
			conn := sn.dial("mx.target.example:" + tt.port)
			r := bufio.NewReader(conn)
			line, err := r.ReadString('\n')
			if err != nil || line != tt.banner {
				t.Fatalf("banner %q, %v; want %q", line, err, tt.banner)
			}
			io.WriteString(conn, tt.reply)
			r.ReadString('\n')
			conn.Close()
			sn.wait()
			if c := lastConn(t, s); c.App != tt.app || c.Banner != strings.TrimSpace(tt.reply) {
				t.Errorf("recorded app %q banner %q", c.App, c.Banner)
			}
		})
	}
}

func TestIRCBot(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("irc.botnet.example:6667")
	r := bufio.NewReader(conn)
	expect := func(send, want string) {
		t.Helper()
		io.WriteString(conn, send)
		if want == "" {
			return
		}
		for {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v, waiting for %q", send, err, want)
			}
			if strings.Contains(line, want) {
				return
			}
		}
	}
	expect("NICK x86|4f2a\r\n", "")
	expect("USER x86 0 * :bot\r\n", " 001 x86|4f2a ")
	expect("JOIN #c2,#loot key\r\n", ":x86|4f2a!x86|4f2a@sandbox JOIN :#loot")
	expect("PING :123456\r\n", "PONG irc.localdomain :123456")
	expect("QUIT :bye\r\n", "ERROR")
	conn.Close()
	sn.wait()
	if c := lastConn(t, s); c.App != AppIRC || c.Banner != "NICK x86|4f2a" || !strings.Contains(string(c.FirstData), "JOIN #c2,#loot") {
		t.Errorf("recorded %+v", c)
	}
}

func TestSMTPClient(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("mx.victim.example:25")
	c, err := smtp.NewClient(conn, "mx.victim.example")
	must(t, err)
	must(t, c.Hello("bot.localdomain"))
	if ok, _ := c.Extension("AUTH"); !ok {
		t.Error("no AUTH offered")
	}
	must(t, c.Mail("spam@bot.example"))
	must(t, c.Rcpt("victim@victim.example"))
	w, err := c.Data()
	must(t, err)
	io.WriteString(w, "Subject: invoice\r\n\r\nsee attached\r\n")
	must(t, w.Close())
	must(t, c.Quit())
	sn.wait()
	got := lastConn(t, s)
	if got.App != AppSMTP || got.Banner != "EHLO bot.localdomain" || !strings.Contains(string(got.FirstData), "RCPT TO:<victim@victim.example>") {
		t.Errorf("recorded %+v", got)
	}
}

// TestDialogs drives the line protocols line by line.
func TestDialogs(t *testing.T) {
	tests := []struct {
		name, addr string
		lines      [][2]string // sent, wanted prefix of the answer
		app        string
	}{
		{"ftp", "files.example:21", [][2]string{
			{"USER anonymous", "331 "}, {"PASS guest@", "230 "}, {"SYST", "215 "}, {"PASV", "425 "},
			{"RETR x", "425 "}, {"BOGUS", "500 "}, {"QUIT", "221 "},
		}, AppFTP},
		{"pop3", "mail.example:110", [][2]string{
			{"USER bob", "+OK"}, {"PASS hunter2", "+OK"}, {"STAT", "+OK 0 0"}, {"XYZ", "-ERR"}, {"QUIT", "+OK"},
		}, AppPOP3},
		{"smtp auth login", "mail.example:587", [][2]string{
			{"EHLO a", "250-"}, {"AUTH LOGIN", "334 VXNlcm5hbWU6"}, {"dXNlcg==", "334 UGFzc3dvcmQ6"}, {"cGFzcw==", "235 "},
			{"AUTH PLAIN", "334 "}, {"AHVzZXIAcGFzcw==", "235 "}, {"STARTTLS", "454 "}, {"QUIT", "221 "},
		}, AppSMTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, testConfig())
			sn := newSandboxNet(t, s)
			conn := sn.dial(tt.addr)
			r := bufio.NewReader(conn)
			banner, err := r.ReadString('\n')
			must(t, err)
			if banner == "" {
				t.Fatal("no banner")
			}
			for _, l := range tt.lines {
				io.WriteString(conn, l[0]+"\r\n")
				got := readReply(t, r)
				if !strings.HasPrefix(got, l[1]) {
					t.Errorf("%q answered %q, want %q...", l[0], got, l[1])
				}
			}
			conn.Close()
			sn.wait()
			if c := lastConn(t, s); c.App != tt.app {
				t.Errorf("recorded as %q", c.App)
			}
		})
	}
}

// readReply reads one reply, multi-line ones (250-...) whole.
func readReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var out string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a reply: %v (so far %q)", err, out)
		}
		out += line
		if len(line) < 4 || line[3] != '-' {
			return out
		}
	}
}

func TestCommandAndToken(t *testing.T) {
	if cmd, rest := command("  nick  Foo bar \r"); cmd != "NICK" || rest != "Foo bar" {
		t.Errorf("command: %q %q", cmd, rest)
	}
	if got := token("#chan\r\n:evil,x\x00y", 64); got != "#chanevilxy" {
		t.Errorf("token = %q", got)
	}
	if got := token(strings.Repeat("n", 100), 32); len(got) != 32 {
		t.Errorf("token not capped: %d bytes", len(got))
	}
}
