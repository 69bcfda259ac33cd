package analyzer

import (
	"regexp"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func persistenceRules() []Rule {
	return []Rule{
		{
			ID: "persistence.cron", Title: "Cron schedule written",
			Description: "A crontab, /etc/cron.d entry or cron spool file was written (or a crontab installed with `crontab FILE`) outside a package install. Reading schedules, as the cron daemon does, is not it.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1053.003"},
			Match: persistenceMatcher([]string{"cron"}, crontabInstalls),
		},
		{
			ID: "persistence.systemd-service", Title: "Systemd service unit created or enabled",
			Description: "A .service unit was written in a systemd unit directory, linked into a .wants directory, or enabled, outside a package install.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1543.002"},
			Match: persistenceMatcher([]string{"systemd-service"}, systemctlEnables(".service")),
		},
		{
			ID: "persistence.systemd-timer", Title: "Systemd timer created or enabled",
			Description: "A .timer unit was written, linked or enabled outside a package install: a scheduled task.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1053.006"},
			Match: persistenceMatcher([]string{"systemd-timer"}, systemctlEnables(".timer")),
		},
		{
			ID: "persistence.shell-rc", Title: "Shell start-up file modified",
			Description: "A shell start-up file (~/.bashrc, ~/.profile, /etc/profile.d, /etc/bash.bashrc...) was written outside a package install or user creation: code that runs at every login.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1546.004"},
			Match: persistenceMatcher([]string{"shell-rc"}, nil, "useradd", "adduser", "mkhomedir_helper", "pam_mkhomedir"),
		},
		{
			ID: "persistence.ssh-authorized-keys", Title: "SSH authorized_keys written",
			Description: "An authorized_keys file was written: whoever holds the key logs in.",
			Severity:    SeverityHigh, Confidence: 0.9, Techniques: []string{"T1098.004"},
			Match: persistenceMatcher([]string{"ssh-keys"}, nil, "ssh-copy-id"),
		},
		{
			ID: "persistence.rc-script", Title: "Boot script written",
			Description: "/etc/rc.local, /etc/init.d or an /etc/rc*.d link was written outside a package install.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1037.004"},
			Match: persistenceMatcher([]string{"rc"}, nil, "update-rc.d", "insserv"),
		},
		{
			ID: "persistence.python-hook", Title: "Python start-up hook planted",
			Description: "A .pth file in a site-packages directory, or sitecustomize/usercustomize.py, was written by something other than pip, ensurepip or venv: Python runs its import lines at every start.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1546.018"},
			Match: matchPythonHook,
		},
		{
			ID: "persistence.dynamic-linker", Title: "Dynamic linker hijack",
			Description: "/etc/ld.so.preload was written, or a program ran with LD_PRELOAD/LD_AUDIT naming a library outside the system library directories: every (or this) dynamically linked program loads it.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1574.006"},
			Match: matchDynamicLinker,
		},
		{
			ID: "persistence.pam", Title: "PAM configuration or module changed",
			Description: "A file under /etc/pam.d, /etc/pam.conf or a pam_*.so module was written outside a package install: it can accept any password or log them.",
			Severity:    SeverityCritical, Confidence: 0.85, Techniques: []string{"T1556.003"},
			Match: persistenceMatcher([]string{"pam"}, nil, "pam-auth-update"),
		},
		{
			ID: "persistence.kernel-module", Title: "Kernel module load attempted",
			Description: "insmod/modprobe ran, init_module/finit_module was called, or the module autoload lists were written, outside a package install.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1547.006"},
			Match: matchKernelModule,
		},
		{
			ID: "persistence.udev", Title: "Udev rule written",
			Description: "A udev rules file was written outside a package install: udev runs its RUN+= programs on device events.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1546.017"},
			Match: persistenceMatcher([]string{"udev"}, nil),
		},
		{
			ID: "persistence.xdg-autostart", Title: "XDG autostart entry written",
			Description: "A .desktop file was written under an XDG autostart directory.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1547.013"},
			Match: persistenceMatcher([]string{"xdg-autostart"}, nil),
		},
		{
			ID: "persistence.account-created", Title: "Local account created",
			Description: "useradd/adduser/newusers ran, or /etc/passwd was written by something other than the account tools, outside a package install. An account with uid 0 is critical.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1136.001", "T1078.003"},
			Match: matchAccountCreated,
		},
		{
			ID: "persistence.account-used", Title: "Account created and given a password or used",
			Description: "An account created in this run got a password (useradd -p, chpasswd, passwd) or was switched to (su, runuser, sudo -u, login): a valid local account for the attacker.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1078.003"},
			Match: matchAccountUsed,
		},
		{
			ID: "persistence.account-manipulation", Title: "Account added to a privileged group",
			Description: "usermod/gpasswd/adduser put a user in sudo, wheel, root, adm, shadow, disk or docker.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1098"},
			Match: matchAccountManipulation,
		},
		{
			ID: "persistence.web-shell", Title: "Server-side script dropped in a web root",
			Description: "A .php/.jsp/.asp(x)/.cgi/.phtml file was created under a web server's document root outside a package install.",
			Severity:    SeverityHigh, Confidence: 0.75, Techniques: []string{"T1505.003"},
			Match: matchWebShell,
		},
		{
			ID: "persistence.shell-trap", Title: "Shell trap that runs code on every command",
			Description: "A shell set a DEBUG or RETURN trap: bash runs it before every command.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1546.005"},
			Match: matchShellTrap,
		},
	}
}

// persistenceMatcher flags writes of the given persistence kinds (minus
// installs and the exempt programs), the fs diff entries no traced write
// explains, and the extra exec-based matches.
func persistenceMatcher(kinds []string, extra func(*Index) []Hit, exempt ...string) func(*Index) []Hit {
	ex := set(exempt...)
	return func(x *Index) []Hit {
		var hits []Hit
		var kept []*Open
		for _, o := range persistenceWrites(x, kinds...) {
			if o.Img != nil && x.UnderAny(o.PID, ex) {
				continue
			}
			kept = append(kept, o)
			w := writer(x, o)
			who := "?"
			if w != nil {
				who = w.Name
			}
			verb := "wrote"
			if o.Failed {
				verb = "tried to write"
			}
			h := hitOpen(o, who+" "+verb+" "+o.Path)
			if w != nil && w != o.Img {
				h.Events = append(h.Events, w.Ev)
			}
			hits = append(hits, h)
		}
		if diff := persistenceDiff(x, kept, kinds...); len(diff) > 0 {
			for _, f := range diff {
				hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: " + f.Op + " " + f.Path})
			}
		}
		if extra != nil {
			hits = append(hits, extra(x)...)
		}
		return hits
	}
}

func crontabInstalls(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("crontab")) {
		if infoOnly(e.Args) || hasArg(e.Args, "-l", "-r", "-v") || installing(x, e.PID) {
			continue
		}
		if len(operands(e.Args)) > 0 || hasArg(e.Args, "-", "-e") || len(e.Args) == 0 {
			hits = append(hits, hitExec(e, "crontab installed: "+cmdline(e.Image)))
		}
	}
	return hits
}

func systemctlEnables(suffix string) func(*Index) []Hit {
	return func(x *Index) []Hit {
		var hits []Hit
		for _, e := range x.ExecsOf(set("systemctl")) {
			if !hasArg(e.Args, "enable", "link", "reenable") || installing(x, e.PID) {
				continue
			}
			for _, op := range operands(e.Args) {
				isTimer := strings.HasSuffix(op, ".timer")
				if (suffix == ".timer") == isTimer && op != "enable" && op != "link" && op != "reenable" {
					hits = append(hits, hitExec(e, cmdline(e.Image)))
					break
				}
			}
		}
		// systemctl enable makes its links with symlinkat, whose path the
		// trace cannot read: the diff shows them.
		for _, f := range x.Run.Files {
			if f.Type == trace.TypeSymlink && f.Op == trace.FileCreated && strings.Contains(f.Path, ".wants/") &&
				strings.HasSuffix(f.Path, suffix) && len(x.ExecsOf(packageManagers)) == 0 {
				hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "unit linked: " + f.Path})
			}
		}
		return hits
	}
}

// systemLibDirs are where the loader's trusted libraries live.
var systemLibDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib32", "/lib32", "/opt"}

func matchDynamicLinker(x *Index) []Hit {
	var hits []Hit
	for _, o := range persistenceWrites(x, "preload") {
		hits = append(hits, hitOpen(o, "wrote "+o.Path))
	}
	for _, f := range persistenceDiff(x, nil, "preload") {
		if len(hits) == 0 {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: " + f.Op + " " + f.Path})
		}
	}
	seen := map[string]bool{}
	for _, e := range x.Execs {
		for _, name := range []string{"LD_PRELOAD", "LD_AUDIT"} {
			v, ok := envValue(e.Env, name)
			if !ok || v == "" {
				continue
			}
			for _, lib := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ' ' }) {
				if under(lib, systemLibDirs...) || seen[name+lib] {
					continue
				}
				// Image config env is the author's choice (jemalloc...);
				// only a preload the run added counts.
				if imageEnvHas(x.Run, name+"="+v) {
					continue
				}
				seen[name+lib] = true
				hits = append(hits, hitExec(e, e.Name+" ran with "+name+"="+lib))
			}
		}
	}
	return hits
}

func imageEnvHas(run *trace.Run, kv string) bool {
	for _, e := range run.Image.Env {
		if e == kv {
			return true
		}
	}
	return false
}

func matchKernelModule(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("insmod", "modprobe", "kmod")) {
		if infoOnly(e.Args) || hasArg(e.Args, "-r", "--remove", "-c", "--showconfig", "-n", "--dry-run", "-D", "--show-depends") || installing(x, e.PID) {
			continue
		}
		if family(e.Name) == "kmod" && !hasArg(e.Args, "insmod", "modprobe") {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	for _, name := range []string{"init_module", "finit_module"} {
		for _, i := range x.Syscall(name) {
			hits = append(hits, Hit{Events: []int{i}, Summary: name + " called"})
		}
	}
	for _, o := range persistenceWrites(x, "modules") {
		hits = append(hits, hitOpen(o, "wrote "+o.Path))
	}
	return hits
}

var accountCreators = set("useradd", "adduser", "newusers", "luseradd")

// accountTools edit the account files properly; a write by anything else
// (echo >> /etc/passwd) is a hand-made account.
var accountTools = set("useradd", "adduser", "usermod", "userdel", "deluser", "groupadd", "groupmod", "groupdel",
	"addgroup", "delgroup", "passwd", "chpasswd", "chage", "vipw", "vigr", "pwconv", "grpconv", "pwunconv", "grpunconv",
	"newusers", "gpasswd", "chsh", "chfn", "chgpasswd", "luseradd", "lusermod", "sed", "nscd", "systemd-sysusers")

func matchAccountCreated(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(accountCreators) {
		if infoOnly(e.Args) || installing(x, e.PID) || (family(e.Name) == "adduser" && len(operands(e.Args)) >= 2) {
			continue
		}
		h := hitExec(e, "account created: "+cmdline(e.Image))
		if uidZero(e.Args) {
			h.Severity, h.Confidence = SeverityCritical, 0.9
			h.Summary = "account with uid 0 created: " + cmdline(e.Image)
		} else {
			h.Techniques = []string{"T1136.001"}
		}
		hits = append(hits, h)
	}
	for _, o := range x.WritesMatching(func(p string) bool { return p == "/etc/passwd" }) {
		w := writer(x, o)
		if o.Failed || installedWrite(x, o) || w == nil || accountTools[family(w.Name)] || x.UnderAny(o.PID, accountTools) {
			continue
		}
		hits = append(hits, Hit{Events: []int{o.Ev, w.Ev}, Summary: w.Name + " wrote /etc/passwd directly",
			Techniques: []string{"T1136.001"}})
	}
	return hits
}

// uidZero reports useradd/adduser options asking for uid 0.
func uidZero(args []string) bool {
	for i, a := range args {
		if (a == "-u" || a == "--uid") && i+1 < len(args) && args[i+1] == "0" {
			return true
		}
		if a == "--uid=0" || a == "-u0" {
			return true
		}
	}
	return false
}

// createdAccounts are the user names useradd/adduser made in the run.
func createdAccounts(x *Index) map[string]*Exec {
	m := map[string]*Exec{}
	for _, e := range x.ExecsOf(accountCreators) {
		if installing(x, e.PID) {
			continue
		}
		ops := operandsSkippingValues(e.Args, set("-c", "--comment", "-d", "--home-dir", "--home", "-g", "--gid", "-G",
			"--groups", "-s", "--shell", "-u", "--uid", "-p", "--password", "-e", "--expiredate", "-f", "--inactive",
			"-k", "--skel", "-K", "--key", "-R", "--root", "-b", "--base-dir", "-Z", "--ingroup", "--gecos", "--firstuid", "--lastuid"))
		if len(ops) > 0 {
			m[ops[len(ops)-1]] = e
		}
	}
	return m
}

// operandsSkippingValues returns operands, skipping values of the options
// that take one.
func operandsSkippingValues(args []string, withValue map[string]bool) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if withValue[a] {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

func matchAccountUsed(x *Index) []Hit {
	created := createdAccounts(x)
	if len(created) == 0 {
		return nil
	}
	var hits []Hit
	for _, user := range sortedKeys(created) {
		c := created[user]
		if hasArg(c.Args, "-p", "--password") || hasArgPrefix(c.Args, "--password=") {
			hits = append(hits, hitExec(c, "account "+user+" created with a password"))
		}
	}
	for _, e := range x.ExecsOf(set("su", "runuser", "sudo", "login", "chpasswd", "passwd", "doas", "sg")) {
		if e.Seq < firstSeq(created) {
			continue
		}
		for _, user := range sortedKeys(created) {
			if hasArg(e.Args, user) || hasArgPrefix(e.Args, "-u"+user, "--user="+user) || family(e.Name) == "chpasswd" {
				hits = append(hits, Hit{Events: []int{created[user].Ev, e.Ev}, Summary: e.Name + " with new account " + user})
				break
			}
		}
	}
	return hits
}

func firstSeq(m map[string]*Exec) uint64 {
	var s uint64
	for _, e := range m {
		if s == 0 || e.Seq < s {
			s = e.Seq
		}
	}
	return s
}

var privilegedGroups = set("sudo", "wheel", "root", "admin", "adm", "shadow", "disk", "docker", "lxd", "kvm", "staff")

func matchAccountManipulation(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("usermod", "gpasswd", "adduser", "addgroup")) {
		if installing(x, e.PID) {
			continue
		}
		for i, a := range e.Args {
			var groups []string
			switch {
			case (a == "-G" || a == "-aG" || a == "--groups" || a == "-a" && family(e.Name) == "gpasswd") && i+1 < len(e.Args):
				if family(e.Name) == "gpasswd" {
					if i+2 < len(e.Args) {
						groups = []string{e.Args[i+2]}
					}
				} else {
					groups = strings.Split(e.Args[i+1], ",")
				}
			case family(e.Name) == "adduser" || family(e.Name) == "addgroup":
				if ops := operands(e.Args); len(ops) == 2 && i == 0 {
					groups = []string{ops[1]}
				}
			}
			for _, g := range groups {
				if privilegedGroups[g] {
					hits = append(hits, hitExec(e, "added to group "+g+": "+cmdline(e.Image)))
				}
			}
		}
	}
	return hits
}

var serverScriptExts = set("php", "php3", "php4", "php5", "php7", "phtml", "phar", "jsp", "jspx", "asp", "aspx", "ashx", "cgi", "pl", "cfm")

func matchWebShell(x *Index) []Hit {
	var hits []Hit
	inRoot := func(p string) bool { return under(p, webRoots...) && serverScriptExts[ext(p)] }
	for _, o := range x.WritesMatching(inRoot) {
		if o.Failed || installedWrite(x, o) {
			continue
		}
		hits = append(hits, hitOpen(o, "server-side script written: "+o.Path))
	}
	if len(hits) == 0 && len(x.ExecsOf(packageManagers)) == 0 {
		for _, f := range x.FilesMatching(inRoot, trace.FileCreated) {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: created " + f.Path})
		}
	}
	return hits
}

// matchPythonHook is the persistence matcher minus .pth files whose copy
// shows no import line: site.py only executes lines that start with
// "import"; the rest are directories added to sys.path.
func matchPythonHook(x *Index) []Hit {
	var out []Hit
	for _, h := range persistenceMatcher([]string{"python-hook"}, nil)(x) {
		if p := hitPath(x, h); strings.HasSuffix(p, ".pth") {
			if a := artifactFor(x.Run, p); a != nil && !a.Truncated && !pthImports(a.Data) {
				continue
			}
		}
		out = append(out, h)
	}
	return out
}

// pthImports reports a .pth line that Python executes.
func pthImports(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "import ") || strings.HasPrefix(line, "import\t") {
			return true
		}
	}
	return false
}

// hitPath is the file a persistence hit is about: its fs diff entry or
// its open event's path.
func hitPath(x *Index, h Hit) string {
	if len(h.Files) > 0 {
		return h.Files[0].Path
	}
	for _, i := range h.Events {
		if e := x.Events[i]; e.Kind == trace.KindOpen {
			return resolve(e.Cwd, e.Path)
		}
	}
	return ""
}

// trapRe finds `trap BODY DEBUG|RETURN` with a quoted or bare body.
var trapRe = regexp.MustCompile(`\btrap\s+(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s;'"]+)\s+(?:-\S+\s+)*(DEBUG|RETURN)\b`)

func matchShellTrap(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		if !isShell(e.Name) {
			continue
		}
		if m := trapRe.FindStringSubmatch(inlineCode(e.Image)); m != nil {
			hits = append(hits, hitExec(e, "trap on "+m[1]))
		}
	}
	return hits
}
