package service

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeShell plays the sandbox's side of a reverse shell without running
// one: it prints greeting, then answers each line it is sent with answer's
// text, and hangs up after "exit" (as sh would). Lines it got are sent on
// the returned channel.
func fakeShell(conn net.Conn, greeting string, answer func(cmd string) string) <-chan string {
	got := make(chan string, 16)
	go func() {
		defer close(got)
		defer conn.Close()
		if greeting != "" {
			io.WriteString(conn, greeting)
		}
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			got <- line
			if out := answer(line); out != "" {
				io.WriteString(conn, out)
			}
			if strings.Contains(line, "exit") {
				return
			}
		}
	}()
	return got
}

const idOutput = "uid=0(root) gid=0(root) groups=0(root)\nLinux sandbox 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016 x86_64 GNU/Linux\n"

func posixShell(cmd string) string {
	if strings.HasPrefix(cmd, "id; uname -a") {
		return idOutput
	}
	return "sh: 1: " + strings.TrimSpace(cmd) + ": not found\n"
}

func TestReverseShell(t *testing.T) {
	tests := []struct {
		name      string
		greeting  string
		answer    func(string) string
		wantShell bool
	}{
		{"sh -i prompt", "sh-5.2# ", posixShell, true},
		{"busybox prompt", "/ # ", posixShell, true},
		{"bash -i on a socket", "bash: cannot set terminal process group (1): Inappropriate ioctl for device\nbash: no job control in this shell\nroot@4f2a81c0d3:/# ", posixShell, true},
		{"no prompt", "", posixShell, true},
		{"greets its operator", "[+] connected from sandbox\n", posixShell, true},
		{"prompt, answers nothing", "$ ", func(string) string { return "" }, true},
		{"silent and mute", "", func(string) string { return "" }, false},
		{"client that objects", "", func(string) string { return "QUIT\r\n" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, testConfig())
			sn := newSandboxNet(t, s)
			got := fakeShell(sn.dial("198.51.100.66:4444"), tt.greeting, tt.answer)
			sn.wait()
			first := <-got
			if first != defaultShellCommand {
				t.Errorf("the shell was sent %q", first)
			}
			c := lastConn(t, s)
			if !tt.wantShell {
				if c.App == AppShell || c.Shell != nil {
					t.Errorf("recorded as a shell: %+v", c)
				}
				return
			}
			if c.App != AppShell || c.Shell == nil || c.Shell.Sent != defaultShellCommand || c.Shell.Received != tt.answer(first) {
				t.Errorf("recorded %+v %+v", c, c.Shell)
			}
			if string(c.FirstData) != tt.greeting+tt.answer(first) {
				t.Errorf("first data %q", c.FirstData)
			}
		})
	}
}

// TestReverseShellCutGreeting: busybox ash's greeting can arrive cut
// mid-line by the network; the sinkhole must read on before judging.
func TestReverseShellCutGreeting(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("198.51.100.66:4444")
	io.WriteString(conn, "/bin/sh: can't access tty; job co")
	time.Sleep(200 * time.Millisecond)
	got := fakeShell(conn, "ntrol turned off\n\nBusyBox v1.35.0 built-in shell (ash)\n\n/ # ", posixShell)
	sn.wait()
	if first := <-got; first != defaultShellCommand {
		t.Errorf("the shell was sent %q", first)
	}
	if c := lastConn(t, s); c.App != AppShell || c.Shell == nil || !strings.Contains(c.Shell.Received, idOutput) {
		t.Errorf("recorded %+v %+v", c, c.Shell)
	}
}

func TestShellCommandConfig(t *testing.T) {
	cfg := testConfig()
	cfg.ShellCommand = "cat /etc/hostname\n"
	s := newService(t, cfg)
	sn := newSandboxNet(t, s)
	got := fakeShell(sn.dial("198.51.100.66:443"), "", func(cmd string) string { return cmd + "sandbox\n" })
	sn.wait()
	if cmd := <-got; cmd != cfg.ShellCommand {
		t.Errorf("sent %q", cmd)
	}
	// A pty echoes the command: that is a shell's reply too.
	if c := lastConn(t, s); c.App != AppShell || c.Shell.Received != "cat /etc/hostname\nsandbox\n" {
		t.Errorf("recorded %+v", c)
	}
}

func TestLooksLikePrompt(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"$ ", true},
		{"sh-5.2$ ", true},
		{"root@host:~# ", true},
		{">>> ", true},
		{"\x1b[01;32muser@box\x1b[00m:\x1b[01;34m~\x1b[00m$ ", true},
		{"motd\nlast login\nbox% ", true},
		{"bash: no job control in this shell\n", true},
		{"/bin/sh: can't access tty; job control turned off\n", true},
		{"$", false},
		{"HTTP/1.1 200 OK\r\n", false},
		{"price: 5 $ \x00", false},
		{"", false},
		{strings.Repeat("x", 300) + "$ ", false},
	}
	for _, tt := range tests {
		if got := looksLikePrompt([]byte(tt.in)); got != tt.want {
			t.Errorf("looksLikePrompt(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikeShellReply(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{idOutput, true},
		{"sh: 1: id;: not found\n", true},
		{"id; uname -a; exit\r\n", true},
		{"# ", true},
		{"QUIT\r\n", false},
		{"-ERR unknown command\r\n", false},
		{"\x00\x01uid=", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeShellReply([]byte(tt.in), defaultShellCommand); got != tt.want {
			t.Errorf("looksLikeShellReply(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
