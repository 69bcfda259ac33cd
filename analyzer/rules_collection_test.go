package analyzer

import "testing"

func TestCollectionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "zip of login records", rule: "collection.archive-utility", want: true,
			run: sh("zip $HOME/data.zip /var/log/wtmp").spawn(1, 10, "/usr/bin/zip", "zip", "/root/data.zip", "/var/log/wtmp", "/var/log/btmp").done()},
		{name: "password-protected zip", rule: "collection.archive-utility", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/zip", "zip", "--password", "x", "/tmp/T1560/T1560", "a").done()},
		{name: "benign: gzip and tar of web assets", rule: "collection.archive-utility", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/srv/site", "-type", "f").spawn(10, 11, "/bin/gzip", "gzip", "-k9", "/srv/site/index.html").
				spawn(1, 12, "/bin/tar", "tar", "-czf", "/tmp/site-bundle.tgz", "-C", "/srv", "site").done()},
		{name: "benign: logrotate compresses the rotated log", rule: "collection.archive-utility", want: false,
			run: sh("logrotate /etc/logrotate.conf").spawn(1, 10, "/usr/sbin/logrotate", "logrotate", "/etc/logrotate.conf").spawn(10, 11, "/bin/gzip", "gzip", "/var/log/app.log.1").done()},
		{name: "benign: extracting a tarball", rule: "collection.archive-utility", want: false,
			run: sh("x").spawn(1, 10, "/bin/tar", "tar", "xzf", "/root/app.tgz", "-C", "/opt").done()},

		{name: "python gzips /etc/passwd", rule: "collection.archive-library", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/python3", "python3", "-c", "import gzip;...").open(10, "/etc/shadow", rdonly).open(10, "/tmp/passwd.gz", wr).done()},
		{name: "stealer archives credentials", rule: "collection.archive-library", want: true,
			run: newRun("/credtheft").open(1, "/root/.aws/credentials", rdonly).open(1, "/root/.kube/config", rdonly).open(1, "/tmp/loot.tar.gz", wr).done()},
		{name: "benign: app writes its own archive", rule: "collection.archive-library", want: false,
			run: newRun("/app").open(1, "/srv/data/in.csv", rdonly).open(1, "/tmp/out.gz", wr).done()},

		{name: "cp /etc/shadow to /tmp", rule: "collection.staging", want: true,
			run: sh("x").spawn(1, 10, "/bin/cp", "cp", "/etc/shadow", "/tmp/s").done()},
		{name: "benign: sqlite db in /tmp", rule: "collection.staging", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/sqlite3", "sqlite3", "/tmp/app.db").open(10, "/tmp/app.db", wr).done()},

		{name: "find -exec cp", rule: "collection.automated", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/", "-name", "id_rsa", "-exec", "cp", "--parents", "{}", "/tmp/s", ";").done()},
		{name: "benign: find -exec gzip of assets", rule: "collection.automated", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/srv/site", "-exec", "gzip", "-k9", "{}", ";").done()},

		{name: "screenshot", rule: "collection.desktop", want: true, tech: "T1113",
			run: sh("x").spawn(1, 10, "/usr/bin/import", "import", "-window", "root", "/tmp/s.png").done()},
	})
}
