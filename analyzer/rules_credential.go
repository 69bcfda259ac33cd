package analyzer

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func credentialRules() []Rule {
	return []Rule{
		{
			ID: "credential.shadow", Title: "Password hashes read",
			Description: "/etc/shadow (or gshadow, master.passwd, opasswd) was opened by a program that does not authenticate users: cat, cp, a shell redirection. sudo, su, login and the account tools reading it through PAM are not it.",
			Severity:    SeverityHigh, Confidence: 0.9, Techniques: []string{"T1003.008"},
			Match: matchShadowRead,
		},
		{
			ID: "credential.proc-memory", Title: "Another process's memory read through /proc",
			Description: "/proc/<pid>/mem of another process was opened: dumping its memory for secrets.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1003.007"},
			Match: matchProcMemory,
		},
		{
			ID: "credential.files", Title: "Credentials searched for or read from files",
			Description: "A recursive search for password/secret/token words, or a read of cloud, container registry, git or database credential files by a program other than their owner.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1552.001"},
			Match: matchCredentialFiles,
		},
		{
			ID: "credential.shell-history", Title: "Shell history read",
			Description: "A history file (.bash_history, .zsh_history, .mysql_history...) was read by something other than its own shell: commands often carry passwords.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1552.003"},
			Match: matchHistoryRead,
		},
		{
			ID: "credential.private-keys", Title: "Private keys searched for or copied",
			Description: "A user's or host's SSH private key was read by a program outside the SSH family, or a search looked for key files (id_rsa, *.pem, *.key, PRIVATE KEY). sshd reading its host keys and ssh-keygen writing them are not it.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1552.004"},
			Match: matchPrivateKeys,
		},
		{
			ID: "credential.cloud-metadata", Title: "Cloud instance metadata queried",
			Description: "A connection (or its attempt) to the instance metadata service (169.254.169.254, fd00:ec2::254, metadata.google.internal): where cloud role credentials live.",
			Severity:    SeverityHigh, Confidence: 0.9, Techniques: []string{"T1552.005"},
			Match: matchCloudMetadata,
		},
		{
			ID: "credential.container-api", Title: "Kubernetes credentials or API reached",
			Description: "A service account token was read by a program that is not a Kubernetes client, or the kubelet or API server was contacted from the workload.",
			Severity:    SeverityHigh, Confidence: 0.75, Techniques: []string{"T1552.007"},
			Match: matchContainerAPI,
		},
		{
			ID: "credential.sniffing", Title: "Packet capture attempted",
			Description: "A packet socket (AF_PACKET) was requested, or tcpdump/tshark/dumpcap/ngrep ran to capture (not --version). gVisor refuses it; the attempt counts.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1040"},
			Match: matchSniffing,
		},
		{
			ID: "credential.keylogging", Title: "Terminal input logged",
			Description: "A shell logs every command ($BASH_COMMAND in a DEBUG trap, PROMPT_COMMAND writing history to a file) inline, exported or written into a shell start-up file; a shell appended the command lines it was about to run to a file, once per command; or input devices were read.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1056.001"},
			Match: matchKeylogging,
		},
		{
			ID: "credential.browser", Title: "Browser credential stores read",
			Description: "A browser's password, key or cookie database was read by a program other than the browser.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1555.003", "T1539"},
			Match: matchBrowserSecrets,
		},
		{
			ID: "credential.kerberos", Title: "Kerberos tickets or keytab read",
			Description: "A Kerberos credential cache or keytab was read by a program that is not a Kerberos client.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1558.005"},
			Match: matchKerberos,
		},
		{
			ID: "credential.cracking", Title: "Password cracker run",
			Description: "john, hashcat or unshadow ran on files: password hashes are being cracked.",
			Severity:    SeverityHigh, Confidence: 0.9, Techniques: []string{"T1110.002", "T1003.008"},
			Match: matchCracking,
		},
	}
}

// credentialOpens returns reads (attempts refused for permissions too) of
// one kind of credential by programs that do not own it.
func credentialOpens(x *Index, kinds ...string) []*Open {
	var out []*Open
	for _, o := range x.Opens {
		if o.Write() || (o.Failed && o.Errno == errENOENT) {
			continue
		}
		if contains(kinds, credentialFile(o.Path)) && !ownsCredential(x, o) {
			out = append(out, o)
		}
	}
	return out
}

func readHits(opens []*Open) []Hit {
	var hits []Hit
	for _, o := range opens {
		who := "?"
		if o.Img != nil {
			who = o.Img.Name
		}
		s := who + " read " + o.Path
		if o.Failed {
			s = who + " tried to read " + o.Path
		}
		hits = append(hits, hitOpen(o, s))
	}
	return hits
}

func matchShadowRead(x *Index) []Hit {
	return readHits(credentialOpens(x, "shadow"))
}

func matchProcMemory(x *Index) []Hit {
	var hits []Hit
	for _, o := range x.Opens {
		pid, leaf, ok := procPIDLeaf(o.Path)
		if !ok || leaf != "mem" || o.Write() || pid == "self" || pid == "thread-self" {
			continue
		}
		if o.Img != nil && strconv.Itoa(int(o.PID)) == pid {
			continue
		}
		hits = append(hits, hitOpen(o, "opened "+o.Path))
	}
	return hits
}

var searchTools = set("grep", "egrep", "fgrep", "rg", "ag", "ack", "find", "locate", "git-grep", "zgrep")
var secretWordRe = regexp.MustCompile(`(?i)pass(w(or)?d)?|secret|token|api[_-]?key|credential|private[_ -]?key|aws_access|BEGIN .*PRIVATE`)

func matchCredentialFiles(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(searchTools) {
		if infoOnly(e.Args) {
			continue
		}
		fam := family(e.Name)
		recursive := fam == "find" || fam == "rg" || fam == "ag" || fam == "ack" || fam == "locate" ||
			hasArgPrefix(e.Args, "-r", "-R", "--recursive", "-ir", "-ri", "-iR", "-Ri", "-lr", "-rl", "-rn", "-nr", "-Rn", "-rli", "-ril")
		if !recursive {
			continue
		}
		for _, a := range e.Args {
			if secretWordRe.MatchString(a) && !strings.HasPrefix(a, "--") {
				hits = append(hits, hitExec(e, "searched for secrets: "+cmdline(e.Image)))
				break
			}
		}
	}
	hits = append(hits, readHits(credentialOpens(x, "cloud"))...)
	return hits
}

func matchHistoryRead(x *Index) []Hit {
	return readHits(credentialOpens(x, "history"))
}

var keyNameRe = regexp.MustCompile(`(?i)(^|[*/])id_(rsa|dsa|ecdsa|ed25519)\b|\*\.(pem|key|p12|pfx|ppk|jks|keystore)$|PRIVATE KEY|ssh_host_.*_key`)

func matchPrivateKeys(x *Index) []Hit {
	hits := readHits(credentialOpens(x, "ssh-key"))
	for _, e := range x.ExecsOf(searchTools) {
		if infoOnly(e.Args) {
			continue
		}
		for _, a := range e.Args {
			if keyNameRe.MatchString(a) {
				hits = append(hits, hitExec(e, "searched for private keys: "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

var metadataIPs = set("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
var metadataHosts = set("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal", "metadata.azure.com")

func matchCloudMetadata(x *Index) []Hit {
	var hits []Hit
	for _, i := range x.Kind(trace.KindConnect) {
		if a := x.Events[i].Addr; a != nil && metadataIPs[a.IP] {
			h := Hit{Events: []int{i}, Summary: "connect to " + a.IP + ":" + strconv.Itoa(int(a.Port))}
			if img := x.ImageAt(i); img != nil {
				h.Events = append(h.Events, img.Ev)
			}
			hits = append(hits, h)
		}
	}
	if n := x.Run.Network; n != nil {
		for _, q := range n.DNS {
			if metadataHosts[strings.ToLower(strings.TrimSuffix(q.Name, "."))] {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "resolved " + q.Name})
			}
		}
		for _, c := range n.Conns {
			if metadataIPs[c.DstIP] || (c.HTTP != nil && metadataHosts[strings.ToLower(c.HTTP.Host)]) {
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "request to the metadata service"})
			}
		}
	}
	for _, e := range x.Execs {
		for _, a := range e.Args {
			if h, ok := urlHost(a); ok && (metadataIPs[h] || metadataHosts[strings.ToLower(h)]) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

func matchContainerAPI(x *Index) []Hit {
	hits := readHits(credentialOpens(x, "k8s-token"))
	for _, i := range x.Kind(trace.KindConnect) {
		if a := x.Events[i].Addr; a != nil && (a.Port == 10250 || a.Port == 10255) && !isLoopback(a.IP) {
			hits = append(hits, Hit{Events: []int{i}, Summary: "connect to a kubelet port on " + a.IP})
		}
	}
	if n := x.Run.Network; n != nil {
		for _, q := range n.DNS {
			if strings.HasPrefix(strings.ToLower(q.Name), "kubernetes.default") {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "resolved " + q.Name})
			}
		}
	}
	return hits
}

var sniffers = set("tcpdump", "tshark", "dumpcap", "ngrep", "ettercap", "dsniff", "urlsnarf", "tcpflow", "netsniff-ng", "bettercap", "arpspoof")

func matchSniffing(x *Index) []Hit {
	var hits []Hit
	for _, i := range x.Kind(trace.KindSocket) {
		e := &x.Events[i]
		if e.Domain == afPacket {
			h := Hit{Events: []int{i}, Summary: "packet socket requested"}
			if img := x.ImageAt(i); img != nil {
				h.Summary = img.Name + " requested a packet socket"
				if img.Ev >= 0 {
					h.Events = append(h.Events, img.Ev)
				}
			}
			hits = append(hits, h)
		}
	}
	for _, e := range x.ExecsOf(sniffers) {
		if infoOnly(e.Args) || hasArg(e.Args, "-D", "--list-interfaces", "-L") {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	return hits
}

func matchKeylogging(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if isShell(e.Name) {
			code := inlineCode(e.Image)
			if trapRe.MatchString(code) && strings.Contains(code, "BASH_COMMAND") {
				hits = append(hits, hitExec(e, "DEBUG trap logs every command"))
				continue
			}
		}
		if v, ok := envValue(e.Env, "PROMPT_COMMAND"); ok && !imageEnvHas(x.Run, "PROMPT_COMMAND="+v) && promptLogger(v) {
			hits = append(hits, hitExec(e, "PROMPT_COMMAND records history"))
		}
	}
	// The hook planted in a start-up file (or any script) the run wrote.
	for _, a := range x.Run.Artifacts {
		if len(a.Data) > 1<<20 || x.File(a.Path) == nil {
			continue
		}
		text := string(a.Data)
		if trapRe.MatchString(text) && strings.Contains(text, "BASH_COMMAND") {
			hits = append(hits, Hit{Files: []trace.FileChange{*x.File(a.Path)}, Summary: a.Path + " sets a DEBUG trap logging $BASH_COMMAND"})
		} else if m := promptCommandRe.FindStringSubmatch(text); m != nil && promptLogger(m[1]) {
			hits = append(hits, Hit{Files: []trace.FileChange{*x.File(a.Path)}, Summary: a.Path + " sets a PROMPT_COMMAND that records history"})
		}
	}
	hits = append(hits, commandLogs(x)...)
	for _, o := range x.Opens {
		if !o.Write() && strings.HasPrefix(o.Path, "/dev/input/") {
			hits = append(hits, hitOpen(o, "opened "+o.Path))
		}
	}
	return hits
}

var processListers = set("ps", "top", "htop", "pgrep", "pstree", "w", "pidof", "atop", "procs", "pkill", "watch")

var promptCommandRe = regexp.MustCompile(`PROMPT_COMMAND=(.*)`)

// promptLogger reports a PROMPT_COMMAND that sends the last command
// somewhere: a file, syslog or a socket.
func promptLogger(v string) bool {
	return (strings.Contains(v, "history") || strings.Contains(v, "BASH_COMMAND")) &&
		(strings.Contains(v, ">>") || strings.Contains(v, "logger") || strings.Contains(v, "/dev/tcp") || strings.Contains(v, "tee") || strings.Contains(v, "curl"))
}

// commandLogs finds what a DEBUG trap kept in a script does: the shell
// itself appends to one file before each command, and the file's copy
// holds the command lines its children then ran. Logging progress
// messages does not record the commands themselves.
func commandLogs(x *Index) []Hit {
	type key struct {
		pid  int32
		path string
	}
	appends := map[key][]*Open{}
	var order []key
	for _, o := range x.Opens {
		if o.Failed || o.Flags&oAppend == 0 || o.Img == nil || !isShell(o.Img.Name) {
			continue
		}
		if p := x.Proc(o.PID); p == nil || len(p.Images) == 0 || p.Images[len(p.Images)-1] != o.Img {
			continue // a forked child's redirection, not the shell's own
		}
		k := key{o.PID, o.Path}
		if appends[k] == nil {
			order = append(order, k)
		}
		appends[k] = append(appends[k], o)
	}
	var hits []Hit
	executed := x.ExecutedPaths()
	for _, k := range order {
		opens := appends[k]
		a := artifactFor(x.Run, k.path)
		// A script assembled line by line and then run holds its commands
		// because it is their source.
		if len(opens) < 2 || a == nil || len(executed[k.path]) > 0 {
			continue
		}
		first := x.Events[opens[0].Ev].Seq
		shell := x.Proc(k.pid)
		for _, e := range x.Execs {
			// Process listers print their own command line.
			if e.Seq < first || len(e.Argv) < 2 || e.Proc == shell || !isAncestor(shell, e.Proc) || processListers[e.Fam] {
				continue
			}
			if line := strings.Join(e.Argv, " "); len(line) >= 6 && bytes.Contains(a.Data, []byte(line)) {
				h := hitOpen(opens[0], k.path+" records the commands the shell runs (\""+clip(line, 60)+"\")")
				h.Events = append(h.Events, e.Ev)
				h.Severity, h.Confidence = SeverityMedium, 0.65
				hits = append(hits, h)
				break
			}
		}
	}
	return hits
}

func matchBrowserSecrets(x *Index) []Hit {
	var hits []Hit
	for _, o := range credentialOpens(x, "browser") {
		h := readHits([]*Open{o})[0]
		h.Techniques = []string{"T1555.003"}
		b := baseName(o.Path)
		if strings.Contains(strings.ToLower(b), "cookie") {
			h.Techniques = []string{"T1539"}
		}
		if b == "places.sqlite" || b == "Bookmarks" || b == "History" {
			continue // browsing data, not credentials: discovery.browser
		}
		hits = append(hits, h)
	}
	return hits
}

func matchKerberos(x *Index) []Hit {
	return readHits(credentialOpens(x, "kerberos"))
}

func matchCracking(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("john", "hashcat", "unshadow", "hydra-wizard", "ophcrack")) {
		if infoOnly(e.Args) || len(operands(e.Args)) == 0 {
			continue
		}
		h := hitExec(e, cmdline(e.Image))
		h.Techniques = []string{"T1110.002"}
		if family(e.Name) == "unshadow" {
			h.Techniques = []string{"T1003.008", "T1110.002"}
		}
		hits = append(hits, h)
	}
	return hits
}
