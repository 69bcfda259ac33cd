package analyzer

import (
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// progName normalises a program's name: trace.Program, which knows the
// multi-call binaries.
func progName(bin string, argv []string) (string, []string) { return trace.Program(bin, argv) }

// versioned are programs installed under versioned names (python3.11,
// perl5.36, gcc-12); family maps those names back to the program.
var versioned = []string{"python", "pypy", "perl", "php", "luajit", "lua", "ruby", "nodejs", "node", "pip", "gcc", "g++",
	"clang++", "clang", "tclsh", "wish", "easy_install", "ping", "java", "pydoc", "idle", "cpp", "x86_64-linux-gnu-gcc"}

// family normalises a program name for lookups: lower case, and version
// suffixes dropped for versioned programs ("python3.11" -> "python").
func family(name string) string {
	n := strings.ToLower(name)
	for _, v := range versioned {
		if rest, ok := strings.CutPrefix(n, v); ok && strings.Trim(rest, "0123456789.-") == "" {
			return v
		}
	}
	return n
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Program classes, by family name. They feed the features and the rules.
var (
	shells = set("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "hush", "rbash", "pdksh", "yash")

	interpreters = set("python", "perl", "ruby", "php", "node", "nodejs", "lua", "luajit", "tclsh", "wish",
		"deno", "bun", "rscript", "jshell", "pwsh", "powershell", "expect", "irb", "ipython", "pypy", "jython",
		"awk", "gawk", "mawk", "nawk", "busybox-awk")

	networkTools = set("curl", "wget", "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet",
		"ssh", "scp", "sftp", "ftp", "tftp", "rsync", "dig", "nslookup", "host", "drill", "whois", "ping", "ping6",
		"nmap", "masscan", "zmap", "tcpdump", "tshark", "dumpcap", "aria2c", "axel", "lftp", "sshpass", "proxychains",
		"proxychains4", "tor", "torsocks", "httpie", "http", "fetch", "traceroute", "mtr", "arping", "hping3",
		"openssl", "chisel", "ngrok", "frpc", "iodine", "dnscat", "sliver", "rustscan", "ssh-keyscan", "smbclient",
		"showmount", "redis-cli", "mysql", "psql", "mongo", "ldapsearch")

	downloaders = set("curl", "wget", "fetch", "tftp", "ftp", "aria2c", "axel", "lftp", "lwp-download", "get",
		"httpie", "http")

	packageManagers = set("apt", "apt-get", "aptitude", "dpkg", "dpkg-deb", "dpkg-divert", "dpkg-reconfigure",
		"dpkg-trigger", "unattended-upgrade", "rpm", "yum", "dnf", "microdnf", "zypper", "apk", "pacman", "pip",
		"pipx", "npm", "yarn", "pnpm", "gem", "bundle", "conda", "mamba", "poetry", "uv", "composer", "cpan", "cpanm",
		"snap", "flatpak", "emerge", "xbps-install", "opkg", "update-alternatives", "debconf", "ucf", "easy_install",
		"ensurepip")

	compilers = set("gcc", "cc", "c++", "g++", "clang", "clang++", "tcc", "rustc", "javac", "gccgo", "as", "ld",
		"x86_64-linux-gnu-gcc", "cc1", "collect2", "musl-gcc", "nasm", "yasm", "zig")

	miners = set("xmrig", "xmr-stak", "xmr-stak-rx", "xmr-stak-cpu", "cpuminer", "cpuminer-multi", "cpuminer-opt",
		"minerd", "ccminer", "cgminer", "bfgminer", "ethminer", "t-rex", "nbminer", "lolminer", "nanominer",
		"phoenixminer", "srbminer", "srbminer-multi", "gminer", "teamredminer", "xmrig-cuda", "kawpowminer",
		"nheqminer", "wildrig", "wildrig-multi", "xmrig-notls", "ethdcrminer", "excavator", "bzminer", "rigel",
		"onezerominer", "cryptonight", "kdevtmpfsi", "kinsing", "sysrv", "xmr", "moneroocean")

	// authPrograms read /etc/shadow to authenticate or manage accounts:
	// their reads are the system working, not credential theft.
	authPrograms = set("sudo", "su", "login", "passwd", "chpasswd", "chage", "useradd", "usermod", "userdel",
		"groupadd", "groupmod", "groupdel", "adduser", "deluser", "addgroup", "delgroup", "newusers", "unix_chkpwd",
		"sshd", "cron", "crond", "atd", "vipw", "vigr", "pwck", "grpck", "pwconv", "pwunconv", "grpconv",
		"grpunconv", "newgrp", "sg", "gpasswd", "runuser", "systemd", "dbus-daemon", "polkitd", "pkexec",
		"expiry", "chsh", "chfn", "doas", "gdm", "lightdm", "vsftpd", "proftpd", "dovecot", "saslauthd", "nscd",
		"sssd", "shadowconfig", "cpio", "dpkg", "unix_update", "getent")
)

func isShell(name string) bool       { return shells[family(name)] || shells[name] }
func isInterpreter(name string) bool { return interpreters[family(name)] || interpreters[name] }

// optsWithValue are interpreter options that take the next argument, so
// the script is the argument after it.
var optsWithValue = set("-W", "-X", "-m", "-o", "-O", "-I", "-e", "-E", "-r", "-M", "-d", "-f", "--rcfile", "--init-file", "-v")

// scriptArg is the script file an interpreter or shell was asked to run
// (first operand), or "" when it runs inline code (-c/-e) or reads stdin.
func scriptArg(img *Image) string {
	if img == nil {
		return ""
	}
	fam := family(img.Name)
	for i := 0; i < len(img.Args); i++ {
		a := img.Args[i]
		switch {
		case a == "--":
			if i+1 < len(img.Args) {
				return img.Args[i+1]
			}
			return ""
		case a == "-" || a == "-s":
			return ""
		case a == "-m" && (fam == "python" || fam == "pypy"):
			return "" // a module, not a file
		case strings.HasPrefix(a, "-"):
			if inlineFlag(fam, a) {
				return ""
			}
			if optsWithValue[a] && fam != "sh" {
				i++
			}
			if (fam == "awk" || fam == "gawk" || fam == "mawk") && a == "-f" && i+1 < len(img.Args) {
				return img.Args[i+1]
			}
			continue
		case strings.HasPrefix(a, "+"):
			continue
		}
		if fam == "awk" || fam == "gawk" || fam == "mawk" || fam == "nawk" {
			return "" // the first operand is the program text
		}
		return a
	}
	return ""
}

// inlineFlag reports whether an option means "the code is on the command
// line" (sh -c, python -c, perl -e, node -e, ruby -e, php -r).
func inlineFlag(fam, a string) bool {
	if strings.HasPrefix(a, "--") {
		return a == "--command" || a == "--eval" || a == "--exec"
	}
	letters := strings.TrimPrefix(a, "-")
	switch {
	case isShell(fam):
		return strings.ContainsRune(letters, 'c')
	case fam == "python" || fam == "pypy" || fam == "ipython":
		return letters == "c" || strings.HasSuffix(letters, "c")
	case fam == "php":
		return letters == "r"
	default:
		return letters == "e" || letters == "E" || strings.HasSuffix(letters, "e") || letters == "c"
	}
}

// inlineCode is the code given on the command line (sh -c TEXT, python -c
// TEXT, perl -e TEXT, awk 'PROGRAM'), or "".
func inlineCode(img *Image) string {
	if img == nil {
		return ""
	}
	fam := family(img.Name)
	if fam == "awk" || fam == "gawk" || fam == "mawk" || fam == "nawk" {
		for i := 0; i < len(img.Args); i++ {
			a := img.Args[i]
			if a == "-f" {
				return ""
			}
			if a == "-v" || a == "-F" {
				i++
				continue
			}
			if !strings.HasPrefix(a, "-") {
				return a
			}
		}
		return ""
	}
	if !isShell(fam) && !isInterpreter(fam) {
		return ""
	}
	for i, a := range img.Args {
		if !strings.HasPrefix(a, "-") {
			return "" // a script file comes first
		}
		if inlineFlag(fam, a) {
			if i+1 < len(img.Args) {
				return img.Args[i+1]
			}
			return ""
		}
	}
	return ""
}

// interactiveShell reports a shell started with no script and no -c: it
// reads commands from stdin (a terminal, a pipe or a socket).
func interactiveShell(img *Image) bool {
	if img == nil || !isShell(img.Name) {
		return false
	}
	for _, a := range img.Args {
		if !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") {
			return false
		}
		if strings.HasPrefix(a, "-") && inlineFlag(family(img.Name), a) {
			return false
		}
	}
	return true
}

// hasArg reports whether any argument equals one of want.
func hasArg(args []string, want ...string) bool {
	for _, a := range args {
		for _, w := range want {
			if a == w {
				return true
			}
		}
	}
	return false
}

// hasArgPrefix reports whether any argument starts with one of the prefixes.
func hasArgPrefix(args []string, prefixes ...string) bool {
	for _, a := range args {
		for _, p := range prefixes {
			if strings.HasPrefix(a, p) {
				return true
			}
		}
	}
	return false
}

// infoOnly reports a run that only asks a tool about itself (--version,
// -h): a dual-use tool present in an image is not its use.
func infoOnly(args []string) bool {
	if len(args) == 0 {
		return false
	}
	for _, a := range args {
		switch strings.ToLower(a) {
		case "--version", "-version", "version", "--help", "-help", "help", "-?", "--usage":
			return true
		case "-v", "-h", "-vv":
			// Alone they ask for a version or help; with operands they
			// often mean verbose or a host.
			if len(args) == 1 {
				return true
			}
		}
	}
	return false
}

// operands are the non-option arguments.
func operands(args []string) []string {
	var out []string
	for _, a := range args {
		if a != "" && !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// envValue returns the value of NAME in env and whether it was set.
func envValue(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// cmdline joins argv for evidence summaries, capped.
func cmdline(img *Image) string {
	if img == nil {
		return ""
	}
	s := strings.Join(img.Argv, " ")
	if s == "" {
		s = img.Path
	}
	return clip(s, 160)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
