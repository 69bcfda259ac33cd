package analyzer

import (
	"math"
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func c2Rules() []Rule {
	return []Rule{
		{
			ID: "c2.ingress-transfer", Title: "Tool downloaded and prepared to run",
			Description: "A downloader fetched a file that was then made executable or run (matched by output path or URL file name), a file was pulled from a remote host with scp/rsync/tftp, or whois talked to a non-whois port (a known file-transfer trick).",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1105"},
			Match: matchIngressTransfer,
		},
		{
			ID: "c2.user-agent", Title: "HTTP client with a forged or known-bad user agent",
			Description: "curl/wget were told to send another user agent (-A, --user-agent, -U, -H 'User-Agent:'), or the sinkhole saw a user agent that contradicts the program that sent it.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1071.001"},
			Match: matchUserAgent,
		},
		{
			ID: "c2.beaconing", Title: "Periodic connections to one host",
			Description: "Five or more connections from one process to the same remote address at regular intervals (jitter under 20%): a beacon checking in.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1071.001"},
			Match: matchBeaconing,
		},
		{
			ID: "c2.non-standard-port", Title: "Connection to a non-standard port",
			Description: "A connection (or attempt) to a remote port outside the well-known service ports, or a telnet/nc/socat client aimed at one. Loopback is never counted.",
			Severity:    SeverityLow, Confidence: 0.7, Techniques: []string{"T1571"},
			Match: matchNonStandardPort,
		},
		{
			ID: "c2.raw-protocol", Title: "Traffic outside application protocols",
			Description: "An ICMP or raw socket opened by a program that is not ping or traceroute, or a connection whose bytes the sinkhole could not place in any protocol, going both ways.",
			Severity:    SeverityMedium, Confidence: 0.6, Techniques: []string{"T1095"},
			Match: matchRawProtocol,
		},
		{
			ID: "c2.proxy", Title: "Traffic sent through a proxy",
			Description: "A proxy variable set by the run (not by the image) on a network client, proxychains/torsocks/tor, a SOCKS or HTTP CONNECT handshake, or Tor's ports.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1090", "T1090.001", "T1090.003"},
			Match: matchProxy,
		},
		{
			ID: "c2.tunnel", Title: "Protocol tunnel opened",
			Description: "ssh port forwarding (-L, -R, -D, -w), chisel, ngrok, frp, iodine, dnscat or a socat relay.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1572"},
			Match: matchTunnel,
		},
		{
			ID: "c2.encrypted-shell", Title: "Shell over an encrypted channel",
			Description: "openssl s_client or ncat --ssl carried a shell's input and output.",
			Severity:    SeverityCritical, Confidence: 0.85, Techniques: []string{"T1573", "T1059.004"},
			Match: matchEncryptedShell,
		},
		{
			ID: "c2.web-service", Title: "Paste site or bot API contacted",
			Description: "A paste site, Telegram's bot API, a tunnelling service or a dynamic DNS name was resolved or fetched: common places to keep commands.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1102"},
			Match: matchWebService,
		},
		{
			ID: "c2.fallback", Title: "Hard-coded address used after a failed lookup",
			Description: "A process's DNS lookup failed and it then connected to a literal remote address: malware keeps a list of fallback servers.",
			Severity:    SeverityMedium, Confidence: 0.6, Techniques: []string{"T1008"},
			Match: matchFallback,
		},
	}
}

// outputPaths are the files a downloader writes: -o/-O FILE, or the URL's
// file name for curl -O / wget without -O.
func outputPaths(e *Exec) []string {
	var out []string
	fam := family(e.Name)
	remoteName := false
	for i, a := range e.Args {
		switch {
		case (a == "-o" || a == "--output") && i+1 < len(e.Args):
			out = append(out, resolve(e.Cwd, e.Args[i+1]))
		case a == "-O" && fam == "wget" && i+1 < len(e.Args):
			out = append(out, resolve(e.Cwd, e.Args[i+1]))
		case strings.HasPrefix(a, "--output-document="):
			out = append(out, resolve(e.Cwd, strings.TrimPrefix(a, "--output-document=")))
		case a == "-O" || a == "--remote-name" || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "O") && fam == "curl"):
			remoteName = true
		}
	}
	if remoteName || (fam == "wget" && len(out) == 0) {
		for _, a := range e.Args {
			if _, ok := urlHost(a); ok {
				u := a
				if i := strings.IndexAny(u, "?#"); i >= 0 {
					u = u[:i]
				}
				if b := path.Base(u); b != "" && b != "/" && !strings.Contains(b, ":") {
					out = append(out, resolve(e.Cwd, b))
				}
			}
		}
	}
	return out
}

func matchIngressTransfer(x *Index) []Hit {
	var hits []Hit
	executed := x.ExecutedPaths()
	chmodX := map[string]*Exec{}
	for _, c := range x.ExecsOf(set("chmod")) {
		ops := operands(c.Args)
		if len(ops) < 2 || !(strings.Contains(ops[0], "x") || strings.ContainsAny(ops[0], "1357")) {
			continue
		}
		for _, op := range ops[1:] {
			chmodX[resolve(c.Cwd, op)] = c
		}
	}
	for _, e := range x.ExecsOf(downloaders) {
		if !hasRemoteURL(e.Args) {
			continue
		}
		for _, p := range outputPaths(e) {
			if runs := executed[p]; len(runs) > 0 {
				hits = append(hits, Hit{Events: []int{e.Ev, runs[0].Ev}, Summary: "downloaded " + p + " and ran it"})
				break
			}
			if c := chmodX[p]; c != nil {
				hits = append(hits, Hit{Events: []int{e.Ev, c.Ev}, Summary: "downloaded " + p + " and made it executable"})
				break
			}
		}
	}
	for _, e := range x.ExecsOf(set("scp", "rsync", "tftp", "sftp", "ftp", "lftp")) {
		ops := operandsSkippingValues(e.Args, set("-P", "-i", "-o", "-e", "-F", "-c", "-l", "-J", "-m"))
		if len(ops) >= 2 {
			if h, ok := remoteSpec(ops[0]); ok && !loopbackHost(h) {
				hits = append(hits, hitExec(e, "pulled from "+h+": "+cmdline(e.Image)))
			}
		}
		if fam := family(e.Name); (fam == "tftp" || fam == "ftp") && hasArg(e.Args, "get", "-g", "-c") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("whois")) {
		for i, a := range e.Args {
			if (a == "-p" || a == "--port") && i+1 < len(e.Args) && e.Args[i+1] != "43" {
				hits = append(hits, hitExec(e, "whois used as a transfer channel: "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

var browserUA = []string{"mozilla", "opera", "chrome", "safari", "msie", "edge", "trident", "applewebkit"}
var badUA = []string{"httpbrowser", "wget/1.9", "zmeu", "masscan", "sqlmap", "nikto", "python-requests/2.2", "*<|>*", "<|>", "morfeus", "hydra", "nmap", "dirbuster", "gobuster", "winhttp", "xmrig"}

func matchUserAgent(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("curl", "wget")) {
		for i, a := range e.Args {
			var ua string
			switch {
			case (a == "-A" || a == "--user-agent" || a == "-U") && i+1 < len(e.Args):
				ua = e.Args[i+1]
			case strings.HasPrefix(a, "--user-agent="):
				ua = strings.TrimPrefix(a, "--user-agent=")
			case a == "-H" && i+1 < len(e.Args) && strings.HasPrefix(strings.ToLower(e.Args[i+1]), "user-agent:"):
				ua = strings.TrimSpace(e.Args[i+1][len("user-agent:"):])
			}
			if ua != "" {
				hits = append(hits, hitExec(e, e.Name+" sends user agent "+strconv.Quote(ua)))
				break
			}
		}
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			if c.HTTP == nil || c.HTTP.UserAgent == "" || isLoopback(c.DstIP) {
				continue
			}
			ua := strings.ToLower(c.HTTP.UserAgent)
			_, bad := containsAny(ua, badUA)
			_, browser := containsAny(ua, browserUA)
			prog := family(c.Comm)
			if bad || (browser && (prog == "curl" || prog == "wget" || isShell(prog) || isInterpreter(prog))) {
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "user agent " + strconv.Quote(c.HTTP.UserAgent) + " from " + c.Comm})
			}
		}
	}
	return hits
}

func matchBeaconing(x *Index) []Hit {
	type key struct {
		pid int32
		ip  string
	}
	times := map[key][]int{}
	var order []key
	for _, i := range x.Kind(trace.KindConnect) {
		e := &x.Events[i]
		if e.Addr == nil || e.Addr.IP == "" || isLoopback(e.Addr.IP) || e.Addr.Port == 53 {
			continue
		}
		k := key{e.PID, e.Addr.IP}
		if times[k] == nil {
			order = append(order, k)
		}
		times[k] = append(times[k], i)
	}
	var hits []Hit
	for _, k := range order {
		evs := times[k]
		if len(evs) < 5 {
			continue
		}
		var gaps []float64
		for j := 1; j < len(evs); j++ {
			gaps = append(gaps, x.Events[evs[j]].Time.Sub(x.Events[evs[j-1]].Time).Seconds())
		}
		mean, sd := meanStd(gaps)
		if mean >= 0.5 && sd/mean < 0.2 {
			hits = append(hits, Hit{Events: evs[:min(len(evs), 8)],
				Summary: strconv.Itoa(len(evs)) + " connections to " + k.ip + " every " + strconv.FormatFloat(mean, 'f', 1, 64) + "s"})
		}
	}
	return hits
}

func meanStd(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, f := range v {
		s += f
	}
	m := s / float64(len(v))
	var ss float64
	for _, f := range v {
		ss += (f - m) * (f - m)
	}
	return m, math.Sqrt(ss / float64(len(v)))
}

// clientPort returns the host and port a telnet/nc/socat command aims at.
func clientTarget(e *Exec) (string, uint16, bool) {
	ops := operandsSkippingValues(e.Args, set("-p", "-s", "-w", "-i", "-q", "-e", "-c", "-x", "-X", "-b"))
	fam := family(e.Name)
	if fam == "socat" {
		for _, op := range ops {
			lo := strings.ToLower(op)
			if strings.HasPrefix(lo, "tcp:") || strings.HasPrefix(lo, "tcp4:") || strings.HasPrefix(lo, "openssl:") {
				parts := strings.Split(op, ":")
				if len(parts) >= 3 {
					p, err := strconv.Atoi(strings.Split(parts[2], ",")[0])
					if err == nil && p > 0 && p < 65536 {
						return parts[1], uint16(p), true
					}
				}
			}
		}
		return "", 0, false
	}
	if hasArg(e.Args, "-l", "-L", "--listen") || len(ops) < 2 {
		return "", 0, false
	}
	p, err := strconv.Atoi(ops[len(ops)-1])
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, false
	}
	return ops[len(ops)-2], uint16(p), true
}

func matchNonStandardPort(x *Index) []Hit {
	var hits []Hit
	seen := map[string]bool{}
	for _, i := range x.Kind(trace.KindConnect) {
		a := x.Events[i].Addr
		if a == nil || a.IP == "" || a.Port == 0 || isLoopback(a.IP) || standardPort(a.Port) {
			continue
		}
		k := a.IP + ":" + strconv.Itoa(int(a.Port))
		if seen[k] {
			continue
		}
		seen[k] = true
		h := Hit{Events: []int{i}, Summary: "connect to " + net.JoinHostPort(a.IP, strconv.Itoa(int(a.Port)))}
		if img := x.ImageAt(i); img != nil && img.Ev >= 0 {
			h.Events = append(h.Events, img.Ev)
			h.Summary = img.Name + " " + h.Summary
		}
		hits = append(hits, h)
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			k := c.DstIP + ":" + strconv.Itoa(int(c.DstPort))
			if seen[k] || isLoopback(c.DstIP) || standardPort(c.DstPort) || c.DstPort == 0 {
				continue
			}
			seen[k] = true
			hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "connection to " + k})
		}
	}
	for _, e := range x.ExecsOf(set("telnet", "nc", "ncat", "netcat", "socat")) {
		if h, p, ok := clientTarget(e); ok && !loopbackHost(h) && !standardPort(p) && p != 23 {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

const (
	ipprotoICMP   = 1
	ipprotoICMPv6 = 58
	sockDgram     = 2
)

func matchRawProtocol(x *Index) []Hit {
	var hits []Hit
	for _, i := range x.Kind(trace.KindSocket) {
		e := &x.Events[i]
		typ := e.Type & 0xf
		icmp := (e.Protocol == ipprotoICMP || e.Protocol == ipprotoICMPv6) && (typ == sockRaw || typ == sockDgram)
		raw := typ == sockRaw && e.Domain != afPacket && e.Domain != 16 // netlink is routine
		if !icmp && !raw {
			continue
		}
		img := x.ImageAt(i)
		if img != nil && set("ping", "ping6", "traceroute", "tracepath", "mtr", "arping", "fping", "nmap")[family(img.Name)] {
			continue
		}
		name := "?"
		if img != nil {
			name = img.Name
		}
		hits = append(hits, Hit{Events: []int{i}, Summary: name + " opened a raw/ICMP socket"})
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			if (c.App == "unknown" || c.App == "") && c.BytesIn > 0 && c.BytesOut > 0 && !isLoopback(c.DstIP) && !standardPort(c.DstPort) {
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "unrecognised two-way traffic to " + c.DstIP + ":" + strconv.Itoa(int(c.DstPort))})
			}
		}
	}
	return hits
}

func privateHost(h string) bool {
	ip := net.ParseIP(h)
	return loopbackHost(h) || ip != nil && (ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

func matchProxy(x *Index) []Hit {
	var hits []Hit
	seen := map[string]bool{}
	for _, e := range x.Execs {
		if !networkTools[family(e.Name)] && !isInterpreter(e.Name) {
			continue
		}
		for _, name := range []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "ftp_proxy"} {
			v, ok := envValue(e.Env, name)
			if !ok || v == "" || imageEnvHas(x.Run, name+"="+v) || seen[v] {
				continue
			}
			seen[v] = true
			host := v
			if h, ok := urlHost(v); ok {
				host = h
			} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
				host = host[:i]
			}
			tech := "T1090"
			if privateHost(host) {
				tech = "T1090.001"
			}
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: e.Name + " ran with " + name + "=" + v, Techniques: []string{tech}})
		}
	}
	for _, e := range x.ExecsOf(set("proxychains", "proxychains4", "torsocks", "tor", "torify")) {
		if !infoOnly(e.Args) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: cmdline(e.Image), Techniques: []string{"T1090.003"}})
		}
	}
	for _, i := range x.Kind(trace.KindConnect) {
		if a := x.Events[i].Addr; a != nil && (a.Port == 9050 || a.Port == 9150) {
			hits = append(hits, Hit{Events: []int{i}, Summary: "connect to a Tor port", Techniques: []string{"T1090.003"}})
		}
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			socks := len(c.FirstData) >= 3 && (c.FirstData[0] == 5 && c.FirstData[1] >= 1 && c.FirstData[1] <= 3 || c.FirstData[0] == 4 && c.FirstData[1] == 1)
			if socks || c.HTTP != nil && c.HTTP.Method == "CONNECT" {
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "proxy handshake to " + c.DstIP, Techniques: []string{"T1090"}})
			}
		}
	}
	return hits
}

func matchTunnel(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("ssh", "autossh")) {
		if hasArg(e.Args, "-L", "-R", "-D", "-w") || hasArgPrefix(e.Args, "-L", "-R", "-D") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("chisel", "ngrok", "frpc", "frps", "iodine", "iodined", "dnscat", "dnscat2", "dns2tcpc", "ptunnel", "cloudflared", "bore", "gost", "ligolo", "rathole")) {
		if !infoOnly(e.Args) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("socat")) {
		listen, connect := false, false
		for _, a := range e.Args {
			la := strings.ToLower(a)
			listen = listen || strings.HasPrefix(la, "tcp-listen:") || strings.HasPrefix(la, "tcp4-listen:") || strings.HasPrefix(la, "udp-listen:")
			connect = connect || strings.HasPrefix(la, "tcp:") || strings.HasPrefix(la, "tcp4:") || strings.HasPrefix(la, "openssl:")
		}
		if listen && connect {
			hits = append(hits, hitExec(e, "socat relay: "+cmdline(e.Image)))
		}
	}
	return hits
}

func matchEncryptedShell(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start || !interactiveShell(e.Image) || e.Proc == nil || e.Proc.Parent == nil {
			continue
		}
		for _, sib := range e.Proc.Parent.Children {
			for _, img := range sib.Images {
				fam := family(img.Name)
				if fam == "openssl" && hasArg(img.Args, "s_client") || (fam == "ncat" && hasArg(img.Args, "--ssl")) {
					hits = append(hits, Hit{Events: []int{img.Ev, e.Ev}, Summary: e.Name + " piped through " + cmdline(img)})
				}
			}
		}
	}
	for _, e := range x.ExecsOf(set("ncat")) {
		if hasArg(e.Args, "--ssl") && ncExec(e.Args) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

var webServiceHosts = []string{"pastebin.com", "paste.ee", "hastebin.com", "ghostbin.com", "rentry.co", "api.telegram.org",
	"ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "duckdns.org", "no-ip.com", "ddns.net", "serveo.net",
	"pastebin.pl", "dpaste.org", "termbin.com", "ix.io", "sprunge.us", "0x0.st", "localtunnel.me", "loca.lt"}

func webService(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, s := range webServiceHosts {
		if h == s || strings.HasSuffix(h, "."+s) {
			return true
		}
	}
	return false
}

func matchWebService(x *Index) []Hit {
	var hits []Hit
	if n := x.Run.Network; n != nil {
		for _, q := range n.DNS {
			if webService(q.Name) {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "resolved " + q.Name})
			}
		}
	}
	for _, e := range x.Execs {
		for _, a := range e.Args {
			if h, ok := urlHost(a); ok && webService(h) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

const (
	errENETUNREACH  = 101
	errECONNREFUSED = 111
	errEHOSTUNREACH = 113
)

func matchFallback(x *Index) []Hit {
	var hits []Hit
	nx := false
	if n := x.Run.Network; n != nil {
		for _, q := range n.DNS {
			if q.RCode != "" && q.RCode != "NOERROR" {
				nx = true
			}
		}
	}
	for pid, conns := range connectsOf(x) {
		failedDNS := -1
		for _, c := range conns {
			e := &x.Events[c]
			if e.Addr.Port == 53 {
				if !connectStarted(e) || nx {
					failedDNS = c
				}
				continue
			}
			if failedDNS >= 0 && !isLoopback(e.Addr.IP) && x.Events[c].Seq > x.Events[failedDNS].Seq && !resolvedTo(x.Run, e.Addr.IP) {
				hits = append(hits, Hit{Events: []int{failedDNS, c}, Summary: "pid " + strconv.Itoa(int(pid)) + " fell back to " + e.Addr.IP})
				break
			}
		}
	}
	sortHits(hits)
	return hits
}

// resolvedTo reports an address some DNS answer gave.
func resolvedTo(run *trace.Run, ip string) bool {
	if run.Network == nil {
		return false
	}
	for _, q := range run.Network.DNS {
		if contains(q.Answers, ip) {
			return true
		}
	}
	return false
}
