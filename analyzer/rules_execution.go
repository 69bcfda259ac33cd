package analyzer

import (
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func executionRules() []Rule {
	return []Rule{
		{
			ID:          "execution.reverse-shell",
			Title:       "Shell wired to a network connection",
			Description: "A shell whose stdin/stdout is a socket: the sinkhole talked to it, or a process connected and then became (or forked) an interactive shell, or fed one through a pipe. That is a reverse shell.",
			Severity:    SeverityCritical, Confidence: 0.9,
			Techniques: []string{"T1059.004", "T1095"},
			Match:      matchReverseShell,
		},
		{
			ID:          "execution.pipe-to-shell",
			Title:       "Download piped into a shell",
			Description: "A shell reading its script from stdin ran beside a downloader of the same parent: `curl URL | sh`. The code it ran never touched the disk.",
			Severity:    SeverityHigh, Confidence: 0.85,
			Techniques: []string{"T1059.004", "T1105"},
			Match:      matchPipeToShell,
		},
		{
			ID:          "execution.interactive-shell",
			Title:       "Interactive shell spawned inside the container",
			Description: "A shell with no script and no -c was started by a program other than the container's entry process: something wants a shell to type into (awk/python/find escapes, `busybox sh &`). Spawned by a non-shell program it is a shell escape.",
			Severity:    SeverityMedium, Confidence: 0.6,
			Techniques: []string{"T1059.004"},
			Match:      matchInteractiveShell,
		},
		{
			ID:          "execution.inline-interpreter",
			Title:       "Interpreter one-liner that spawns, decodes or connects",
			Description: "Code passed on the command line (python -c, perl -e, node -e, ruby -e, php -r) that spawns a pty or a shell, runs decoded data, or wires a socket to a process. A one-liner with network code alone (a health probe) is not enough.",
			Severity:    SeverityHigh, Confidence: 0.8,
			Techniques: []string{"T1059", "T1059.006", "T1059.007", "T1059.011"},
			Match:      matchInlineInterpreter,
		},
		{
			ID:          "execution.at-job",
			Title:       "Job queued with at",
			Description: "at/batch queued a command, or a file was written in the at spool.",
			Severity:    SeverityMedium, Confidence: 0.8,
			Techniques: []string{"T1053.002"},
			Match:      matchAtJob,
		},
		{
			ID:          "execution.systemctl-unusual-unit",
			Title:       "systemctl pointed at a unit from a writable location or written in this run",
			Description: "systemctl link/enable/start of a unit file that lives in /tmp, /dev/shm, /var/tmp or a home directory, or that the run itself wrote.",
			Severity:    SeverityHigh, Confidence: 0.8,
			Techniques: []string{"T1569.003"},
			Match:      matchSystemctlUnusual,
		},
		{
			ID:          "execution.container-admin",
			Title:       "Container runtime driven from inside the container",
			Description: "docker/kubectl/crictl/ctr/podman run, exec or cp executed inside the workload: it controls other containers.",
			Severity:    SeverityHigh, Confidence: 0.75,
			Techniques: []string{"T1609"},
			Match:      matchContainerAdmin,
		},
		{
			ID:          "execution.dropped-payload",
			Title:       "File written during the run, then executed",
			Description: "A program wrote a file (not a package manager) and it was executed afterwards. Downloaded: ingress tool transfer; decoded or decrypted: obfuscated payload; written from a program's own data: embedded payload; compiled: compile after delivery.",
			Severity:    SeverityHigh, Confidence: 0.8,
			Techniques: []string{"T1105", "T1140", "T1027", "T1027.004", "T1027.009", "T1027.013", "T1059.004"},
			Match:      matchDroppedPayload,
		},
	}
}

func matchReverseShell(x *Index) []Hit {
	var hits []Hit
	for _, s := range socketShells(x) {
		h := Hit{Events: s.Events, Summary: s.How}
		if s.Conn != nil {
			h.Conns = []trace.Conn{*s.Conn}
			h.Summary += " at " + s.Conn.DstIP
			if s.Conn.App != "" && s.Conn.App != "shell" && s.Conn.App != "unknown" {
				h.Techniques = []string{"T1059.004"}
			}
		}
		hits = append(hits, h)
	}
	// Shell text that opens /dev/tcp is bash's built-in socket: a reverse
	// shell even when gVisor refuses the connect.
	for _, e := range x.Execs {
		code := inlineCode(e.Image)
		if code == "" {
			continue
		}
		if devTCP(code) && (strings.Contains(code, "0>&1") || strings.Contains(code, ">&") || strings.Contains(code, "<&") || strings.Contains(code, "exec ")) {
			hits = append(hits, hitExec(e, "shell redirects its stdio to /dev/tcp"))
		}
		if ncInScript(code) {
			hits = append(hits, hitExec(e, "script runs netcat with -e/-c"))
		}
	}
	for _, e := range x.ExecsOf(set("nc", "ncat", "netcat", "nc.traditional", "nc.openbsd")) {
		if ncExec(e.Args) {
			hits = append(hits, hitExec(e, "netcat executes a program for its peer: "+cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("socat")) {
		for _, a := range e.Args {
			la := strings.ToLower(a)
			if (strings.HasPrefix(la, "exec:") || strings.HasPrefix(la, "system:")) && (strings.Contains(la, "sh") || strings.Contains(la, "pty")) {
				hits = append(hits, hitExec(e, "socat attaches a shell to a socket: "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

func devTCP(s string) bool {
	return strings.Contains(s, "/dev/tcp/") || strings.Contains(s, "/dev/udp/")
}

// ncInScript reports a netcat command with -e/-c inside shell text.
func ncInScript(code string) bool {
	f := strings.Fields(code)
	for i, tok := range f {
		switch family(baseName(tok)) {
		case "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd":
		default:
			continue
		}
		end := i + 1
		for end < len(f) && !strings.ContainsAny(f[end], "|;&") {
			end++
		}
		if ncExec(f[i+1 : end]) {
			return true
		}
	}
	return false
}

// ncExec reports netcat's -e/-c options, which hand the socket to a program.
func ncExec(args []string) bool {
	for i, a := range args {
		if (a == "-e" || a == "-c" || a == "--exec" || a == "--sh-exec" || a == "--lua-exec") && i+1 < len(args) {
			return true
		}
	}
	return false
}

func matchPipeToShell(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start || !interactiveShell(e.Image) || e.Proc == nil || e.Proc.Parent == nil {
			continue
		}
		for _, sib := range e.Proc.Parent.Children {
			if sib == e.Proc {
				continue
			}
			for _, img := range sib.Images {
				if downloaders[family(img.Name)] && hasRemoteURL(img.Args) && !hasOutputFile(img) {
					hits = append(hits, Hit{Events: []int{img.Ev, e.Ev},
						Summary: cmdline(img) + " | " + e.Name})
				}
			}
		}
	}
	return hits
}

// hasRemoteURL reports a URL or host operand that is not loopback.
func hasRemoteURL(args []string) bool {
	for _, a := range args {
		if u, ok := urlHost(a); ok && !loopbackHost(u) {
			return true
		}
	}
	return false
}

// urlHost returns the host of an http(s)/ftp URL argument.
func urlHost(a string) (string, bool) {
	la := strings.ToLower(a)
	for _, p := range []string{"http://", "https://", "ftp://", "tftp://", "ftps://"} {
		if strings.HasPrefix(la, p) {
			rest := a[len(p):]
			if i := strings.IndexAny(rest, "/?#"); i >= 0 {
				rest = rest[:i]
			}
			if i := strings.LastIndexByte(rest, '@'); i >= 0 {
				rest = rest[i+1:]
			}
			host := rest
			if strings.HasPrefix(host, "[") {
				if i := strings.IndexByte(host, ']'); i > 0 {
					return host[1:i], true
				}
			}
			if i := strings.LastIndexByte(host, ':'); i >= 0 {
				host = host[:i]
			}
			return host, true
		}
	}
	return "", false
}

func loopbackHost(h string) bool {
	h = strings.ToLower(h)
	return h == "localhost" || h == "" || strings.HasSuffix(h, ".localhost") || isLoopback(h)
}

// hasOutputFile reports a downloader told to write a file (-o, -O FILE),
// which is not a pipe into a shell.
func hasOutputFile(img *Image) bool {
	for i, a := range img.Args {
		switch {
		case a == "-o" || a == "--output" || a == "-O" && family(img.Name) == "wget":
			if i+1 < len(img.Args) && img.Args[i+1] != "-" && img.Args[i+1] != "/dev/stdout" {
				return true
			}
		case a == "-O" || a == "--remote-name" || strings.HasPrefix(a, "--output-document=") && !strings.HasSuffix(a, "=-"):
			return true
		}
	}
	return false
}

// interpreterTechnique maps an interpreter to its ATT&CK sub-technique.
func interpreterTechnique(name string) string {
	switch family(name) {
	case "python", "pypy", "ipython", "jython":
		return "T1059.006"
	case "node", "nodejs", "deno", "bun":
		return "T1059.007"
	case "lua", "luajit":
		return "T1059.011"
	}
	return "T1059"
}

var (
	spawnWords  = []string{"pty.spawn", "os.system", "subprocess", "os.popen", "os.exec", "popen(", "system(", "exec(\"/bin", "child_process", "spawn(", "execsync", "proc_open", "shell_exec", "passthru", "io.popen", "os.execute", "`/bin/sh", "exec \"/bin/sh", "exec '/bin/sh", "/bin/sh -i", "/bin/bash -i", "execl"}
	socketWords = []string{"socket", "fsockopen", "io::socket", "net.connect", "createconnection", "tcpsocket", "net::http"}
	decodeWords = []string{"b64decode", "base64", "decode('hex')", "fromhex", "unhexlify", "decompress", "rot13", "frombase64", "atob(", "buffer.from(", "pack(\"h", "unpack(", "marshal.loads", "zlib", "chr("}
	dupWords    = []string{"dup2", "os.dup", "fileno()"}
)

func containsAny(s string, words []string) (string, bool) {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w, true
		}
	}
	return "", false
}

func matchInlineInterpreter(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if !isInterpreter(e.Name) || isAwk(e.Name) {
			continue
		}
		code := strings.ToLower(inlineCode(e.Image))
		if code == "" {
			continue
		}
		_, spawn := containsAny(code, spawnWords)
		_, sock := containsAny(code, socketWords)
		_, dec := containsAny(code, decodeWords)
		_, dup := containsAny(code, dupWords)
		evalish := strings.Contains(code, "exec(") || strings.Contains(code, "eval(") || strings.Contains(code, "eval ")
		var why string
		switch {
		case strings.Contains(code, "pty.spawn"):
			why = "spawns a pty shell"
		case sock && (dup || spawn):
			why = "wires a socket to a process"
		case dec && (spawn || evalish):
			why = "runs decoded data"
		}
		if why == "" {
			continue
		}
		hits = append(hits, Hit{Events: []int{e.Ev}, Summary: e.Name + " one-liner " + why,
			Techniques: []string{interpreterTechnique(e.Name)}})
	}
	return hits
}

func isAwk(name string) bool {
	switch family(name) {
	case "awk", "gawk", "mawk", "nawk", "busybox-awk":
		return true
	}
	return false
}

// shellEscapers are programs whose job is not to run shells; an
// interactive shell under them is a shell escape.
func shellEscaper(name string) bool {
	f := family(name)
	if isShell(f) {
		return false
	}
	switch f {
	case "sudo", "su", "doas", "runuser", "login", "sshd", "script", "tmux", "screen", "env", "nohup", "setsid",
		"timeout", "xargs", "gosu", "su-exec", "tini", "dumb-init", "s6-svscan", "runsv", "supervisord", "chroot",
		"nsenter", "unshare", "setpriv", "stdbuf", "nice", "ionice", "chpst", "exec", "time", "strace":
		return false
	}
	return true
}

func matchInteractiveShell(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start || !interactiveShell(e.Image) {
			continue
		}
		// The entry process exec'ing a shell (CMD ["sh"]) is the image's
		// own design, not a spawned shell.
		if x.Root != nil && e.Proc == x.Root {
			continue
		}
		h := hitExec(e, "interactive "+e.Name+" started")
		if e.Prev != nil {
			h.Events = append(h.Events, e.Prev.Ev)
			h.Summary += " by " + e.Prev.Name
			if shellEscaper(e.Prev.Name) {
				h.Severity, h.Confidence = SeverityHigh, 0.8
				h.Summary = e.Prev.Name + " spawned an interactive " + e.Name
			}
		}
		hits = append(hits, h)
	}
	return hits
}

func matchAtJob(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("at", "batch")) {
		if infoOnly(e.Args) || hasArg(e.Args, "-l", "-r", "-d", "-c") {
			continue
		}
		hits = append(hits, hitExec(e, "queued: "+cmdline(e.Image)))
	}
	for _, o := range x.WritesMatching(func(p string) bool { return persistenceKind(p) == "at" }) {
		if o.Img != nil && family(o.Img.Name) == "atd" {
			continue
		}
		hits = append(hits, hitOpen(o, "wrote at spool "+o.Path))
	}
	return hits
}

func matchSystemctlUnusual(x *Index) []Hit {
	written := map[string]bool{}
	for _, o := range x.WritesMatching(func(p string) bool { return strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".timer") }) {
		if o.Img == nil || !x.UnderAny(o.PID, packageManagers) {
			written[baseName(o.Path)] = true
			written[o.Path] = true
		}
	}
	var hits []Hit
	for _, e := range x.ExecsOf(set("systemctl")) {
		if len(e.Args) == 0 || infoOnly(e.Args) {
			continue
		}
		sub := ""
		for _, a := range e.Args {
			if !strings.HasPrefix(a, "-") {
				sub = a
				break
			}
		}
		switch sub {
		case "link", "enable", "start", "restart", "reenable", "try-restart", "reload-or-restart":
		default:
			continue
		}
		for _, op := range operands(e.Args)[1:] {
			p := resolve(e.Cwd, op)
			switch {
			case strings.Contains(op, "/") && isWritableLocation(p):
				hits = append(hits, hitExec(e, "systemctl "+sub+" of a unit in "+p))
			case written[op] || written[p] || written[op+".service"]:
				hits = append(hits, hitExec(e, "systemctl "+sub+" of "+op+", a unit written in this run"))
			}
		}
	}
	return hits
}

var containerCLIs = set("docker", "kubectl", "crictl", "ctr", "nerdctl", "podman", "oc", "runc", "kubeadm")

func matchContainerAdmin(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(containerCLIs) {
		if infoOnly(e.Args) {
			continue
		}
		for _, a := range operands(e.Args) {
			if a == "run" || a == "exec" || a == "cp" || a == "create" || a == "attach" || a == "debug" || a == "apply" || a == "start" {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

// decoders turn text into a payload; their output, executed, is T1140.
var decoders = set("base64", "base32", "basenc", "xxd", "uudecode", "openssl", "gpg", "unzip", "7z", "7za", "7zr", "ccdecrypt", "gunzip", "zcat", "bunzip2", "unxz")

func matchDroppedPayload(x *Index) []Hit {
	var hits []Hit
	conns := connectsOf(x)
	for _, we := range writtenThenExecuted(x) {
		p := we.Path
		if !isWritableLocation(p) && !under(p, "/opt", "/srv", "/var/lib", "/usr/local/bin", "/etc", "/app", "/mnt", "/data") {
			continue
		}
		h := Hit{Events: []int{we.Exec.Ev}, Summary: p + " written, then run by " + we.Exec.Name}
		if we.File != nil {
			h.Files = []trace.FileChange{*we.File}
		}
		tech := "T1059.004"
		if we.Write != nil {
			h.Events = append(h.Events, we.Write.Ev)
			if w := writer(x, we.Write); w != nil {
				h.Events = append(h.Events, w.Ev)
				fam := family(w.Name)
				switch {
				case downloaders[fam] || fetched(x, conns[we.Write.PID], we.Write.Ev):
					tech = "T1105"
					h.Summary = p + " downloaded by " + w.Name + ", then run"
				case compilers[fam] || fam == "go" || fam == "cargo":
					tech = "T1027.004"
					h.Summary = p + " compiled by " + w.Name + ", then run"
				case (fam == "unzip" || fam == "7z" || fam == "7za") && hasArgPrefix(w.Args, "-P", "-p", "--password"),
					fam == "openssl" && hasArg(w.Args, "enc", "-d"), fam == "gpg" && hasArg(w.Args, "-d", "--decrypt"),
					fam == "ccdecrypt":
					tech = "T1027.013"
					h.Summary = p + " decrypted by " + w.Name + ", then run"
				case decoders[fam]:
					tech = "T1140"
					h.Summary = p + " decoded by " + w.Name + ", then run"
				case isShell(fam) || fam == "tee" || fam == "cp" || fam == "cat" || fam == "echo" || fam == "printf" || isInterpreter(fam):
					tech = "T1059.004"
				default:
					tech = "T1027.009"
					h.Summary = p + " written by " + w.Name + " from its own data, then run"
				}
			}
		}
		h.Techniques = []string{tech}
		if tech == "T1140" {
			h.Techniques = []string{"T1027", "T1140"}
		}
		if tech == "T1059.004" && !isScratch(p) {
			h.Severity, h.Confidence = SeverityMedium, 0.6
		}
		hits = append(hits, h)
	}
	return hits
}

// fetched reports a successful connection, other than DNS, before event
// ev: the writer could have downloaded what it wrote.
func fetched(x *Index, conns []int, ev int) bool {
	for _, c := range conns {
		e := &x.Events[c]
		if c < ev && connectStarted(e) && e.Addr != nil && e.Addr.Port != 53 {
			return true
		}
	}
	return false
}
