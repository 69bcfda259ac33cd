package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestPersistenceRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "shell redirection into /etc/cron.d", rule: "persistence.cron", want: true,
			run: sh("echo x > /etc/cron.d/persistevil").open(1, "/etc/cron.d/persistevil", wr).done()},
		{name: "crontab FILE", rule: "persistence.cron", want: true,
			run: sh("crontab /tmp/p").spawn(1, 10, "/usr/bin/crontab", "crontab", "/tmp/p").open(10, "/var/spool/cron/crontabs/tmp.X", wr).done()},
		{name: "busybox crontab - on a busybox rootfs", rule: "persistence.cron", want: true,
			run: sh("x").spawn(1, 10, "/bin/busybox", "crontab", "-").done()},
		{name: "write attempt refused on busybox (no /etc/cron.d)", rule: "persistence.cron", want: true,
			run: sh("x").openFail(1, "/etc/cron.d/x", wr, 2).done()},
		{name: "benign: cron daemon reads schedules", rule: "persistence.cron", want: false,
			run: sh("cron -f").spawn(1, 10, "/usr/sbin/cron", "cron", "-f").open(10, "/etc/crontab", rdonly).open(10, "/etc/cron.d/e2scrub_all", rdonly).open(10, "/run/crond.pid", wr).done()},
		{name: "benign: package install drops a cron.d file", rule: "persistence.cron", want: false,
			run: sh("apt-get install -y logrotate").spawn(1, 10, "/usr/bin/apt-get", "apt-get", "install").spawn(10, 11, "/usr/bin/dpkg", "dpkg", "--unpack").open(11, "/etc/cron.daily/logrotate", wr).done()},
		{name: "benign: crontab -l", rule: "persistence.cron", want: false,
			run: sh("crontab -l").spawn(1, 10, "/usr/bin/crontab", "crontab", "-l").done()},

		{name: "unit written in /etc/systemd/system", rule: "persistence.systemd-service", want: true,
			run: sh("x").open(1, "/etc/systemd/system/art.service", wr).done()},
		{name: "systemctl enable made a wants link", rule: "persistence.systemd-service", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/systemctl", "systemctl", "enable", "art.service").symlink("/etc/systemd/system/default.target.wants/art.service", "/etc/systemd/system/art.service").done()},
		{name: "timer written and enabled", rule: "persistence.systemd-timer", want: true,
			run: sh("x").open(1, "/etc/systemd/system/art.timer", wr).spawn(1, 10, "/usr/bin/systemctl", "systemctl", "enable", "art.timer").done()},
		{name: "benign: systemctl enable during a package install", rule: "persistence.systemd-service", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/dpkg", "dpkg", "--configure", "-a").spawn(10, 11, "/usr/bin/systemctl", "systemctl", "enable", "nginx.service").done()},

		{name: "append to ~/.bashrc", rule: "persistence.shell-rc", want: true,
			run: sh("echo x >> ~/.bashrc").open(1, "/root/.bashrc", appendF).done()},
		{name: "profile.d script", rule: "persistence.shell-rc", want: true,
			run: sh("x").open(1, "/etc/profile.d/x.sh", wr).done()},
		{name: "benign: useradd copies the skeleton", rule: "persistence.shell-rc", want: false,
			run: sh("useradd -m app").spawn(1, 10, "/usr/sbin/useradd", "useradd", "-m", "app").open(10, "/home/app/.bashrc", wr).done()},
		{name: "benign: bash reads ~/.bashrc", rule: "persistence.shell-rc", want: false,
			run: newRun("/bin/bash", "-i").open(1, "/root/.bashrc", rdonly).done()},

		{name: "authorized_keys rewritten", rule: "persistence.ssh-authorized-keys", want: true,
			run: sh("x").open(1, "/root/.ssh/authorized_keys", wr).done()},
		{name: "benign: sshd host keys generated", rule: "persistence.ssh-authorized-keys", want: false,
			run: sh("ssh-keygen -A").spawn(1, 10, "/usr/bin/ssh-keygen", "ssh-keygen", "-A").open(10, "/etc/ssh/ssh_host_ed25519_key", wr).done()},

		{name: "rc.local via sudo tee", rule: "persistence.rc-script", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sudo", "sudo", "tee", "/etc/rc.local").spawn(10, 11, "/usr/bin/tee", "tee", "/etc/rc.local").open(11, "/etc/rc.local", wr).done()},

		{name: ".pth written by a shell", rule: "persistence.python-hook", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/python3", "python3", "-m", "venv", "/tmp/e").open(1, "/tmp/e/lib/python3.11/site-packages/atomic_hook.pth", wr).done()},
		{name: "benign: venv's ensurepip writes setuptools' .pth", rule: "persistence.python-hook", want: false,
			run: sh("python3 -m venv /opt/app").spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/opt/app").
				spawn(10, 11, "/opt/app/bin/python3", "python3", "-Im", "ensurepip", "--upgrade").
				spawn(11, 12, "/opt/app/bin/python3", "python3", "-W", "ignore::DeprecationWarning", "-c", `import runpy; runpy.run_module("pip", run_name="__main__")`).
				open(12, "/opt/app/lib/python3.11/site-packages/distutils-precedence.pth", wr).done()},

		{name: "benign: venv's .pth in the fs diff, written by ensurepip's pip", rule: "persistence.python-hook", want: false,
			run: func() *trace.Run {
				b := sh("python3 -m venv /opt/app").spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/opt/app").
					spawn(10, 11, "/usr/bin/python3.11", "/opt/app/bin/python3", "-m", "ensurepip", "--upgrade", "--default-pip").
					spawn(11, 12, "/usr/bin/python3.11", "/opt/app/bin/python3", "-W", "ignore::DeprecationWarning", "-c", "import runpy\nimport sys\nrunpy.run_module(\"pip\", run_name=\"__main__\", alter_sys=True)").
					open(12, "/opt/app/lib/python3.11/site-packages/distutils-precedence.pth", wr|0o2000000).
					file("/opt/app/lib/python3.11/site-packages/distutils-precedence.pth", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/opt/app/lib/python3.11/site-packages/distutils-precedence.pth", Data: []byte("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled and __import__('_distutils_hack').add_shim(); \n")}}
				return b.done()
			}()},
		{name: "hook .pth next to a venv's own, written by the shell", rule: "persistence.python-hook", want: true, tech: "T1546.018",
			run: func() *trace.Run {
				b := sh("x").spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/tmp/e").
					open(1, "/tmp/e/lib/python3.11/site-packages/hook.pth", wr).
					file("/tmp/e/lib/python3.11/site-packages/hook.pth", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/tmp/e/lib/python3.11/site-packages/hook.pth", Data: []byte("import os; os.system('id > /tmp/p')\n")}}
				return b.done()
			}()},
		{name: "benign: .pth that only adds a directory to sys.path", rule: "persistence.python-hook", want: false,
			run: func() *trace.Run {
				b := sh("echo /srv/app/src > /usr/local/lib/python3.11/dist-packages/app.pth").open(1, "/usr/local/lib/python3.11/dist-packages/app.pth", wr).
					file("/usr/local/lib/python3.11/dist-packages/app.pth", trace.FileCreated, 0644)
				b.run.Artifacts = []trace.Artifact{{Name: "a1", Path: "/usr/local/lib/python3.11/dist-packages/app.pth", Data: []byte("/srv/app/src\n")}}
				return b.done()
			}()},

		{name: "ld.so.preload written", rule: "persistence.dynamic-linker", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sudo", "sudo", "sh", "-c", "echo /tmp/x.so > /etc/ld.so.preload").spawn(10, 11, "/bin/sh", "sh", "-c", "echo /tmp/x.so > /etc/ld.so.preload").open(11, "/etc/ld.so.preload", wr).done()},
		{name: "LD_PRELOAD from /tmp", rule: "persistence.dynamic-linker", want: true,
			run: sh("LD_PRELOAD=/tmp/x.so ls").withEnv("LD_PRELOAD=/tmp/x.so").spawn(1, 10, "/usr/bin/ls", "ls").done()},
		{name: "benign: jemalloc preload", rule: "persistence.dynamic-linker", want: false,
			run: sh("redis-server").withEnv("LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2").spawn(1, 10, "/usr/bin/redis-server", "redis-server").open(10, "/etc/ld.so.preload", rdonly).done()},

		{name: "pam.d edited by sed -i", rule: "persistence.pam", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sed", "sed", "-i", "1s,^,auth sufficient pam_succeed_if.so,g", "/etc/pam.d/su-l").open(10, "/etc/pam.d/sedAbc123", wr).done()},
		{name: "benign: sudo reads pam.d", rule: "persistence.pam", want: false,
			run: sh("sudo id").spawn(1, 10, "/usr/bin/sudo", "sudo", "id").open(10, "/etc/pam.d/sudo", rdonly).open(10, "/etc/shadow", rdonly).done()},

		{name: "insmod", rule: "persistence.kernel-module", want: true,
			run: sh("insmod /tmp/r.ko").spawn(1, 10, "/sbin/insmod", "insmod", "/tmp/r.ko").done()},
		{name: "init_module call", rule: "persistence.kernel-module", want: true,
			run: newRun("/escape").syscall(1, "init_module", 1, 0, 4, 0).done()},
		{name: "benign: modprobe -n dry run", rule: "persistence.kernel-module", want: false,
			run: sh("x").spawn(1, 10, "/sbin/modprobe", "modprobe", "-n", "ext4").done()},

		{name: "udev rule", rule: "persistence.udev", want: true, run: sh("x").open(1, "/etc/udev/rules.d/99-x.rules", wr).done()},
		{name: "xdg autostart", rule: "persistence.xdg-autostart", want: true, run: sh("x").open(1, "/root/.config/autostart/x.desktop", wr).done()},

		{name: "useradd", rule: "persistence.account-created", want: true, tech: "T1136.001",
			run: sh("x").spawn(1, 10, "/usr/sbin/useradd", "useradd", "-M", "-N", "-r", "-s", "/bin/bash", "evil").done()},
		{name: "uid 0 account by hand", rule: "persistence.account-created", want: true,
			run: sh("echo 'x:x:0:0::/:/bin/sh' >> /etc/passwd").open(1, "/etc/passwd", appendF).done()},
		{name: "benign: package maintainer script adds a system user", rule: "persistence.account-created", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/dpkg", "dpkg", "--configure", "postgresql").spawn(10, 11, "/usr/sbin/adduser", "adduser", "--system", "postgres").done()},

		{name: "created with a password then used", rule: "persistence.account-used", want: true,
			run: sh("x").spawn(1, 10, "/usr/sbin/useradd", "useradd", "--shell", "/bin/bash", "--password", "$1$x", "art").spawn(1, 11, "/usr/bin/su", "su", "art", "-c", "whoami").done()},
		{name: "benign: su to an existing service account", rule: "persistence.account-used", want: false,
			run: sh("x").spawn(1, 11, "/usr/bin/su", "su", "postgres", "-c", "initdb").done()},

		{name: "usermod -aG sudo", rule: "persistence.account-manipulation", want: true,
			run: sh("x").spawn(1, 10, "/usr/sbin/usermod", "usermod", "-aG", "sudo", "bob").done()},
		{name: "benign: usermod -aG www-data", rule: "persistence.account-manipulation", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/usermod", "usermod", "-aG", "www-data", "app").done()},

		{name: "php dropped in the web root", rule: "persistence.web-shell", want: true,
			run: sh("x").open(1, "/var/www/html/up.php", wr).done()},
		{name: "benign: static page written", rule: "persistence.web-shell", want: false,
			run: sh("x").open(1, "/srv/www/index.html", wr).done()},

		{name: "DEBUG trap", rule: "persistence.shell-trap", want: true,
			run: newRun("/bin/bash", "-c", `trap 'echo "$(date) $BASH_COMMAND" >> /tmp/.k.log' DEBUG; echo hi`).done()},
		{name: "benign: cleanup trap on TERM", rule: "persistence.shell-trap", want: false,
			run: newRun("/bin/sh", "-c", `trap 'kill $PID' TERM INT; app & PID=$!; wait`).done()},
	})
}

var _ = trace.FileCreated
