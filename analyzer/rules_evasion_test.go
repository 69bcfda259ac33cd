package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestEvasionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "echo | base64 -d | sh", rule: "evasion.decode-to-shell", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/base64", "base64", "-d").spawn(1, 11, "/bin/sh", "sh").done()},
		{name: "script decodes its own commands", rule: "evasion.decode-to-shell", want: true, tech: "T1027.010",
			run: newRun("/bin/sh", "-c", "echo ZWNobyBoaQ== | base64 -d | sh").done()},
		{name: "python exec of b64decode", rule: "evasion.decode-to-shell", want: true, tech: "T1140",
			run: sh("x").spawn(1, 10, "/usr/bin/python3", "python3", "-c", "import base64;exec(base64.b64decode('cHJpbnQoMSk='))").done()},
		{name: "benign: base64 encodes a file", rule: "evasion.decode-to-shell", want: false,
			run: sh("base64 /etc/hostname > /tmp/x").spawn(1, 10, "/usr/bin/base64", "base64", "/etc/hostname").done()},

		{name: "UPX-packed payload run", rule: "evasion.packed-binary", want: true, run: func() *trace.Run {
			b := newRun("/dropper").open(1, "/tmp/p", wr).spawn(1, 10, "/tmp/p", "/tmp/p")
			b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/tmp/p", Data: []byte("\x7fELF\x02\x01\x01\x00....UPX!....")}}
			return b.done()
		}()},
		{name: "benign: plain ELF", rule: "evasion.packed-binary", want: false, run: func() *trace.Run {
			b := newRun("/app").spawn(1, 10, "/usr/local/bin/hello-server", "hello-server")
			b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/usr/local/bin/hello-server", Data: []byte("\x7fELF\x02\x01\x01\x00 Go build ID")}}
			return b.done()
		}()},
		{name: "copy of sh named crond", rule: "evasion.renamed-utility", want: true,
			run: sh("cp /bin/sh /tmp/crond; /tmp/crond").spawn(1, 10, "/bin/cp", "cp", "/bin/sh", "/tmp/crond").
				add2(func(b *rb) {
					b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 11})
					b.add(trace.Event{Kind: trace.KindExec, PID: 11, Path: "/tmp/crond", Argv: []string{"/tmp/crond"}, SHA256: "sha-dash"})
				}).done()},
		{name: "benign: python3 and python3.11 are one binary", rule: "evasion.renamed-utility", want: false,
			run: sh("x").add2(func(b *rb) {
				b.add(trace.Event{Kind: trace.KindExec, PID: 1, Path: "/usr/bin/python3.11", Argv: []string{"python3"}, SHA256: "h"})
				b.add(trace.Event{Kind: trace.KindExec, PID: 1, Path: "/opt/venv/bin/python3", Argv: []string{"python3"}, SHA256: "h"})
			}).done()},

		{name: "run from ~/...", rule: "evasion.masquerade-location", want: true,
			run: sh("x").spawn(1, 10, "/root/.../sh", "/root/.../sh", "-c", "echo hi").done()},
		{name: "sshd in /tmp", rule: "evasion.masquerade-location", want: true,
			run: sh("x").spawn(1, 10, "/tmp/sshd", "sshd").done()},
		{name: "benign: the real sshd", rule: "evasion.masquerade-location", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/sshd", "sshd", "-D").done()},

		{name: "kernel thread name", rule: "evasion.masquerade-task", want: true,
			run: sh("x").spawn(1, 10, "/tmp/x", "[kworker/0:1]").done()},
		{name: "benign: busybox applets", rule: "evasion.masquerade-task", want: false,
			run: sh("x").spawn(1, 10, "/bin/busybox", "httpd", "-f").spawn(1, 11, "/proc/self/exe", "crond").done()},

		{name: "report.pdf.sh", rule: "evasion.double-extension", want: true,
			run: sh("x").spawn(1, 10, "/tmp/report.pdf.sh", "/tmp/report.pdf.sh").done()},
		{name: "benign: backup.tar.gz extracted", rule: "evasion.double-extension", want: false,
			run: sh("x").spawn(1, 10, "/bin/tar", "tar", "xzf", "backup.tar.gz").done()},

		{name: "sh image.png", rule: "evasion.file-type-masquerade", want: true,
			run: sh("x").spawn(1, 10, "/bin/sh", "sh", "/tmp/image.png").done()},
		{name: "benign: cat image.png", rule: "evasion.file-type-masquerade", want: false,
			run: sh("x").spawn(1, 10, "/bin/cat", "cat", "/tmp/image.png").done()},

		{name: "history linked to /dev/null", rule: "evasion.clear-history", want: true,
			run: sh("x").spawn(1, 10, "/bin/ln", "ln", "-sf", "/dev/null", "/root/.bash_history").symlink("/root/.bash_history", "/dev/null").done()},
		{name: "history truncated", rule: "evasion.clear-history", want: true,
			run: sh("x").open(1, "/root/.bash_history", wr).done()},
		{name: "benign: history appended", rule: "evasion.clear-history", want: false,
			run: sh("x").open(1, "/root/.bash_history", appendF).done()},

		{name: "HISTFILE=/dev/null in children's env", rule: "evasion.history-disabled", want: true,
			run: newRun("/bin/bash", "-c", "export HISTFILE=/dev/null; whoami").withEnv("HISTFILE=/dev/null").spawn(1, 10, "/usr/bin/whoami", "whoami").done()},
		{name: "benign: HISTFILE set by the image", rule: "evasion.history-disabled", want: false,
			run: func() *trace.Run {
				b := newRun("/app").withEnv("HISTFILE=/dev/null")
				b.run.Image.Env = []string{"HISTFILE=/dev/null"}
				return b.spawn(1, 10, "/bin/ls", "ls").done()
			}()},

		{name: "rm -rf / --no-preserve-root", rule: "evasion.file-deletion", want: true,
			run: sh("x").spawn(1, 10, "/bin/rm", "rm", "-rf", "/", "--no-preserve-root").done()},
		{name: "dropper deletes its payload", rule: "evasion.file-deletion", want: true,
			run: newRun("/dropper").open(1, "/tmp/p", wr).spawn(1, 10, "/tmp/p", "/tmp/p").syscall(1, "unlinkat", 0, 0xffffff9c, 0x1000, 0).file("/tmp/other", trace.FileCreated, 0644).done()},
		{name: "dropper deletes its payload, nothing else changed", rule: "evasion.file-deletion", want: true,
			run: newRun("/dropper").open(1, "/tmp/p", wr).spawn(1, 10, "/tmp/p", "/tmp/p").syscall(1, "unlinkat", 0, 0xffffff9c, 0x1000, 0).add2(func(b *rb) { b.run.Diffed = true }).done()},
		{name: "no diff taken: an unlink proves nothing", rule: "evasion.file-deletion", want: false,
			run: newRun("/dropper").open(1, "/tmp/p", wr).spawn(1, 10, "/tmp/p", "/tmp/p").syscall(1, "unlinkat", 0, 0xffffff9c, 0x1000, 0).done()},
		{name: "benign: temp file removed", rule: "evasion.file-deletion", want: false,
			run: sh("x").spawn(1, 10, "/bin/rm", "rm", "-f", "/tmp/build.lock").done()},

		{name: "rm of /var/log files", rule: "evasion.clear-logs", want: true,
			run: sh("x").spawn(1, 10, "/bin/rm", "rm", "-rf", "/var/log/messages").done()},
		{name: "log truncated by redirection", rule: "evasion.clear-logs", want: true,
			run: sh("> /var/log/auth.log").open(1, "/var/log/auth.log", wr).file("/var/log/auth.log", trace.FileModified, 0640).done()},
		{name: "benign: logrotate copytruncate", rule: "evasion.clear-logs", want: false,
			run: sh("logrotate -v /etc/logrotate.conf").spawn(1, 10, "/usr/sbin/logrotate", "logrotate", "-v", "/etc/logrotate.conf").
				open(10, "/var/log/app.log.1", wr).open(10, "/var/log/app.log", oWronly|oTrunc).spawn(10, 11, "/bin/gzip", "gzip", "/var/log/app.log.1").file("/var/log/app.log", trace.FileModified, 0644).done()},
		{name: "benign: nginx appends to its log", rule: "evasion.clear-logs", want: false,
			run: sh("nginx").spawn(1, 10, "/usr/sbin/nginx", "nginx").open(10, "/var/log/nginx/access.log", appendF).done()},

		{name: "touch -t", rule: "evasion.timestomp", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/touch", "touch", "-a", "-t", "197001010000.00", "/tmp/f").done()},
		{name: "benign: touch a marker", rule: "evasion.timestomp", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/touch", "touch", "/tmp/ready").done()},

		{name: "hidden dir and file in /var/tmp", rule: "evasion.hidden-files", want: true,
			run: sh("x").spawn(1, 10, "/bin/mkdir", "mkdir", "/var/tmp/.hidden").open(1, "/var/tmp/.hidden/.f", wr).done()},
		{name: "benign: postgres socket lock in /tmp", rule: "evasion.hidden-files", want: false,
			run: sh("x").open(1, "/tmp/.s.PGSQL.5432.lock", wr).open(1, "/root/.cache/pip/x", wr).done()},

		{name: "bind mount over /proc/pid", rule: "evasion.bind-mount-hide", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/mount", "mount", "-B", "/proc/7", "/proc/12").syscall(10, "mount", 0, 0, 0, 0, 4096, 0).done()},

		{name: "chattr -i", rule: "evasion.permissions", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/chattr", "chattr", "-i", "/var/spool/cron/root").done()},
		{name: "chmod 777 /etc/shadow", rule: "evasion.permissions", want: true,
			run: sh("x").spawn(1, 10, "/bin/chmod", "chmod", "777", "/etc/shadow").done()},
		{name: "benign: chmod of the app data dir", rule: "evasion.permissions", want: false,
			run: sh("x").spawn(1, 10, "/bin/chmod", "chmod", "0700", "/tmp/pgdata").done()},

		{name: "ASLR off by sysctl", rule: "evasion.disable-security", want: true,
			run: sh("x").spawn(1, 10, "/usr/sbin/sysctl", "sysctl", "-w", "kernel.randomize_va_space=0").open(10, "/proc/sys/kernel/randomize_va_space", wr).done()},
		{name: "benign: reading overcommit", rule: "evasion.disable-security", want: false,
			run: sh("x").open(1, "/proc/sys/vm/overcommit_memory", rdonly).open(1, "/proc/sys/kernel/randomize_va_space", rdonly).done()},

		{name: "iptables -F", rule: "evasion.disable-firewall", want: true, tech: "T1562.004",
			run: sh("x").spawn(1, 10, "/usr/sbin/iptables", "iptables", "-F").socket(10, 16, 3, 12, 93).done()},
		{name: "ufw rules edited", rule: "evasion.disable-firewall", want: true,
			run: sh("x").open(1, "/etc/ufw/user.rules", appendF).done()},
		{name: "benign: iptables -L", rule: "evasion.disable-firewall", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/iptables", "iptables", "-L", "-n").done()},
		{name: "iptables -F through the nft multi-call binary", rule: "evasion.disable-firewall", want: true, tech: "T1562.004",
			run: sh("x").spawn(1, 10, "/usr/sbin/xtables-nft-multi", "iptables", "-F").socket(10, 16, 3, 12, 93).done()},
		{name: "benign: iptables-save through the nft multi-call binary", rule: "evasion.disable-firewall", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/xtables-nft-multi", "iptables-save").socket(10, 16, 3, 12, 93).done()},

		{name: "auditctl -D", rule: "evasion.audit-tamper", want: true,
			run: sh("x").spawn(1, 10, "/sbin/auditctl", "auditctl", "-D").done()},

		{name: "root CA installed", rule: "evasion.root-ca", want: true,
			run: sh("x").spawn(1, 10, "/bin/mv", "mv", "rootCA.crt", "/usr/local/share/ca-certificates").spawn(1, 11, "/usr/sbin/update-ca-certificates", "update-ca-certificates").done()},
		{name: "benign: openssl self-signed leaf cert", rule: "evasion.root-ca", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/openssl", "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/etc/ssl/private/app.key", "-out", "/etc/ssl/certs/app.crt").
				open(10, "/etc/ssl/private/app.key", wr).open(10, "/etc/ssl/certs/app.crt", wr).done()},

		{name: "systemd-detect-virt", rule: "evasion.virtualization-checks", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/systemd-detect-virt", "systemd-detect-virt").done()},
		{name: "benign: dmidecode --version", rule: "evasion.virtualization-checks", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/dmidecode", "dmidecode", "--version").done()},

		{name: "ping as a timer then a command", rule: "evasion.time-delay", want: true,
			run: sh("ping -c 250 8.8.8.8 > /dev/null; whoami").spawn(1, 10, "/bin/ping", "ping", "-c", "250", "8.8.8.8").spawn(1, 11, "/usr/bin/whoami", "whoami").done()},
		{name: "benign: sleep infinity keeps the container up", rule: "evasion.time-delay", want: false,
			run: sh("app & sleep infinity").spawn(1, 10, "/bin/sleep", "sleep", "infinity").done()},
		{name: "benign: short sleep between steps", rule: "evasion.time-delay", want: false,
			run: sh("x").spawn(1, 10, "/bin/sleep", "sleep", "2").spawn(1, 11, "/usr/bin/curl", "curl", "http://127.0.0.1/").done()},

		{name: "exec from memfd", rule: "evasion.fileless-exec", want: true,
			run: newRun("/x").syscall(1, "memfd_create", 0, 0, 1).spawn(1, 10, "/memfd:payload (deleted)", "x").done()},
	})
}
