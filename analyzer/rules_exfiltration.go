package analyzer

import (
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func exfiltrationRules() []Rule {
	return []Rule{
		{
			ID: "exfiltration.dns", Title: "Data encoded into DNS names",
			Description: "A DNS name carried a long encoded label (base64, base32 or hex, high entropy), or one domain got many distinct subdomains: data leaving through DNS.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1048", "T1071.004"},
			Match: matchDNSExfil,
		},
		{
			ID: "exfiltration.upload", Title: "Data uploaded to a remote server",
			Description: "curl/wget posted or uploaded data (-d, -F, -T, --post-data, --post-file) to a remote host, or the sinkhole saw a POST/PUT body. HTTPS: T1048.002; plain HTTP: T1048.003; a webhook: T1567.004; file-sharing or cloud storage: T1567.002.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1048.002", "T1048.003", "T1567.004", "T1567.002"},
			Match: matchUpload,
		},
		{
			ID: "exfiltration.credentials-sent", Title: "Credentials read, then sent out",
			Description: "A process read credential files it does not own and then connected to, or wrote to, a remote address.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1041"},
			Match: matchCredentialsSent,
		},
		{
			ID: "exfiltration.size-limits", Title: "Data split into fixed-size chunks",
			Description: "split -b/-C, or a split archive (zip -s, 7z -v), cut data into pieces: a way to keep each transfer under a limit.",
			Severity:    SeverityLow, Confidence: 0.7, Techniques: []string{"T1030"},
			Match: matchSizeLimits,
		},
	}
}

// encodedLabel reports a DNS label that looks like encoded data.
func encodedLabel(l string) bool {
	if len(l) < 20 {
		return false
	}
	if strings.HasSuffix(l, "=") {
		return true
	}
	hex, b32, mixed := true, true, false
	upper, lower, digit := false, false, false
	for _, c := range l {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper, hex = true, false
		case c >= 'a' && c <= 'z':
			lower, hex = true, false
		case c == '-' || c == '_':
			hex, b32 = false, false
		default:
			return true // '+', '/' : base64 that DNS had to carry
		}
	}
	mixed = upper && lower
	_ = b32
	switch {
	case hex && len(l) >= 24 && digit:
		return true
	case mixed && digit && entropy(l) >= 3.8:
		return true
	}
	return entropy(l) >= 4.2 && digit
}

func dnsNameEncoded(name string) bool {
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if encodedLabel(l) {
			return true
		}
	}
	return false
}

// registered approximates the registered domain: the last two labels.
func registered(name string) string {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(name, ".")), ".")
	if len(labels) <= 2 {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-2:], ".")
}

func matchDNSExfil(x *Index) []Hit {
	var hits []Hit
	if n := x.Run.Network; n != nil {
		subs := map[string]map[string]bool{}
		for _, q := range n.DNS {
			if dnsNameEncoded(q.Name) {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "encoded label in " + q.Name})
			}
			r := registered(q.Name)
			if subs[r] == nil {
				subs[r] = map[string]bool{}
			}
			subs[r][strings.ToLower(q.Name)] = true
		}
		for _, r := range sortedKeys(subs) {
			if len(subs[r]) >= 20 {
				hits = append(hits, Hit{Summary: strconv.Itoa(len(subs[r])) + " distinct names under " + r})
			}
		}
	}
	for _, e := range x.ExecsOf(set("dig", "nslookup", "host", "drill", "kdig", "delv", "resolvectl")) {
		for _, op := range operands(e.Args) {
			if strings.HasPrefix(op, "@") {
				continue
			}
			if strings.Contains(op, ".") && dnsNameEncoded(op) {
				hits = append(hits, hitExec(e, "queries an encoded name: "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

var webhookMarkers = []string{"/api/webhooks/", "hooks.slack.com", "webhook.site", "/webhook", "api.telegram.org/bot", "outlook.office.com/webhook", "/hooks/"}
var fileShareHosts = []string{"transfer.sh", "file.io", "0x0.st", "anonfiles.com", "gofile.io", "mega.nz", "content.dropboxapi.com",
	"storage.googleapis.com", "s3.amazonaws.com", "blob.core.windows.net", "pastebin.com", "bashupload.com", "oshi.at", "catbox.moe", "temp.sh"}

func uploadTechnique(url, host string) string {
	lu := strings.ToLower(url)
	for _, m := range webhookMarkers {
		if strings.Contains(lu, m) {
			return "T1567.004"
		}
	}
	lh := strings.ToLower(host)
	for _, s := range fileShareHosts {
		if lh == s || strings.HasSuffix(lh, "."+s) {
			return "T1567.002"
		}
	}
	if strings.HasPrefix(lu, "https://") || strings.HasPrefix(lu, "ftps://") {
		return "T1048.002"
	}
	return "T1048.003"
}

func uploads(e *Exec) bool {
	switch family(e.Name) {
	case "curl":
		if hasArg(e.Args, "-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form", "-T", "--upload-file", "--json") ||
			hasArgPrefix(e.Args, "--data", "--form", "--upload-file", "--json") {
			return true
		}
		for i, a := range e.Args {
			if (a == "-X" || a == "--request") && i+1 < len(e.Args) && (e.Args[i+1] == "POST" || e.Args[i+1] == "PUT") {
				return true
			}
		}
	case "wget":
		return hasArgPrefix(e.Args, "--post-data", "--post-file", "--body-data", "--body-file", "--method=POST", "--method=PUT")
	}
	return false
}

func matchUpload(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("curl", "wget")) {
		if !uploads(e) {
			continue
		}
		for _, a := range e.Args {
			if h, ok := urlHost(a); ok && !loopbackHost(h) {
				tech := uploadTechnique(a, h)
				sev := Severity(0)
				if tech == "T1567.004" || tech == "T1567.002" {
					sev = SeverityHigh
				}
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "uploads to " + h + ": " + cmdline(e.Image), Techniques: []string{tech}, Severity: sev})
				break
			}
		}
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			if c.HTTP == nil || isLoopback(c.DstIP) || (c.HTTP.Method != "POST" && c.HTTP.Method != "PUT") || c.HTTP.BodySize <= 0 {
				continue
			}
			host := c.HTTP.Host
			if host == "" {
				host = c.Host
			}
			hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: c.HTTP.Method + " of " + strconv.FormatInt(c.HTTP.BodySize, 10) + " bytes to " + host + c.HTTP.Path,
				Techniques: []string{uploadTechnique("http://"+host+c.HTTP.Path, host)}})
		}
	}
	return hits
}

func matchCredentialsSent(x *Index) []Hit {
	var hits []Hit
	reads := map[int32]*Open{}
	for _, o := range x.Opens {
		if o.Write() || o.Failed || o.Img == nil {
			continue
		}
		if credentialFile(o.Path) != "" && !ownsCredential(x, o) && reads[o.PID] == nil {
			reads[o.PID] = o
		}
	}
	if len(reads) == 0 {
		return nil
	}
	done := map[int32]bool{}
	for _, k := range []trace.Kind{trace.KindConnect, trace.KindWrite} {
		for _, i := range x.Kind(k) {
			e := &x.Events[i]
			r := reads[e.PID]
			if r == nil || done[e.PID] || e.Seq < x.Events[r.Ev].Seq {
				continue
			}
			if k == trace.KindConnect && (e.Addr == nil || e.Addr.IP == "" || isLoopback(e.Addr.IP) || e.Addr.Port == 53) {
				continue
			}
			if k == trace.KindWrite && !strings.HasPrefix(e.Path, "socket:") && !strings.Contains(e.Path, "TCP") {
				continue
			}
			done[e.PID] = true
			hits = append(hits, Hit{Events: []int{r.Ev, i}, Summary: r.Img.Name + " read " + r.Path + ", then reached the network"})
		}
	}
	sortHits(hits)
	return hits
}

func matchSizeLimits(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("split")) {
		if hasArg(e.Args, "-b", "-C", "--bytes", "--line-bytes") || hasArgPrefix(e.Args, "-b", "--bytes=", "-C", "--line-bytes=") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("zip", "7z", "7za", "rar")) {
		if hasArg(e.Args, "-s", "--split-size") || hasArgPrefix(e.Args, "-v") && family(e.Name) != "zip" {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}
