package analyzer

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func evasionRules() []Rule {
	return []Rule{
		{
			ID: "evasion.decode-to-shell", Title: "Decoded data run as code",
			Description: "A decoder (base64 -d, xxd -r, openssl enc -d...) fed a shell, a script decoded its own commands (`echo ... | base64 -d | sh`, `eval $(... base64 -d)`), or an interpreter one-liner exec'd decoded bytes.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1027", "T1027.010", "T1140"},
			Match: matchDecodeToShell,
		},
		{
			ID: "evasion.packed-binary", Title: "Packed executable run",
			Description: "An executed file's captured content carries a packer's signature (UPX), or upx itself ran on a file.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1027.002"},
			Match: matchPacked,
		},
		{
			ID: "evasion.renamed-utility", Title: "System utility copied under another name and run",
			Description: "A program ran from a path outside the system directories with the same content as a system binary of another name (a copy of sh called crond), or cp copied a system binary to a new name that then ran.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1036.003"},
			Match: matchRenamedUtility,
		},
		{
			ID: "evasion.masquerade-location", Title: "Program run from a deceptive location or under a daemon's name",
			Description: "A program ran from a directory named only with dots or spaces (`...`), or from a writable location under the name of a system daemon or kernel thread (sshd, crond, kworker).",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1036.005"},
			Match: matchMasqueradeLocation,
		},
		{
			ID: "evasion.masquerade-task", Title: "Process disguised as a kernel thread or service",
			Description: "A process set its argv[0] to a bracketed kernel-thread name ([kworker/0:1]) or to a known daemon's name while running another binary.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1036.004"},
			Match: matchMasqueradeTask,
		},
		{
			ID: "evasion.double-extension", Title: "File with a double extension executed",
			Description: "An executed file is named like a document with an executable extension after it (report.pdf.sh).",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1036.007"},
			Match: matchDoubleExtension,
		},
		{
			ID: "evasion.file-type-masquerade", Title: "Data-typed file executed",
			Description: "A file named as data (.png, .jpg, .pdf, .txt, .log...) was executed or handed to an interpreter as its script.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1036.008"},
			Match: matchFileTypeMasquerade,
		},
		{
			ID: "evasion.clear-history", Title: "Shell history cleared",
			Description: "A shell history file was truncated, deleted or linked to /dev/null, or a shell ran `history -c`.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1070.003"},
			Match: matchClearHistory,
		},
		{
			ID: "evasion.history-disabled", Title: "Shell history logging disabled",
			Description: "Programs ran with HISTFILE=/dev/null (or empty), HISTSIZE=0 or HISTFILESIZE=0 that the image did not set, or a shell unset HISTFILE / ran `set +o history`.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1562.003"},
			Match: matchHistoryDisabled,
		},
		{
			ID: "evasion.file-deletion", Title: "Files deleted to remove traces",
			Description: "A file that ran was deleted afterwards, shred/srm/wipe ran, or rm was aimed at the filesystem root or a top-level system directory.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1070.004"},
			Match: matchFileDeletion,
		},
		{
			ID: "evasion.clear-logs", Title: "System logs deleted or truncated",
			Description: "A file under /var/log was deleted, truncated or overwritten by a shell or file utility (rm, truncate, dd, shred, `> file`). Rotation by logrotate/savelog, and a daemon appending to its own log, are not it.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1070.002"},
			Match: matchClearLogs,
		},
		{
			ID: "evasion.timestomp", Title: "File timestamps set by hand",
			Description: "touch set a file's times to a given date or to another file's (-t, -d, --date, -r, --reference).",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1070.006"},
			Match: matchTimestomp,
		},
		{
			ID: "evasion.hidden-files", Title: "Hidden files in temp directories or hidden executables",
			Description: "A file or directory whose name starts with a dot was created in /tmp, /var/tmp or /dev/shm (X11, ICE and PostgreSQL socket names excepted), or a program ran from a hidden directory outside the usual per-user tool directories.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1564.001"},
			Match: matchHiddenFiles,
		},
		{
			ID: "evasion.bind-mount-hide", Title: "Bind mount over /proc/<pid>",
			Description: "mount --bind aimed at a /proc/<pid> directory: it hides a process from ps and top, or makes it show as another task.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1564.013", "T1036.004"},
			Match: matchBindMountHide,
		},
		{
			ID: "evasion.permissions", Title: "Protections of system files changed",
			Description: "chattr changed file attributes (immutable/append-only), or chmod/chown/setfacl changed the permissions of account, sudo, SSH or system binary files, or made a tree world-writable.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1222.002"},
			Match: matchPermissions,
		},
		{
			ID: "evasion.disable-security", Title: "Security feature or tool disabled",
			Description: "A kernel hardening sysctl was turned off (ASLR, ptrace scope, kptr/dmesg restrictions), SELinux/AppArmor was disabled, or a security agent was stopped.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1562.001"},
			Match: matchDisableSecurity,
		},
		{
			ID: "evasion.disable-firewall", Title: "Firewall rules flushed or disabled",
			Description: "iptables/nft rules were flushed or set to ACCEPT, ufw was disabled or its rule files edited, or a firewall service was stopped. gVisor refuses most of it: the attempt counts.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1562.004"},
			Match: matchDisableFirewall,
		},
		{
			ID: "evasion.audit-tamper", Title: "Linux audit system tampered with",
			Description: "auditctl deleted rules or disabled auditing, audit configuration was written, or auditd was stopped.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1562.012"},
			Match: matchAuditTamper,
		},
		{
			ID: "evasion.root-ca", Title: "Root certificate installed",
			Description: "A certificate was written or moved into a trust anchor directory, or update-ca-certificates/update-ca-trust/trust anchor ran, outside a package install. A server's own leaf certificate is not it.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1553.004"},
			Match: matchRootCA,
		},
		{
			ID: "evasion.virtualization-checks", Title: "Virtualization or sandbox checks",
			Description: "systemd-detect-virt, virt-what or dmidecode ran, or a shell utility read the DMI vendor and product files.",
			Severity:    SeverityMedium, Confidence: 0.65, Techniques: []string{"T1497.001"},
			Match: matchVirtChecks,
		},
		{
			ID: "evasion.time-delay", Title: "Execution delayed",
			Description: "A long sleep (60 s or more) or a ping used as a timer (many echo requests) ran before further commands of the same script: waiting out a sandbox.",
			Severity:    SeverityLow, Confidence: 0.7, Techniques: []string{"T1497.003"},
			Match: matchTimeDelay,
		},
		{
			ID: "evasion.fileless-exec", Title: "Program run from memory",
			Description: "A program was executed from a memfd or a /proc/<pid>/fd path: fileless execution that leaves nothing on disk.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1620"},
			Match: matchFileless,
		},
	}
}

var decodeCmdRe = regexp.MustCompile(`(base64|base32|basenc)\s+(-d|--decode|-D)|xxd\s+-r|openssl\s+(enc\s+)?(-d|base64)|uudecode|\bb64decode\b`)
var toShellRe = regexp.MustCompile(`\|\s*(/usr)?(/bin/)?(ba|da|z|k|a)?sh\b|\beval\s+["'$(` + "`" + `]`)

func matchDecodeToShell(x *Index) []Hit {
	var hits []Hit
	// Pipeline: a decoder and an interactive shell forked by one parent.
	for _, e := range x.Execs {
		if e.Start || !interactiveShell(e.Image) || e.Proc == nil || e.Proc.Parent == nil {
			continue
		}
		for _, sib := range e.Proc.Parent.Children {
			for _, img := range sib.Images {
				if decoders[family(img.Name)] && (hasArg(img.Args, "-d", "--decode", "-D", "-r") || family(img.Name) == "uudecode") {
					hits = append(hits, Hit{Events: []int{img.Ev, e.Ev}, Summary: cmdline(img) + " | " + e.Name,
						Techniques: []string{"T1027", "T1140"}})
				}
			}
		}
	}
	for _, e := range x.Execs {
		code := inlineCode(e.Image)
		if code == "" {
			continue
		}
		if isShell(e.Name) && decodeCmdRe.MatchString(code) && toShellRe.MatchString(code) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "script decodes its own commands",
				Techniques: []string{"T1027.010", "T1140"}})
			continue
		}
		if isInterpreter(e.Name) && !isAwk(e.Name) {
			lc := strings.ToLower(code)
			_, dec := containsAny(lc, decodeWords)
			_, spawn := containsAny(lc, spawnWords)
			if dec && (spawn || strings.Contains(lc, "exec(") || strings.Contains(lc, "eval(")) {
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: e.Name + " one-liner runs decoded data",
					Techniques: []string{"T1027", "T1140"}})
			}
		}
	}
	return hits
}

func artifactFor(run *trace.Run, p string) *trace.Artifact {
	for i := range run.Artifacts {
		if run.Artifacts[i].Path == p {
			return &run.Artifacts[i]
		}
	}
	return nil
}

func matchPacked(x *Index) []Hit {
	var hits []Hit
	for p, execs := range x.ExecutedPaths() {
		a := artifactFor(x.Run, p)
		if a == nil || len(a.Data) < 4 || !bytes.HasPrefix(a.Data, []byte("\x7fELF")) {
			continue
		}
		head := a.Data[:min(len(a.Data), 4096)]
		if bytes.Contains(head, []byte("UPX!")) {
			hits = append(hits, Hit{Events: []int{execs[0].Ev}, Summary: p + " is UPX-packed"})
		}
	}
	for _, e := range x.ExecsOf(set("upx")) {
		if !infoOnly(e.Args) && !hasArg(e.Args, "-d", "-t", "-l") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	sortHits(hits)
	return hits
}

func matchRenamedUtility(x *Index) []Hit {
	var hits []Hit
	sysByHash := map[string]string{}
	for _, e := range x.Execs {
		if e.SHA256 != "" && isSystemBin(e.Path) {
			sysByHash[e.SHA256] = path.Base(e.Path)
		}
	}
	seen := map[string]bool{}
	for _, e := range x.Execs {
		if e.Start || e.SHA256 == "" || isSystemBin(e.Path) || seen[e.Path] {
			continue
		}
		orig, ok := sysByHash[e.SHA256]
		if !ok || orig == "busybox" || family(orig) == family(path.Base(e.Path)) {
			continue
		}
		seen[e.Path] = true
		hits = append(hits, hitExec(e, e.Path+" is a copy of "+orig))
	}
	executed := x.ExecutedPaths()
	for _, c := range x.ExecsOf(set("cp", "install", "ln")) {
		ops := operands(c.Args)
		if len(ops) != 2 {
			continue
		}
		src, dst := resolve(c.Cwd, ops[0]), resolve(c.Cwd, ops[1])
		if !isSystemBin(src) || isSystemBin(dst) {
			continue
		}
		for _, p := range []string{dst, path.Join(dst, path.Base(src))} {
			for _, e := range executed[p] {
				if e.Seq > c.Seq && family(path.Base(p)) != family(path.Base(src)) && !seen[p] {
					seen[p] = true
					hits = append(hits, Hit{Events: []int{c.Ev, e.Ev}, Summary: src + " copied to " + p + " and run"})
				}
			}
		}
	}
	return hits
}

// daemonNames are programs malware likes to pass for.
var daemonNames = set("sshd", "crond", "cron", "systemd", "init", "kworker", "kthreadd", "ksoftirqd", "udevd",
	"systemd-udevd", "dbus-daemon", "rsyslogd", "syslogd", "agetty", "getty", "atd", "nginx", "httpd", "apache2",
	"mysqld", "postgres", "containerd", "dockerd", "kubelet", "kswapd", "migration", "watchdog", "polkitd", "snapd",
	"networkmanager", "auditd", "irqbalance", "acpid", "ntpd", "chronyd", "bash", "sh", "sleep")

func matchMasqueradeLocation(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			if c := deceptiveComponent(p); c != "" {
				hits = append(hits, hitExec(e, "ran "+p+" from a directory named "+strconv.Quote(c)))
				break
			}
			base := path.Base(p)
			if isWritableLocation(p) && (daemonNames[base] || daemonNames[family(base)] || strings.HasPrefix(base, "kworker")) {
				hits = append(hits, hitExec(e, "ran "+p+", named like a system program, from a writable location"))
				break
			}
		}
	}
	return hits
}

// deceptiveComponent returns a path component made only of dots and
// spaces beyond "." and "..", or of trailing spaces.
func deceptiveComponent(p string) string {
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			continue
		}
		if strings.Trim(c, ". ") == "" || strings.HasSuffix(c, " ") {
			return c
		}
	}
	return ""
}

func matchMasqueradeTask(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if len(e.Argv) == 0 {
			continue
		}
		a0 := e.Argv[0]
		if strings.HasPrefix(a0, "[") && strings.HasSuffix(a0, "]") {
			hits = append(hits, hitExec(e, "argv[0] "+strconv.Quote(a0)+" imitates a kernel thread"))
			continue
		}
		bin := path.Base(e.Path)
		b0 := path.Base(a0)
		if e.Path != "" && bin != "busybox" && !strings.HasPrefix(e.Path, "/proc/") && daemonNames[b0] && !daemonNames[bin] &&
			family(b0) != family(bin) && !isShell(bin) && !isShell(b0) && b0 != "sleep" {
			hits = append(hits, hitExec(e, e.Path+" runs as "+strconv.Quote(a0)))
		}
	}
	return hits
}

var docExts = set("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "jpg", "jpeg", "png", "gif", "mp3", "mp4", "csv", "rtf", "odt", "zip", "html", "htm", "bmp", "svg", "log")
var execExts = set("sh", "bash", "py", "pl", "rb", "elf", "bin", "run", "exe", "out", "so", "php", "js", "ps1", "x86", "x64")

func matchDoubleExtension(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			base := path.Base(p)
			last := ext(base)
			prev := ext(strings.TrimSuffix(base, path.Ext(base)))
			if execExts[last] && docExts[prev] {
				hits = append(hits, hitExec(e, "ran "+base))
				break
			}
		}
	}
	return hits
}

// dataExts name content that is never a program.
var dataExts = set("png", "jpg", "jpeg", "gif", "bmp", "ico", "svg", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "txt", "log", "mp3", "mp4", "wav", "avi", "mov", "csv", "css", "woff", "ttf", "rtf", "odt")

func matchFileTypeMasquerade(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			if dataExts[ext(p)] {
				hits = append(hits, hitExec(e, "ran "+p+" ("+ext(p)+" by name)"))
				break
			}
		}
	}
	return hits
}

func isHistoryPath(p string) bool { return isHistoryFile(path.Base(p)) }

func matchClearHistory(x *Index) []Hit {
	var hits []Hit
	for _, o := range x.Opens {
		if o.Truncates() && isHistoryPath(o.Path) {
			hits = append(hits, hitOpen(o, "truncated "+o.Path))
		}
	}
	for _, f := range x.Run.Files {
		if !isHistoryPath(f.Path) {
			continue
		}
		switch {
		case f.Type == trace.TypeSymlink && f.Op != trace.FileDeleted && f.Link == "/dev/null":
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: f.Path + " linked to /dev/null"})
		case f.Op == trace.FileDeleted:
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: f.Path + " deleted"})
		case f.Type == trace.TypeFile && f.Op == trace.FileModified && f.Size == 0:
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: f.Path + " emptied"})
		}
	}
	for _, e := range x.ExecsOf(set("ln", "rm", "shred", "truncate", "unlink", "cp")) {
		ops := operands(e.Args)
		for _, op := range ops {
			if isHistoryPath(op) && (family(e.Name) != "ln" || contains(ops, "/dev/null")) &&
				(family(e.Name) != "cp" || ops[0] == "/dev/null") {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	for _, e := range x.Execs {
		if isShell(e.Name) {
			if code := inlineCode(e.Image); historyClearRe.MatchString(code) {
				hits = append(hits, hitExec(e, "history -c"))
			}
		}
	}
	return hits
}

var historyClearRe = regexp.MustCompile(`\bhistory\s+-c\b`)

var histOffRe = regexp.MustCompile(`\bunset\s+HISTFILE\b|\bset\s+\+o\s+history\b|\bHISTFILE=/dev/null\b|\bHIST(FILE)?SIZE=0\b`)

func matchHistoryDisabled(x *Index) []Hit {
	var hits []Hit
	reported := map[string]bool{}
	for _, e := range x.Execs {
		for _, name := range []string{"HISTFILE", "HISTSIZE", "HISTFILESIZE", "SAVEHIST"} {
			v, ok := envValue(e.Env, name)
			if !ok || imageEnvHas(x.Run, name+"="+v) || reported[name+"="+v] {
				continue
			}
			if (name == "HISTFILE" && (v == "/dev/null" || v == "")) || (name != "HISTFILE" && v == "0") {
				reported[name+"="+v] = true
				hits = append(hits, hitExec(e, e.Name+" ran with "+name+"="+v))
			}
		}
		if isShell(e.Name) {
			if m := histOffRe.FindString(inlineCode(e.Image)); m != "" {
				hits = append(hits, hitExec(e, "script runs "+strconv.Quote(m)))
			}
		}
	}
	return hits
}

// topLevel are directories whose removal wipes the system.
var topLevel = set("/", "/*", "/etc", "/usr", "/bin", "/sbin", "/lib", "/var", "/home", "/root", "/boot", "/opt", "/srv", "/usr/bin", "/usr/lib", "/lib64")

func matchFileDeletion(x *Index) []Hit {
	var hits []Hit
	for _, d := range deletedAfterExec(x) {
		h := Hit{Events: d.Events, Summary: d.Path + " ran, then was deleted: " + d.How}
		if d.File != nil {
			h.Files = []trace.FileChange{*d.File}
		}
		hits = append(hits, h)
	}
	for _, e := range x.ExecsOf(set("shred", "srm", "wipe")) {
		if !infoOnly(e.Args) && len(operands(e.Args)) > 0 {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("rm")) {
		if !hasArgPrefix(e.Args, "-r", "-R", "-f", "--recursive", "-fr", "-rf") {
			continue
		}
		for _, op := range operands(e.Args) {
			if topLevel[path.Clean(op)] || op == "/*" {
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "rm aimed at " + op + ": " + cmdline(e.Image), Severity: SeverityCritical})
				break
			}
		}
	}
	return hits
}

var logRotators = set("logrotate", "savelog", "newsyslog", "multilog", "svlogd", "s6-log", "cronolog", "rotatelogs")

// logWipers are tools a person uses to empty or remove a log.
var logWipers = set("rm", "shred", "truncate", "dd", "cp", "cat", "echo", "printf", "tee", "sed", "unlink", "find", "ln", "mv", "srm", "wipe", "true", ":")

func matchClearLogs(x *Index) []Hit {
	var hits []Hit
	if len(x.ExecsOf(logRotators)) > 0 && len(x.ExecsOf(set("rm", "shred", "truncate", "srm", "wipe"))) == 0 {
		// A rotation run: its truncations are the job.
		return nil
	}
	for _, o := range x.Opens {
		if !o.Truncates() || o.Failed || !logFile(o.Path) || installedWrite(x, o) {
			continue
		}
		if f := x.File(o.Path); f != nil && f.Op == trace.FileCreated {
			continue // a new log, not one emptied
		}
		w := writer(x, o)
		if w == nil || x.UnderAny(w.PID, logRotators) {
			continue
		}
		if logWipers[family(w.Name)] || isShell(w.Name) {
			hits = append(hits, Hit{Events: []int{o.Ev, w.Ev}, Summary: w.Name + " truncated " + o.Path})
		}
	}
	for _, e := range x.ExecsOf(set("rm", "shred", "truncate", "unlink", "srm", "wipe")) {
		if x.UnderAny(e.PID, logRotators) {
			continue
		}
		for _, op := range operands(e.Args) {
			if p := resolve(e.Cwd, op); logFile(p) && p != "/var/log" || p == "/var/log" && family(e.Name) == "rm" {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	for _, e := range x.ExecsOf(set("journalctl")) {
		if hasArgPrefix(e.Args, "--vacuum", "--rotate", "--flush") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	if len(x.ExecsOf(logRotators)) == 0 && len(x.ExecsOf(packageManagers)) == 0 {
		for _, f := range x.FilesMatching(logFile, trace.FileDeleted) {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: deleted " + f.Path})
		}
	}
	return hits
}

func matchTimestomp(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("touch")) {
		if hasArg(e.Args, "-t", "-d", "--date", "-r", "--reference") || hasArgPrefix(e.Args, "--date=", "--reference=", "-t", "-d") &&
			!hasArg(e.Args, "--") {
			if installing(x, e.PID) {
				continue
			}
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

// benignHidden are dot names programs create in temp dirs as a matter of
// course (X11 and ICE sockets, PostgreSQL's socket and lock).
func benignHidden(c string) bool {
	for _, p := range []string{".X11-unix", ".ICE-unix", ".XIM-unix", ".font-unix", ".Test-unix", ".X0-lock", ".X1-lock", ".s.PGSQL.", ".com.google", ".org.chromium", ".esd", ".wine-", ".java_pid", ".lock"} {
		if strings.HasPrefix(c, p) {
			return true
		}
	}
	return false
}

// toolDirs are per-user hidden directories that hold installed tools.
var toolDirs = []string{".local", ".cargo", ".rustup", ".venv", ".npm", ".nvm", ".pyenv", ".rbenv", ".sdkman", ".cache", ".config", ".gem", ".bun", ".deno", ".dotnet", ".m2", ".gradle", ".yarn", ".asdf", ".volta", ".linuxbrew", ".pub-cache"}

func matchHiddenFiles(x *Index) []Hit {
	var hits []Hit
	seen := map[string]bool{}
	hiddenScratch := func(p string) string {
		if !isScratch(p) {
			return ""
		}
		for _, c := range strings.Split(p, "/") {
			if len(c) > 1 && c[0] == '.' && c != ".." && !benignHidden(c) {
				return c
			}
		}
		return ""
	}
	for _, o := range x.Opens {
		if !o.Write() || o.Failed || o.Flags&oCreat == 0 {
			continue
		}
		if c := hiddenScratch(o.Path); c != "" && !seen[o.Path] && !installedWrite(x, o) {
			seen[o.Path] = true
			hits = append(hits, hitOpen(o, "created "+o.Path))
		}
	}
	for _, e := range x.ExecsOf(set("mkdir")) {
		for _, op := range operands(e.Args) {
			if p := resolve(e.Cwd, op); hiddenScratch(p) != "" && !seen[p] {
				seen[p] = true
				hits = append(hits, hitExec(e, "made hidden directory "+p))
			}
		}
	}
	for _, f := range x.FilesMatching(func(p string) bool { return hiddenScratch(p) != "" }, trace.FileCreated) {
		if !seen[f.Path] && len(hits) < 16 {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: created " + f.Path})
		}
	}
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			c := hiddenComponent(p)
			if c == "" || contains(toolDirs, c) || strings.Trim(c, ".") == "" {
				continue
			}
			if rel, ok := homeRel(p); ok && strings.HasPrefix(rel, c+"/") && contains(toolDirs, c) {
				continue
			}
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "ran " + p + " from a hidden directory", Severity: SeverityHigh})
			break
		}
	}
	return hits
}

func matchBindMountHide(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("mount")) {
		if !hasArg(e.Args, "-B", "--bind", "--rbind", "-R") && !hasArgPrefix(e.Args, "-obind", "bind") && !(hasArg(e.Args, "-o") && hasArgPrefix(e.Args, "bind", "rbind")) {
			continue
		}
		for _, op := range operands(e.Args) {
			if pid, leaf, ok := procPIDLeaf(op + "/"); ok && pid != "self" && leaf == "" {
				ev := []int{e.Ev}
				for _, i := range x.Syscall("mount") {
					if x.Events[i].PID == e.PID {
						ev = append(ev, i)
					}
				}
				hits = append(hits, Hit{Events: ev, Summary: cmdline(e.Image)})
				break
			}
		}
	}
	return hits
}

// protectedFiles are files whose permissions guard the system.
func protectedFile(p string) bool {
	if shadowFiles[p] || p == "/etc/passwd" || p == "/etc/group" || isSudoers(p) || under(p, "/etc/ssh", "/etc/pam.d", "/root/.ssh") {
		return true
	}
	_, home := homeRel(p)
	return home && strings.Contains(p, "/.ssh/") || under(p, "/bin", "/sbin", "/usr/bin", "/usr/sbin")
}

func matchPermissions(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("chattr")) {
		if !infoOnly(e.Args) && hasArgPrefix(e.Args, "+", "-i", "-a", "=") && len(operands(e.Args)) > 0 {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("chmod", "chown", "chgrp", "setfacl")) {
		if installing(x, e.PID) || infoOnly(e.Args) {
			continue
		}
		ops := operands(e.Args)
		if len(ops) < 2 && family(e.Name) != "setfacl" {
			continue
		}
		for _, op := range ops[min(1, len(ops)):] {
			p := resolve(e.Cwd, op)
			if protectedFile(p) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
			if family(e.Name) == "chmod" && hasArgPrefix(e.Args, "-R") && (ops[0] == "777" || ops[0] == "a+w" || ops[0] == "o+w") && topLevel[p] {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

// hardeningKnobs are sysctls whose lowering disables a protection.
var hardeningKnobs = map[string]string{
	"kernel.randomize_va_space": "0", "kernel.yama.ptrace_scope": "0", "kernel.kptr_restrict": "0",
	"kernel.dmesg_restrict": "0", "kernel.unprivileged_bpf_disabled": "0", "fs.protected_symlinks": "0",
	"fs.protected_hardlinks": "0", "fs.suid_dumpable": "2", "kernel.perf_event_paranoid": "-1",
}

var securityAgents = set("falco", "auditd", "osqueryd", "wazuh-agentd", "ossec-agentd", "clamd", "freshclam",
	"falcon-sensor", "falcond", "sysdig", "tracee", "cbagentd", "sentinelone", "s1-agent", "aqua-enforcer",
	"twistlock-defender", "qualys-cloud-agent", "aide", "rkhunter", "tripwire", "apparmor", "selinux", "snort", "suricata",
	"elastic-agent", "filebeat", "auditbeat", "packetbeat", "td-agent", "fluent-bit", "datadog-agent", "nessusd", "mdatp", "wdavdaemon")

func matchDisableSecurity(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("sysctl")) {
		for _, a := range e.Args {
			k, v, ok := strings.Cut(a, "=")
			if want, known := hardeningKnobs[strings.ReplaceAll(k, "/", ".")]; ok && known && strings.TrimSpace(v) == want {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	for _, o := range x.Opens {
		if !o.Write() || !strings.HasPrefix(o.Path, "/proc/sys/") {
			continue
		}
		knob := strings.ReplaceAll(strings.TrimPrefix(o.Path, "/proc/sys/"), "/", ".")
		if _, ok := hardeningKnobs[knob]; ok {
			if w := writer(x, o); w != nil && family(w.Name) == "sysctl" && len(hits) > 0 {
				continue
			}
			hits = append(hits, hitOpen(o, "wrote "+o.Path))
		}
	}
	for _, e := range x.ExecsOf(set("setenforce")) {
		if hasArg(e.Args, "0", "Permissive", "permissive") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("aa-teardown", "aa-disable", "aa-complain")) {
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	for _, o := range x.WritesMatching(func(p string) bool { return p == "/etc/selinux/config" }) {
		hits = append(hits, hitOpen(o, "wrote "+o.Path))
	}
	for _, e := range stopCommands(x) {
		for _, t := range e.targets {
			if securityAgents[family(t)] || securityAgents[strings.TrimSuffix(t, ".service")] {
				hits = append(hits, hitExec(e.Exec, "stopped security agent "+t))
				break
			}
		}
	}
	return hits
}

// stopCmd is a command that stops or kills programs by name.
type stopCmd struct {
	*Exec
	targets []string
}

// stopCommands finds killall/pkill/systemctl stop/service X stop and
// returns what each aimed at.
func stopCommands(x *Index) []stopCmd {
	var out []stopCmd
	for _, e := range x.Execs {
		if installing(x, e.PID) || infoOnly(e.Args) {
			continue
		}
		ops := operands(e.Args)
		switch family(e.Name) {
		case "killall", "pkill", "killall5":
			var t []string
			for _, op := range ops {
				t = append(t, strings.Trim(op, "^$"))
			}
			if len(t) > 0 {
				out = append(out, stopCmd{e, t})
			}
		case "systemctl":
			if len(ops) > 1 && (ops[0] == "stop" || ops[0] == "disable" || ops[0] == "mask" || ops[0] == "kill") {
				out = append(out, stopCmd{e, ops[1:]})
			}
		case "service":
			if len(ops) == 2 && ops[1] == "stop" {
				out = append(out, stopCmd{e, ops[:1]})
			}
		case "update-rc.d", "chkconfig":
			if len(ops) >= 2 && (ops[1] == "disable" || ops[1] == "remove" || ops[1] == "off") {
				out = append(out, stopCmd{e, ops[:1]})
			}
		}
		if strings.HasPrefix(e.Path, "/etc/init.d/") && hasArg(e.Args, "stop") {
			out = append(out, stopCmd{e, []string{path.Base(e.Path)}})
		}
	}
	return out
}

var firewallTools = set("iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft", "nft", "ufw", "firewall-cmd", "ebtables", "arptables")

func matchDisableFirewall(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(firewallTools) {
		if installing(x, e.PID) || infoOnly(e.Args) {
			continue
		}
		fam := family(e.Name)
		var why string
		switch {
		case fam == "ufw":
			if hasArg(e.Args, "disable", "reset") {
				why = "ufw " + strings.Join(e.Args, " ")
			}
		case fam == "nft":
			if hasArg(e.Args, "flush") || hasArg(e.Args, "delete") && hasArg(e.Args, "table") {
				why = cmdline(e.Image)
			}
		case fam == "firewall-cmd":
			if hasArg(e.Args, "--panic-off") || hasArgPrefix(e.Args, "--set-default-zone=trusted") {
				why = cmdline(e.Image)
			}
		default:
			if hasArg(e.Args, "-F", "--flush", "-X", "--delete-chain") || hasArgPrefix(e.Args, "-F") && !hasArgPrefix(e.Args, "-Fo") {
				why = "rules flushed: " + cmdline(e.Image)
			}
			for i, a := range e.Args {
				if (a == "-P" || a == "--policy") && i+2 < len(e.Args) && e.Args[i+2] == "ACCEPT" {
					why = "default policy ACCEPT: " + cmdline(e.Image)
				}
			}
		}
		if why != "" {
			hits = append(hits, hitExec(e, why))
		}
	}
	fwFile := func(p string) bool {
		return under(p, "/etc/ufw", "/etc/iptables", "/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables", "/etc/firewalld") || p == "/etc/nftables.conf" || p == "/etc/default/ufw"
	}
	for _, o := range x.WritesMatching(fwFile) {
		if !installedWrite(x, o) {
			hits = append(hits, hitOpen(o, "wrote "+o.Path))
		}
	}
	for _, s := range stopCommands(x) {
		for _, t := range s.targets {
			switch strings.TrimSuffix(t, ".service") {
			case "ufw", "firewalld", "iptables", "nftables", "netfilter-persistent", "ip6tables":
				hits = append(hits, hitExec(s.Exec, "stopped "+t))
			}
		}
	}
	return hits
}

func matchAuditTamper(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("auditctl")) {
		if hasArg(e.Args, "-D") || (hasArg(e.Args, "-e") && hasArg(e.Args, "0")) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, o := range x.WritesMatching(func(p string) bool { return under(p, "/etc/audit") || p == "/etc/audisp" }) {
		if !installedWrite(x, o) {
			hits = append(hits, hitOpen(o, "wrote "+o.Path))
		}
	}
	for _, s := range stopCommands(x) {
		for _, t := range s.targets {
			if strings.TrimSuffix(t, ".service") == "auditd" {
				hits = append(hits, hitExec(s.Exec, "stopped auditd"))
			}
		}
	}
	return hits
}

var anchorDirs = []string{"/usr/local/share/ca-certificates", "/usr/share/ca-certificates", "/etc/pki/ca-trust/source/anchors",
	"/etc/ca-certificates/trust-source/anchors", "/usr/share/pki/ca-trust-source/anchors", "/etc/pki/trust/anchors"}

func matchRootCA(x *Index) []Hit {
	var hits []Hit
	for _, o := range x.WritesMatching(func(p string) bool { return under(p, anchorDirs...) }) {
		if !o.Failed && !installedWrite(x, o) {
			hits = append(hits, hitOpen(o, "wrote trust anchor "+o.Path))
		}
	}
	for _, e := range x.ExecsOf(set("mv", "cp", "install", "ln")) {
		ops := operands(e.Args)
		if len(ops) >= 2 && under(resolve(e.Cwd, ops[len(ops)-1]), anchorDirs...) && !installing(x, e.PID) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	for _, e := range x.ExecsOf(set("update-ca-certificates", "update-ca-trust", "trust", "certutil")) {
		if installing(x, e.PID) || infoOnly(e.Args) {
			continue
		}
		fam := family(e.Name)
		if (fam == "trust" && !hasArg(e.Args, "anchor")) || (fam == "certutil" && !hasArg(e.Args, "-A")) {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	return hits
}

var dmiFiles = set("/sys/class/dmi/id/product_name", "/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/board_vendor",
	"/sys/class/dmi/id/bios_vendor", "/sys/class/dmi/id/product_version", "/sys/devices/virtual/dmi/id/product_name",
	"/sys/devices/virtual/dmi/id/sys_vendor", "/proc/scsi/scsi", "/sys/hypervisor/type", "/sys/class/dmi/id/chassis_vendor")

func matchVirtChecks(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("systemd-detect-virt", "virt-what", "dmidecode", "imvirt", "virt-who", "hostnamectl")) {
		if infoOnly(e.Args) || family(e.Name) == "hostnamectl" && len(e.Args) > 0 && !hasArg(e.Args, "status") {
			continue
		}
		if installing(x, e.PID) {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	for _, o := range x.ReadsMatching(func(p string) bool { return dmiFiles[p] }) {
		if o.Img != nil && (isShell(o.Img.Name) || set("cat", "grep", "egrep", "head", "awk", "strings", "less", "more")[family(o.Img.Name)]) {
			hits = append(hits, hitOpen(o, o.Img.Name+" read "+o.Path))
		}
	}
	return hits
}

func matchTimeDelay(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if e.Start || e.Proc == nil {
			continue
		}
		var d float64
		switch family(e.Name) {
		case "sleep":
			for _, op := range operands(e.Args) {
				d += sleepSeconds(op)
			}
		case "ping", "ping6":
			for i, a := range e.Args {
				if a == "-c" && i+1 < len(e.Args) {
					n, _ := strconv.ParseFloat(e.Args[i+1], 64)
					d = n
				}
			}
		default:
			continue
		}
		if d < 60 {
			continue
		}
		// Only a delay with more to do after it: a container that sleeps
		// to stay up is not evading anything.
		if next := nextSibling(x, e); next != nil {
			hits = append(hits, Hit{Events: []int{e.Ev, next.Ev}, Summary: cmdline(e.Image) + ", then " + cmdline(next.Image)})
		} else if x.Run.Exit.TimedOut && e.Prev != nil && strings.Contains(moreAfter(inlineCode(e.Prev), e.Name), ";") {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: cmdline(e.Image) + " with commands waiting behind it"})
		}
	}
	return hits
}

func sleepSeconds(s string) float64 {
	if s == "infinity" || s == "inf" {
		return 0
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "m"):
		mult, s = 60, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "h"):
		mult, s = 3600, strings.TrimSuffix(s, "h")
	case strings.HasSuffix(s, "d"):
		mult, s = 86400, strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "s"):
		s = strings.TrimSuffix(s, "s")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v * mult
}

// nextSibling is the next program the delay's parent ran after it.
func nextSibling(x *Index, e *Exec) *Exec {
	parent := e.Proc.Parent
	if parent == nil {
		return nil
	}
	for _, o := range x.Execs {
		if o.Seq <= e.Seq || o == e {
			continue
		}
		if o.Proc == parent || (o.Proc != nil && o.Proc.Parent == parent && o.Proc != e.Proc) {
			return o
		}
	}
	return nil
}

// moreAfter returns the script text after the first mention of word.
func moreAfter(code, word string) string {
	if i := strings.Index(code, word); i >= 0 {
		return code[i+len(word):]
	}
	return ""
}

func matchFileless(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		p := e.Path
		if strings.HasPrefix(p, "/memfd:") || strings.Contains(p, "(deleted)") && strings.Contains(p, "memfd") ||
			strings.HasPrefix(p, "/dev/fd/") || (strings.HasPrefix(p, "/proc/") && strings.Contains(p, "/fd/")) {
			hits = append(hits, hitExec(e, "ran "+p))
		}
	}
	return hits
}

func sortHits(h []Hit) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && firstEv(h[j]) < firstEv(h[j-1]); j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

func firstEv(h Hit) int {
	if len(h.Events) == 0 {
		return -1
	}
	return h.Events[0]
}
