package corpus

import (
	"fmt"
	"time"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// benignVariants are ordinary workloads: servers, databases, builds,
// package queries, backups, maintenance jobs and scripts. Several run
// until the sandbox stops them, as services do.
func benignVariants() []Variant {
	var out []Variant
	ports := []int{8080, 8000, 3000, 5000, 8081, 9090, 80, 8888}

	// A Go web service answering itself (like testdata's benign-web).
	f := newFamily(Benign, "benign-go-web", Busybox)
	for i := 0; i < 10; i++ {
		p := pick(ports, i)
		linger := []string{"0s", "1s", "20s"}[i%3]
		desc := fmt.Sprintf("Go HTTP service on 127.0.0.1:%d, %d self-requests, lingers %s", p, 3+i, linger)
		if i%2 == 1 {
			f.addExec(desc, []string{pick([]string{"/usr/local/bin/server", "/app/web", "/usr/bin/api"}, i), "serve",
				"-addr", fmt.Sprintf("127.0.0.1:%d", p), "-requests", fmt.Sprint(3 + i), "-linger", linger})
			continue
		}
		f.add(desc, fmt.Sprintf("echo starting service\nexec %s serve -addr 127.0.0.1:%d -requests %d -interval %dms -linger %s\n", BehavePath, p, 3+i, 100+50*(i%4), linger))
	}
	out = append(out, f.out...)

	// A Go batch job.
	f = newFamily(Benign, "benign-go-batch", Busybox)
	for i := 0; i < 12; i++ {
		out := pick([]string{"/var/tmp/result.txt", "/srv/out.txt", "/tmp/primes", "/data/result"}, i)
		if i%2 == 1 {
			f.addExec("Go batch job computing primes", []string{pick([]string{"/usr/local/bin/batch", "/app/job", "/usr/bin/report"}, i),
				// Short jobs too: CLI tools and migrations are done in a blink.
				"compute", "-secs", pick([]string{"0.05", "1", "0.1", "0.5", "0.2", "1.5"}, i/2), "-out", pick([]string{"/var/tmp/result.txt", "/tmp/out"}, i/2)})
			continue
		}
		f.add("Go batch job computing primes", fmt.Sprintf("mkdir -p %s\n%s compute -secs %.1f -out %s\ncat %s\n",
			dirOf(out), BehavePath, 0.5+0.5*float64(i%4), out, out), withEnv(pick([]string{"COMPUTE_CHILD=1", "X=1"}, i)))
	}
	out = append(out, f.out...)

	// busybox httpd serving static files, polled with wget.
	f = newFamily(Benign, "benign-busybox-httpd", Busybox)
	for i := 0; i < 8; i++ {
		p := pick(ports, i+3)
		f.add("busybox httpd serving /var/www", fmt.Sprintf(`mkdir -p /var/www
for n in 1 2 3; do echo "<h1>page $n</h1>" > /var/www/p$n.html; done
httpd -p 127.0.0.1:%d -h /var/www
for n in $(seq 1 %d); do wget -q -O - http://127.0.0.1:%d/p$(( n %% 3 + 1 )).html >/dev/null; usleep %d; done
%s
`, p, 3+i, p, 100000+i*30000, pick([]string{"sleep 30", "echo done", "killall httpd"}, i)))
	}
	out = append(out, f.out...)

	// Shell text processing: logs, CSV, checksums.
	f = newFamily(Benign, "benign-busybox-text", Busybox)
	for i := 0; i < 10; i++ {
		f.add("text processing of data files with sed, awk, sort, checksums", fmt.Sprintf(`cd /srv/data
cat *.csv | awk -F, '{s+=$2} END {print "sum", s}'
grep -c record *.csv | sort -t: -k2 -n | tail -n 3
sed -n '1,%dp' doc-000.csv | wc -l
%s
find /srv/data -type f | head -n %d | xargs -r wc -c
date -u > /var/tmp/report.txt
`, 3+i, pick([]string{"sha256sum *.csv > /var/tmp/sums", "md5sum doc-00*.csv", "tar czf /var/tmp/data.tgz .", "od -c doc-001.csv | head -n 2"}, i), 5+i),
			withFiles(dataFiles("/srv/data", 6+i, ".csv")...))
	}
	out = append(out, f.out...)

	// Backups with tar and gzip.
	f = newFamily(Benign, "benign-backup", Busybox)
	for i := 0; i < 8; i++ {
		dst := pick([]string{"/var/backups", "/backup", "/srv/backup", "/mnt/backup"}, i)
		f.add("nightly backup of /etc and app data", fmt.Sprintf(`mkdir -p %s
stamp=$(date -u +%%Y%%m%%d)
tar c%sf %s/etc-$stamp.tar%s /etc
tar cf - /srv/app | gzip -%d > %s/app-$stamp.tar.gz
ls -l %s
find %s -name '*.tar*' -mtime +7 -exec rm {} \;
`, dst, pick([]string{"z", "j", ""}, i), dst, pick([]string{".gz", ".bz2", ""}, i), 1+i%9, dst, dst, dst),
			withFiles(dataFiles("/srv/app", 5+i, ".json")...))
	}
	out = append(out, f.out...)

	// Entrypoints that set up a user and drop privileges.
	f = newFamily(Benign, "benign-busybox-entrypoint", Busybox)
	for i := 0; i < 8; i++ {
		f.add("entrypoint: config from env, then the service as a plain user", fmt.Sprintf(`echo "listen=${LISTEN:-127.0.0.1:%d}" > /etc/app.conf
mkdir -p /var/lib/app /var/log/app
chown -R %s /var/lib/app /var/log/app
echo "$(date -u) starting" >> /var/log/app/app.log
exec su -s /bin/sh %s -c '%s serve -addr 127.0.0.1:%d -requests %d'
`, pick(ports, i), pick([]string{"www-data", "nobody", "daemon"}, i), pick([]string{"www-data", "nobody", "daemon"}, i), BehavePath, pick(ports, i+1), 2+i%4),
			withEnv(fmt.Sprintf("LISTEN=127.0.0.1:%d", pick(ports, i))))
	}
	out = append(out, f.out...)

	// Debian: nginx.
	f = newFamily(Benign, "benign-nginx", Debian)
	for i := 0; i < 8; i++ {
		f.add("nginx serving static files, checked with curl", fmt.Sprintf(`mkdir -p /var/www/html && echo hello > /var/www/html/index.html
nginx -t
nginx
for n in $(seq 1 %d); do curl -s -o /dev/null -w '%%{http_code}\n' http://127.0.0.1/; sleep 0.%d; done
%s
`, 3+i, 1+i%5, pick([]string{"nginx -s quit", "sleep 30", "tail -n 3 /var/log/nginx/access.log"}, i)), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	// Debian: Python web server.
	f = newFamily(Benign, "benign-python-http", Debian)
	for i := 0; i < 8; i++ {
		p := pick(ports, i)
		f.add("python3 -m http.server, polled with curl or python", fmt.Sprintf(`cd /srv && python3 -m http.server %d --bind 127.0.0.1 &
sleep 1
for n in $(seq 1 %d); do %s; done
%s
`, p, 2+i%4, pick([]string{
			fmt.Sprintf("curl -s http://127.0.0.1:%d/ > /dev/null", p),
			fmt.Sprintf(`python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:%d/').read()"`, p),
			fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d/", p)}, i),
			pick([]string{"wait", "kill %1", "sleep 2"}, i)), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	// Debian: redis.
	f = newFamily(Benign, "benign-redis", Debian)
	for i := 0; i < 6; i++ {
		f.add("redis-server with a few commands from redis-cli", fmt.Sprintf(`redis-server --port %d --bind 127.0.0.1 --daemonize yes --dir /tmp
sleep 0.5
for n in $(seq 1 %d); do redis-cli -p %d set key$n value$n > /dev/null; done
redis-cli -p %d dbsize
redis-cli -p %d %s
`, 6379+i, 5+i*3, 6379+i, 6379+i, 6379+i, pick([]string{"shutdown nosave", "info server", "save"}, i)), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	// Debian: PostgreSQL cluster initialisation.
	f = newFamily(Benign, "benign-postgres-init", Debian)
	for i := 0; i < 5; i++ {
		f.add("initdb of a fresh PostgreSQL cluster, as the postgres user", fmt.Sprintf(`mkdir -p /tmp/pg%d && chown postgres /tmp/pg%d
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D /tmp/pg%d -E UTF8 %s"
ls /tmp/pg%d | head
`, i, i, i, pick([]string{"--auth=trust", "--auth=md5 --pwfile=/dev/null", "-U app --auth=trust", "--no-sync"}, i), i), withTimeout(20*time.Second))
	}
	out = append(out, f.out...)

	// Debian: sqlite.
	f = newFamily(Benign, "benign-sqlite", Debian)
	for i := 0; i < 6; i++ {
		f.add("sqlite3 schema, inserts and a query", fmt.Sprintf(`db=/var/lib/app%d.db
sqlite3 $db "create table t(id integer primary key, name text, n int);"
for n in $(seq 1 %d); do echo "insert into t(name, n) values ('row$n', $n);"; done | sqlite3 $db
sqlite3 $db "select count(*), sum(n) from t;"
%s
`, i, 20+i*15, pick([]string{"sqlite3 $db .dump | gzip > /var/backups/app.sql.gz", "sqlite3 $db vacuum", "python3 -c \"import sqlite3; print(sqlite3.connect('$db').execute('select max(n) from t').fetchone())\""}, i)))
	}
	out = append(out, f.out...)

	// Debian: the cron daemon with ordinary jobs.
	f = newFamily(Benign, "benign-cron", Debian)
	for i := 0; i < 5; i++ {
		f.add("cron daemon in the foreground running the image's own jobs", fmt.Sprintf(`echo "starting cron"
%s
exec cron -f
`, pick([]string{"run-parts --test /etc/cron.daily", "ls /etc/cron.d", "cat /etc/crontab | grep -v '^#' | head -n 3", "true"}, i)),
			withFiles(imagebuild.File{Path: fmt.Sprintf("/etc/cron.d/app%d", i), Content: []byte(fmt.Sprintf("*/%d * * * * root /usr/local/bin/cleanup >/dev/null 2>&1\n", 5+i))},
				imagebuild.File{Path: "/usr/local/bin/cleanup", Mode: 0o755, Content: []byte("#!/bin/sh\nfind /tmp -mtime +1 -delete\n")}))
	}
	out = append(out, f.out...)

	// Debian: C builds.
	f = newFamily(Benign, "benign-gcc-build", Debian)
	for i := 0; i < 8; i++ {
		f.add("compile and run a small C program with gcc or make", fmt.Sprintf(`cd /src
%s
./app %d
`, pick([]string{"gcc -O2 -o app main.c", "make", "gcc -Wall -o app main.c && strip app", "cc -O0 -g -o app main.c"}, i), 10+i),
			withFiles(imagebuild.File{Path: "/src/main.c", Content: []byte(fmt.Sprintf("#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v) { long n = c > 1 ? atol(v[1]) : %d, a = 0, b = 1; for (long i = 0; i < n; i++) { long t = a + b; a = b; b = t; } printf(\"fib %%ld\\n\", a); return 0; }\n", 20+i))},
				imagebuild.File{Path: "/src/Makefile", Content: []byte("app: main.c\n\tcc -O2 -o app main.c\n")}), withTimeout(15*time.Second))
	}
	out = append(out, f.out...)

	// Debian: package manager queries (offline).
	f = newFamily(Benign, "benign-package-query", Debian)
	for i := 0; i < 6; i++ {
		f.add("dpkg and apt queries, as image audits and entrypoints do", pick([]string{
			"dpkg -l | wc -l\ndpkg -S /bin/ls\napt-cache policy bash | head -n 3\n",
			"dpkg-query -W -f '${Package} ${Version}\\n' | head -n 20\n",
			"apt-get -s install --no-download bash 2>&1 | tail -n 2\ndpkg --verify coreutils || true\n",
			"apt list --installed 2>/dev/null | wc -l\ndpkg -L curl | head\n",
			"cat /etc/os-release\ndpkg --print-architecture\napt-config dump | head -n 5\n",
			"dpkg -s openssl | grep Version\nls /var/lib/dpkg/info | wc -l\n",
		}, i))
	}
	out = append(out, f.out...)

	// Debian: logrotate and log maintenance.
	f = newFamily(Benign, "benign-logrotate", Debian)
	for i := 0; i < 5; i++ {
		f.add("logrotate of application logs", fmt.Sprintf(`mkdir -p /var/log/app
for n in $(seq 1 %d); do echo "$(date -u) line $n" >> /var/log/app/app.log; done
logrotate -f -s /var/tmp/logrotate.state /etc/logrotate.d/app
ls -l /var/log/app
`, 50+i*40), withFiles(imagebuild.File{Path: "/etc/logrotate.d/app", Content: []byte(fmt.Sprintf("/var/log/app/*.log {\n  rotate %d\n  %s\n  missingok\n}\n", 3+i, pick([]string{"compress", "nocompress", "copytruncate"}, i)))}))
	}
	out = append(out, f.out...)

	// Debian: certificate and key generation at start-up.
	f = newFamily(Benign, "benign-openssl-certs", Debian)
	for i := 0; i < 6; i++ {
		f.add("self-signed TLS certificate or SSH host key generated at start-up", pick([]string{
			"mkdir -p /etc/app/tls && openssl req -x509 -newkey rsa:2048 -nodes -keyout /etc/app/tls/key.pem -out /etc/app/tls/cert.pem -days 30 -subj /CN=app.example\nopenssl x509 -in /etc/app/tls/cert.pem -noout -subject\n",
			"mkdir -p /etc/app && openssl ecparam -genkey -name prime256v1 -out /etc/app/ec.key && openssl req -new -key /etc/app/ec.key -subj /CN=svc.example -out /etc/app/req.csr\n",
			"ssh-keygen -q -t ed25519 -N '' -f /etc/app_host_ed25519_key && ssh-keygen -l -f /etc/app_host_ed25519_key.pub\n",
			"openssl rand -hex 32 > /etc/app.secret && openssl dgst -sha256 /etc/app.secret\n",
			"openssl genrsa -out /var/lib/app.key 2048 && openssl rsa -in /var/lib/app.key -pubout > /var/lib/app.pub\n",
			"mkdir -p /etc/app && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /etc/app/k.pem -out /etc/app/c.pem -subj /CN=localhost -days 1\n",
		}, i), withTimeout(15*time.Second))
	}
	out = append(out, f.out...)

	// Debian: an entrypoint that creates its service account.
	f = newFamily(Benign, "benign-useradd", Debian)
	for i := 0; i < 5; i++ {
		u := pick([]string{"app", "svc", "worker", "web", "runner"}, i)
		f.add("entrypoint creates a service user and runs the job as it", fmt.Sprintf(`useradd -r -m -d /home/%s -s /usr/sbin/nologin %s
mkdir -p /var/lib/%s && chown %s /var/lib/%s
su -s /bin/bash %s -c 'cd /var/lib/%s && %s'
`, u, u, u, u, u, u, u, pick([]string{"python3 -c \"print(sum(range(10**6)))\"", "echo ok > state", "ls -la", "date > started", "node -e \"console.log(process.version)\""}, i)))
	}
	out = append(out, f.out...)

	// Debian: scripts in Python, Node, Perl computing things.
	f = newFamily(Benign, "benign-scripts", Debian)
	for i := 0; i < 10; i++ {
		f.add("an interpreter computing and writing results", pick([]string{
			`python3 -c "import json, statistics; d=[i*i%97 for i in range(200000)]; print(json.dumps({'mean': statistics.mean(d)}))" > /var/tmp/out.json`,
			`node -e "let s=0; for (let i=0;i<3e7;i++) s+=i%7; console.log(s)"`,
			`perl -e 'my %h; $h{$_ % 1000}++ for 1..500000; print scalar(keys %h), "\n"'`,
			`python3 -c "import hashlib; print(hashlib.sha256(b'x'*10**7).hexdigest())"`,
			`node -e "const fs=require('fs'); fs.writeFileSync('/var/tmp/n.json', JSON.stringify([...Array(1000).keys()]))"`,
			`python3 - <<'EOF'
import csv, io
rows = [[i, i * 2] for i in range(50000)]
buf = io.StringIO(); csv.writer(buf).writerows(rows)
open('/var/tmp/table.csv', 'w').write(buf.getvalue())
EOF`,
			`awk 'BEGIN { for (i = 0; i < 2000000; i++) s += sin(i); print s }'`,
			`perl -MJSON::PP -e 'print JSON::PP->new->encode({a=>[1..100]}), "\n"' > /var/tmp/p.json`,
			`python3 -c "import sqlite3; c=sqlite3.connect(':memory:'); c.execute('create table t(x)'); c.executemany('insert into t values (?)', [(i,) for i in range(100000)]); print(c.execute('select sum(x) from t').fetchone())"`,
			`node -e "const c=require('crypto'); let h=''; for (let i=0;i<20000;i++) h=c.createHash('sha1').update(h+i).digest('hex'); console.log(h)"`,
		}, i)+"\n", withTimeout(15*time.Second))
	}
	out = append(out, f.out...)

	// Idle services: heartbeats, waiting listeners, a cron daemon with
	// nothing due. Services spend most of their life like this, and the
	// sandbox stops them at its time limit.
	f = newFamily(Benign, "benign-idle", Busybox)
	for i := 0; i < 10; i++ {
		f.add("an idle service: waits, logs a heartbeat now and then", pick([]string{
			fmt.Sprintf("echo ready\nwhile true; do sleep %d; echo \"heartbeat $(date -u +%%s)\"; done\n", 1+i%4),
			"exec tail -f /dev/null\n",
			fmt.Sprintf("echo waiting for work\nexec sleep %d\n", 30+i),
			fmt.Sprintf("echo '*/%d * * * * echo tick' | crontab -\nexec crond -f -l 8\n", 5+i),
			fmt.Sprintf("nc -l -p %d -s 127.0.0.1 > /var/tmp/inbox &\necho listening\nwait\n", pick(ports, i)),
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Benign, "benign-go-idle", Busybox)
	for i := 0; i < 6; i++ {
		if i%2 == 1 {
			f.addExec("a Go web service that nobody calls", []string{pick([]string{"/usr/local/bin/svc", "/app/server"}, i),
				"serve", "-addr", fmt.Sprintf("127.0.0.1:%d", pick(ports, i+2)), "-requests", "0", "-linger", "60s"})
			continue
		}
		f.add("a Go web service that nobody calls, or a slow batch job", pick([]string{
			fmt.Sprintf("exec %s serve -addr 127.0.0.1:%d -requests 0 -linger 60s\n", BehavePath, pick(ports, i)),
			fmt.Sprintf("sleep %d\nexec %s compute -secs 0.2 -out /var/tmp/late.txt\n", 2+i, BehavePath),
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Benign, "benign-debian-daemons", Debian)
	for i := 0; i < 8; i++ {
		f.add("a server in the foreground waiting for clients", pick([]string{
			fmt.Sprintf("exec redis-server --port %d --bind 127.0.0.1 --save ''\n", 6380+i),
			fmt.Sprintf("cd /srv && exec python3 -m http.server %d --bind 127.0.0.1\n", pick(ports, i)),
			"mkdir -p /var/www/html && echo hi > /var/www/html/index.html\nexec nginx -g 'daemon off;'\n",
			"exec cron -f\n",
		}, i), withTimeout(8*time.Second))
	}
	out = append(out, f.out...)

	// Debian: git operations on a local repository.
	f = newFamily(Benign, "benign-git", Debian)
	for i := 0; i < 4; i++ {
		f.add("git init, commit and log in a local repository", fmt.Sprintf(`cd /srv/app && git init -q && git config user.email ci@example.org && git config user.name ci
git add . && git commit -qm "import %d"
git log --oneline | head
%s
`, i, pick([]string{"git gc -q", "git archive -o /var/tmp/src.tar HEAD", "git status --short", "git tag v1.0"}, i)),
			withFiles(dataFiles("/srv/app", 5+i*3, ".txt")...))
	}
	out = append(out, f.out...)
	return out
}

func dirOf(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}
