package analyzer

import (
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

func TestImpactRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "stratum login with a wallet", rule: "impact.miner", want: true, tech: "T1496",
			run: newRun("/miner").dns("pool.minexmr.example", "NOERROR").conn(trace.Conn{Proto: "tcp", DstIP: "203.0.113.5", DstPort: 3333, App: "stratum",
				Stratum: &trace.StratumInfo{Methods: []string{"login"}, Wallet: "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge", Agent: "XMRig/6.21.0"}}).done()},
		{name: "xmrig with a pool url", rule: "impact.miner", want: true,
			run: sh("x").spawn(1, 10, "/tmp/xmrig", "xmrig", "-o", "stratum+tcp://pool.example:3333", "-u", "w").done()},
		{name: "pool port while the CPU burns", rule: "impact.miner", want: true,
			run: newRun("/miner").connect(1, "203.0.113.5", 3333, 101).resources(10, 9.5, false).done()},
		{name: "benign: pool port with an idle CPU", rule: "impact.miner", want: false,
			run: newRun("/app").connect(1, "203.0.113.5", 3333, 101).resources(10, 0.5, false).done()},

		{name: "dd zeros over an existing log", rule: "impact.data-destruction", want: true, tech: "T1485",
			run: sh("x").spawn(1, 10, "/bin/dd", "dd", "of=/var/log/syslog", "if=/dev/zero", "count=54", "iflag=count_bytes").file("/var/log/syslog", trace.FileModified, 0640).done()},
		{name: "dd zeros over a log written earlier in the run", rule: "impact.data-destruction", want: true, tech: "T1485",
			run: sh("x").open(1, "/var/log/app.log", wr).spawn(1, 10, "/bin/dd", "dd", "of=/var/log/app.log", "if=/dev/zero", "count=54", "iflag=count_bytes").
				open(10, "/dev/zero", rdonly).open(10, "/var/log/app.log", wr).file("/var/log/app.log", trace.FileCreated, 0644).done()},
		{name: "benign: dd fills a file touch just made", rule: "impact.data-destruction", want: false,
			run: sh("x").spawn(1, 9, "/usr/bin/touch", "touch", "/srv/disk.img").open(9, "/srv/disk.img", oWronly|oCreat).
				spawn(1, 10, "/bin/dd", "dd", "if=/dev/zero", "of=/srv/disk.img", "bs=1M", "count=4").open(10, "/srv/disk.img", wr).file("/srv/disk.img", trace.FileCreated, 0644).done()},
		{name: "benign: dd creates a new image file", rule: "impact.data-destruction", want: false,
			run: sh("x").spawn(1, 10, "/bin/dd", "dd", "if=/dev/zero", "of=/srv/disk.img", "bs=1M", "count=4").open(10, "/srv/disk.img", wr).file("/srv/disk.img", trace.FileCreated, 0644).done()},
		{name: "dd over a disk", rule: "impact.data-destruction", want: true, tech: "T1561.001",
			run: sh("x").spawn(1, 10, "/bin/dd", "dd", "if=/dev/zero", "of=/dev/sda", "bs=1M").done()},
		{name: "benign: dd makes a scratch file", rule: "impact.data-destruction", want: false,
			run: sh("x").spawn(1, 10, "/bin/dd", "dd", "if=/dev/urandom", "of=/tmp/T/rand", "bs=1M", "count=25").done()},

		{name: "ccencrypt replaces a file", rule: "impact.encryption", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/ccencrypt", "ccencrypt", "-T", "-K", "passwd", "/tmp/passwd").done()},
		{name: "files replaced by .locked copies", rule: "impact.encryption", want: true,
			run: sh("x").file("/srv/data/a.csv", trace.FileDeleted, 0644).file("/srv/data/a.csv.locked", trace.FileCreated, 0644).done()},
		{name: "benign: gpg --version", rule: "impact.encryption", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/gpg", "gpg", "--version").done()},

		{name: "killall cron", rule: "impact.service-stop", want: true,
			run: sh("sudo killall -SIGTERM cron").spawn(1, 10, "/usr/bin/sudo", "sudo", "killall", "-SIGTERM", "cron").spawn(10, 11, "/usr/bin/killall", "killall", "-SIGTERM", "cron").syscall(11, "pidfd_send_signal", 0, 4, 15).done()},
		{name: "pkill through pgrep's symlink", rule: "impact.service-stop", want: true, tech: "T1489",
			run: sh("sudo pkill -SIGTERM ^cron$").spawn(1, 10, "/usr/bin/sudo", "sudo", "pkill", "-SIGTERM", "^cron$").spawn(10, 11, "/usr/bin/pgrep", "pkill", "-SIGTERM", "^cron$").syscall(11, "kill", 0, 4, 15).done()},
		{name: "benign: pgrep looks for cron", rule: "impact.service-stop", want: false,
			run: sh("pgrep -x cron").spawn(1, 10, "/usr/bin/pgrep", "pgrep", "-x", "cron").done()},
		{name: "benign: kill of its own child", rule: "impact.service-stop", want: false,
			run: sh("app & kill $!").spawn(1, 10, "/app", "app").syscall(1, "kill", 0, 10, 15).done()},

		{name: "reboot", rule: "impact.shutdown", want: true, run: sh("reboot").spawn(1, 10, "/sbin/reboot", "reboot").done()},
		{name: "sysrq-trigger", rule: "impact.shutdown", want: true, run: sh("echo b > /proc/sysrq-trigger").open(1, "/proc/sysrq-trigger", wr).done()},
		{name: "reboot through systemctl's symlink", rule: "impact.shutdown", want: true, tech: "T1529",
			run: sh("reboot").spawn(1, 10, "/usr/bin/systemctl", "reboot").syscall(10, "unlink", 2).done()},
		{name: "poweroff through systemctl's symlink", rule: "impact.shutdown", want: true,
			run: sh("poweroff -f").spawn(1, 10, "/usr/bin/systemctl", "poweroff", "-f").done()},
		{name: "benign: systemctl status", rule: "impact.shutdown", want: false, run: sh("x").spawn(1, 10, "/bin/systemctl", "systemctl", "status").done()},

		{name: "backups deleted", rule: "impact.inhibit-recovery", want: true,
			run: sh("x").spawn(1, 10, "/bin/rm", "rm", "-rf", "/var/backups/db.bak").done()},
		{name: "passwd -l root", rule: "impact.account-removal", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/passwd", "passwd", "-l", "root").done()},
		{name: "benign: userdel of an account made in the run", rule: "impact.account-removal", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/useradd", "useradd", "tmpuser").spawn(1, 11, "/usr/sbin/userdel", "userdel", "tmpuser").done()},
	})
}

func TestResourceRules(t *testing.T) {
	forkBomb := func() *trace.Run {
		b := newRun("/forkbomb")
		for i := 0; i < 600; i++ {
			b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: int32(100 + i)})
		}
		return b.resources(3, 2, true).done()
	}
	runRuleCases(t, []ruleCase{
		{name: "yes > /dev/null until the timeout", rule: "resource.cpu", want: true, tech: "T1496",
			run: sh("yes > /dev/null").spawn(1, 10, "/usr/bin/yes", "yes").resources(6, 5.8, true).done()},
		{name: "yes on a contended host: 77% of a core, silent until the timeout", rule: "resource.cpu", want: true, tech: "T1496",
			run: sh("yes > /dev/null").spawn(1, 10, "/usr/bin/yes", "yes").resources(9, 7.0, true).done()},
		{name: "yes on a busier host: 51% of a core, silent until the timeout", rule: "resource.cpu", want: true,
			run: sh("yes > /dev/null").spawn(1, 10, "/usr/bin/yes", "yes").resources(10, 5.1, true).done()},
		{name: "benign: idle server, silent until the timeout", rule: "resource.cpu", want: false,
			run: newRun("/usr/sbin/nginx", "nginx", "-g", "daemon off;").resources(10, 1.5, true).done()},
		{name: "benign: program busy at 70% but tracing until the timeout", rule: "resource.cpu", want: false,
			run: func() *trace.Run {
				b := newRun("/usr/local/bin/app")
				for i := 0; i < 80; i++ {
					b.t = t0.Add(time.Duration(i) * 100 * time.Millisecond)
					b.open(1, "/srv/data/chunk", rdonly)
				}
				return b.resources(9, 6.3, true).done()
			}()},
		{name: "benign: start-up burst, then idle until the timeout", rule: "resource.cpu", want: false,
			run: newRun("/usr/bin/java", "java", "-jar", "app.jar").resources(20, 4, true).done()},
		{name: "benign: batch job that finished", rule: "resource.cpu", want: false,
			run: newRun("/batch").resources(8, 7.9, false).done()},
		{name: "benign: idle server hit the timeout", rule: "resource.cpu", want: false,
			run: newRun("/server").resources(30, 0.4, true).done()},
		{name: "fork storm", rule: "resource.fork-storm", want: true, run: forkBomb()},
		{name: "pid limit reached", rule: "resource.fork-storm", want: true, run: func() *trace.Run {
			b := newRun("/forkbomb").resources(5, 1, true)
			b.run.Resources.PidsPeak = 256
			return b.done()
		}()},
		{name: "benign: postgres forks its backends", rule: "resource.fork-storm", want: false, run: func() *trace.Run {
			b := newRun("/pg")
			for i := 0; i < 30; i++ {
				b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: int32(100 + i)})
			}
			return b.resources(5, 1, false).done()
		}()},
		{name: "OOM", rule: "resource.memory", want: true, run: func() *trace.Run {
			b := newRun("/membomb")
			b.run.Exit.OOM = true
			return b.done()
		}()},
		{name: "benign: modest memory", rule: "resource.memory", want: false, run: func() *trace.Run {
			b := newRun("/app")
			b.run.Resources.MemoryPeak = 50 << 20
			return b.done()
		}()},
		{name: "output flood", rule: "resource.output-flood", want: true, run: func() *trace.Run {
			b := newRun("/flood").resources(10, 9, true)
			b.run.Resources.OutputBytes = 300 << 20
			return b.done()
		}()},
		{name: "benign: grep prints a few megabytes", rule: "resource.output-flood", want: false, run: func() *trace.Run {
			b := newRun("/grep").resources(6, 5, false)
			b.run.Resources.OutputBytes = 4 << 20
			return b.done()
		}()},
	})
}
