package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestCredentialRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "sudo cat /etc/shadow", rule: "credential.shadow", want: true,
			run: sh("sudo cat /etc/shadow > /tmp/x").spawn(1, 10, "/usr/bin/sudo", "sudo", "cat", "/etc/shadow").open(10, "/etc/shadow", rdonly).
				spawn(10, 11, "/usr/bin/cat", "cat", "/etc/shadow").open(11, "/etc/shadow", rdonly).done()},
		{name: "shell builtin redirection reads shadow", rule: "credential.shadow", want: true,
			run: sh("while read l; do echo $l; done < /etc/shadow").open(1, "/etc/shadow", rdonly).done()},
		{name: "non-root attempt refused", rule: "credential.shadow", want: true,
			run: sh("cat /etc/shadow").spawn(1, 10, "/bin/cat", "cat", "/etc/shadow").openFail(10, "/etc/shadow", rdonly, 13).done()},
		{name: "benign: sudo reads shadow through PAM", rule: "credential.shadow", want: false,
			run: sh("sudo id").spawn(1, 10, "/usr/bin/sudo", "sudo", "id").open(10, "/etc/shadow", rdonly).spawn(10, 11, "/usr/bin/id", "id").done()},
		{name: "benign: su to postgres", rule: "credential.shadow", want: false,
			run: sh("su postgres -c x").spawn(1, 10, "/bin/su", "su", "postgres", "-c", "x").open(10, "/etc/shadow", rdonly).done()},
		{name: "benign: useradd rewrites shadow", rule: "credential.shadow", want: false,
			run: sh("useradd app").spawn(1, 10, "/usr/sbin/useradd", "useradd", "app").open(10, "/etc/shadow", rdonly).open(10, "/etc/shadow+", wr).done()},

		{name: "dd of /proc/pid/mem", rule: "credential.proc-memory", want: true,
			run: sh("x").spawn(1, 10, "/bin/dd", "dd", "if=/proc/42/mem", "of=/tmp/m.bin").open(10, "/proc/42/mem", rdonly).done()},
		{name: "benign: reading own status", rule: "credential.proc-memory", want: false,
			run: sh("x").open(1, "/proc/self/status", rdonly).open(1, "/proc/1/stat", rdonly).done()},

		{name: "grep -ri password /", rule: "credential.files", want: true,
			run: sh("grep -ri password /").spawn(1, 10, "/bin/grep", "grep", "-ri", "password", "/").done()},
		{name: "aws credentials read by a stealer", rule: "credential.files", want: true,
			run: newRun("/usr/local/bin/credtheft").open(1, "/root/.aws/credentials", rdonly).open(1, "/root/.docker/config.json", rdonly).done()},
		{name: "benign: aws cli reads its own credentials", rule: "credential.files", want: false,
			run: sh("aws s3 ls").spawn(1, 10, "/usr/local/bin/aws", "aws", "s3", "ls").open(10, "/root/.aws/credentials", rdonly).done()},
		{name: "benign: grep -r for a function name", rule: "credential.files", want: false,
			run: sh("x").spawn(1, 10, "/bin/grep", "grep", "-rn", "main", "/app").done()},

		{name: "cat ~/.bash_history", rule: "credential.shell-history", want: true,
			run: sh("cat ~/.bash_history | grep pass").spawn(1, 10, "/bin/cat", "cat", "/root/.bash_history").open(10, "/root/.bash_history", rdonly).done()},
		{name: "benign: interactive bash loads its history", rule: "credential.shell-history", want: false,
			run: newRun("/bin/bash").open(1, "/root/.bash_history", rdonly).done()},

		{name: "find / -name id_rsa -exec cp", rule: "credential.private-keys", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/", "-name", "id_rsa", "-exec", "cp", "--parents", "{}", "/tmp/s", ";").
				spawn(10, 11, "/bin/cp", "cp", "--parents", "/root/.ssh/id_rsa", "/tmp/s").open(11, "/root/.ssh/id_rsa", rdonly).done()},
		{name: "benign: sshd host key generation and start", rule: "credential.private-keys", want: false,
			run: sh("ssh-keygen -A && sshd -D").spawn(1, 10, "/usr/bin/ssh-keygen", "ssh-keygen", "-A").open(10, "/etc/ssh/ssh_host_ed25519_key", wr).
				spawn(1, 11, "/usr/sbin/sshd", "sshd", "-D").open(11, "/etc/ssh/ssh_host_ed25519_key", rdonly).done()},
		{name: "benign: openssl writes the app key", rule: "credential.private-keys", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/openssl", "openssl", "req", "-x509", "-keyout", "/etc/ssl/private/app.key").open(10, "/etc/ssl/private/app.key", wr).done()},

		{name: "IMDS connect refused", rule: "credential.cloud-metadata", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "http://169.254.169.254/latest/api/token").connect(10, "169.254.169.254", 80, 101).done()},
		{name: "benign: service on a private address", rule: "credential.cloud-metadata", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "http://10.0.0.5/").connect(10, "10.0.0.5", 80, 0).done()},

		{name: "service account token read by curl", rule: "credential.container-api", want: true,
			run: sh("x").spawn(1, 10, "/bin/cat", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token").open(10, "/var/run/secrets/kubernetes.io/serviceaccount/token", rdonly).done()},

		{name: "tcpdump capture refused", rule: "credential.sniffing", want: true,
			run: sh("tcpdump -c 5 -i ens33").spawn(1, 10, "/usr/bin/tcpdump", "tcpdump", "-c", "5", "-nnni", "ens33").socket(10, afPacket, sockRaw, 0, 1).done()},
		{name: "benign: tcpdump --version", rule: "credential.sniffing", want: false,
			run: sh("tcpdump --version").spawn(1, 10, "/usr/bin/tcpdump", "tcpdump", "--version").done()},

		{name: "bash DEBUG trap keylogger", rule: "credential.keylogging", want: true,
			run: newRun("/bin/bash", "-c", `trap 'echo "$(date) $USER $BASH_COMMAND" >> /tmp/.keyboard.log' DEBUG; echo hi`).done()},

		{name: "DEBUG trap in a script: the shell appends each command line before running it", rule: "credential.keylogging", want: true, tech: "T1056.001",
			run: func() *trace.Run {
				b := newRun("/bin/sh", "-c", "/bin/bash /opt/t.sh").spawn(1, 2, "/usr/bin/bash", "/bin/bash", "/opt/t.sh").open(2, "/opt/t.sh", rdonly).
					open(2, "/tmp/.k.log", appendF).open(2, "/tmp/.k.log", appendF).
					spawn(2, 7, "/usr/bin/cat", "cat", "/tmp/.k.log").file("/tmp/.k.log", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/tmp/.k.log", Data: []byte("23/11/26 15:13:09 root echo \"Hello\"\n23/11/26 15:13:09 root cat /tmp/.k.log\n")}}
				return b.done()
			}()},
		{name: "benign: a script appends progress messages to its log", rule: "credential.keylogging", want: false,
			run: func() *trace.Run {
				b := newRun("/bin/sh", "-c", "/bin/sh /opt/build.sh").spawn(1, 2, "/usr/bin/dash", "/bin/sh", "/opt/build.sh").
					open(2, "/var/log/build.log", appendF).spawn(2, 7, "/usr/bin/tar", "tar", "czf", "/srv/site.tgz", "/srv/site").
					open(2, "/var/log/build.log", appendF).file("/var/log/build.log", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/var/log/build.log", Data: []byte("packing the site\ndone\n")}}
				return b.done()
			}()},
		{name: "benign: ps output appended twice to a file", rule: "credential.keylogging", want: false,
			run: func() *trace.Run {
				b := newRun("/bin/sh", "-c", "/bin/sh /opt/t.sh").spawn(1, 2, "/usr/bin/dash", "/bin/sh", "/opt/t.sh").
					open(2, "/tmp/loot.txt", appendF).spawn(2, 3, "/usr/bin/ps", "ps").
					open(2, "/tmp/loot.txt", appendF).spawn(2, 4, "/usr/bin/ps", "ps", "aux").file("/tmp/loot.txt", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/tmp/loot.txt", Data: []byte("root 4 0.0 0.0 ps aux\n")}}
				return b.done()
			}()},
		{name: "benign: a script assembled with echo >> and then run", rule: "credential.keylogging", want: false,
			run: func() *trace.Run {
				b := newRun("/bin/sh", "-c", "/bin/bash /opt/t.sh").spawn(1, 2, "/usr/bin/bash", "/bin/bash", "/opt/t.sh").
					open(2, "/tmp/p.sh", appendF).open(2, "/tmp/p.sh", appendF).
					spawn(2, 5, "/usr/bin/bash", "bash", "/tmp/p.sh").spawn(5, 6, "/usr/bin/uname", "uname", "-a").file("/tmp/p.sh", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/tmp/p.sh", Data: []byte("#!/bin/bash\nuname -a\n")}}
				return b.done()
			}()},
		{name: "PROMPT_COMMAND logger written into ~/.bashrc", rule: "credential.keylogging", want: true,
			run: func() *trace.Run {
				b := sh("x").open(1, "/root/.bashrc", appendF).file("/root/.bashrc", trace.FileModified, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/root/.bashrc", Data: []byte("alias ll='ls -l'\nPROMPT_COMMAND='history -a >(tee -a /tmp/.h >/dev/null)'\n")}}
				return b.done()
			}()},
		{name: "DEBUG trap logging $BASH_COMMAND written into /etc/profile.d", rule: "credential.keylogging", want: true,
			run: func() *trace.Run {
				b := sh("x").open(1, "/etc/profile.d/z.sh", wr).file("/etc/profile.d/z.sh", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/etc/profile.d/z.sh", Data: []byte("trap 'echo \"$BASH_COMMAND\" >> /var/tmp/.l' DEBUG\n")}}
				return b.done()
			}()},
		{name: "benign: ~/.bashrc sets a PROMPT_COMMAND for the title", rule: "credential.keylogging", want: false,
			run: func() *trace.Run {
				b := sh("x").open(1, "/root/.bashrc", appendF).file("/root/.bashrc", trace.FileModified, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/root/.bashrc", Data: []byte("PROMPT_COMMAND='echo -ne \"\\033]0;${USER}@${HOSTNAME}\\007\"'\n")}}
				return b.done()
			}()},

		{name: "firefox logins read", rule: "credential.browser", want: true, tech: "T1555.003",
			run: sh("x").spawn(1, 10, "/bin/cp", "cp", "/root/.mozilla/firefox/a.default/logins.json", "/tmp/").open(10, "/root/.mozilla/firefox/a.default/logins.json", rdonly).done()},

		{name: "ccache read", rule: "credential.kerberos", want: true,
			run: sh("x").spawn(1, 10, "/bin/cat", "cat", "/tmp/krb5cc_0").open(10, "/tmp/krb5cc_0", rdonly).done()},

		{name: "unshadow", rule: "credential.cracking", want: true, tech: "T1003.008",
			run: sh("x").spawn(1, 10, "/usr/sbin/unshadow", "unshadow", "/etc/passwd", "/etc/shadow").done()},
	})
}

var _ = trace.KindOpen
