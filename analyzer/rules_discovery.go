package analyzer

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// Discovery commands are everyday tools. They count only when a script
// runs them (their nearest non-wrapper ancestor is a shell): a library
// that runs `uname -p` for its own use is not an operator looking around.

// probe describes one discovery technique: the commands that perform it
// and the files a shell utility reads to perform it.
type probe struct {
	id, technique, title, desc string
	programs                   map[string]bool
	// accept filters a command's arguments; nil accepts any but
	// --version/--help.
	accept func(e *Exec) bool
	files  func(p string) bool
	// anyReader counts reads of files by any program, not only shell
	// utilities: nothing but a monitor reads the socket tables.
	anyReader bool
}

// textTools read files for a person: their opens are the person's.
var textTools = set("cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "awk", "gawk", "mawk", "cut", "sort",
	"strings", "tac", "nl", "od", "xxd", "hexdump", "base64", "cp", "tee", "wc", "diff", "vi", "vim", "nano", "view", "sed", "uniq", "file")

var probes = []probe{
	{
		id: "discovery.system-info", technique: "T1082", title: "System information gathered",
		desc:     "uname, hostnamectl, lsb_release, uptime, lscpu or lshw ran from a script, or a shell utility read os-release, issue, /proc/version or cpuinfo.",
		programs: set("uname", "hostnamectl", "lsb_release", "uptime", "lscpu", "lshw", "inxi", "neofetch", "screenfetch", "dmesg"),
		files: func(p string) bool {
			return p == "/etc/os-release" || p == "/usr/lib/os-release" || p == "/etc/issue" || p == "/etc/issue.net" || p == "/proc/version" ||
				p == "/etc/lsb-release" || p == "/etc/redhat-release" || p == "/etc/debian_version" || p == "/proc/cpuinfo" || p == "/etc/alpine-release"
		},
	},
	{
		id: "discovery.processes", technique: "T1057", title: "Processes listed",
		desc:     "ps, pstree, top or pgrep ran from a script.",
		programs: set("ps", "pstree", "top", "htop", "pgrep", "procs"),
	},
	{
		id: "discovery.network-connections", technique: "T1049", title: "Network connections listed",
		desc:     "ss, netstat or lsof -i ran from a script, or a shell utility read /proc/net/tcp, udp or unix.",
		programs: set("ss", "netstat", "lsof", "sockstat"),
		accept: func(e *Exec) bool {
			return family(e.Name) != "lsof" || hasArgPrefix(e.Args, "-i")
		},
		files: func(p string) bool {
			return p == "/proc/net/tcp" || p == "/proc/net/tcp6" || p == "/proc/net/udp" || p == "/proc/net/udp6" || p == "/proc/net/unix"
		},
		anyReader: true,
	},
	{
		id: "discovery.network-config", technique: "T1016", title: "Network configuration gathered",
		desc:     "ifconfig, ip addr/route/link, arp, route, nmcli or hostname -I ran from a script, or a shell utility read resolv.conf, the route or ARP tables.",
		programs: set("ifconfig", "ip", "arp", "route", "iwconfig", "nmcli", "hostname", "networkctl", "resolvectl", "iptables-save", "brctl"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "hostname":
				return hasArg(e.Args, "-I", "-i", "--all-ip-addresses", "--ip-address")
			case "ip":
				ops := operands(e.Args)
				return len(ops) > 0 && !contains([]string{"netns", "monitor"}, ops[0]) && (len(ops) == 1 || ops[1] == "show" || ops[1] == "list" || ops[1] == "ls")
			}
			return true
		},
		files: func(p string) bool {
			return p == "/etc/resolv.conf" || p == "/proc/net/route" || p == "/proc/net/arp" || p == "/proc/net/dev" || p == "/proc/net/if_inet6" || p == "/proc/net/fib_trie"
		},
	},
	{
		id: "discovery.users", technique: "T1033", title: "Current and logged-in users gathered",
		desc:     "whoami, who, w, users, last, logname or a bare id ran from a script.",
		programs: set("whoami", "who", "w", "users", "last", "lastb", "logname", "finger", "id"),
		accept: func(e *Exec) bool {
			return family(e.Name) != "id" || len(e.Args) == 0 || hasArg(e.Args, "-a")
		},
	},
	{
		id: "discovery.local-accounts", technique: "T1087.001", title: "Local accounts enumerated",
		desc:     "A shell utility read /etc/passwd, /etc/sudoers or /etc/master.passwd, or getent passwd, lastlog or sudo -l ran from a script.",
		programs: set("getent", "lastlog", "sudo", "compgen"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "getent":
				return hasArg(e.Args, "passwd", "shadow")
			case "sudo":
				return hasArg(e.Args, "-l", "--list", "-ll")
			case "compgen":
				return hasArg(e.Args, "-u")
			}
			return true
		},
		files: func(p string) bool { return p == "/etc/passwd" || isSudoers(p) || p == "/etc/master.passwd" },
	},
	{
		id: "discovery.local-groups", technique: "T1069.001", title: "Local groups enumerated",
		desc:     "groups or getent group ran from a script, or a shell utility read /etc/group.",
		programs: set("groups", "getent", "id"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "getent":
				return hasArg(e.Args, "group", "gshadow")
			case "id":
				return hasArg(e.Args, "-G", "-Gn", "-nG", "--groups")
			}
			return true
		},
		files: func(p string) bool { return p == "/etc/group" },
	},
	{
		id: "discovery.files", technique: "T1083", title: "Filesystem searched from the root or home directories",
		desc:     "find, locate or a recursive ls/tree walked /, /root, /home or /etc looking for names, permissions or owners.",
		programs: set("find", "locate", "mlocate", "plocate", "tree", "ls"),
		accept: func(e *Exec) bool {
			ops := operands(e.Args)
			switch family(e.Name) {
			case "locate", "mlocate", "plocate":
				return len(ops) > 0
			case "tree":
				return len(ops) > 0 && (ops[0] == "/" || ops[0] == "/root" || ops[0] == "/home")
			case "ls":
				return hasArgPrefix(e.Args, "-R", "-lR", "-laR", "-alR", "-Rla") && len(ops) > 0 && (ops[0] == "/" || ops[0] == "/home" || ops[0] == "/root")
			}
			if len(ops) == 0 {
				return false
			}
			root := ops[0]
			return (root == "/" || root == "/root" || root == "/home" || root == "/etc" || root == "~") &&
				hasArg(e.Args, "-name", "-iname", "-path", "-ipath", "-perm", "-user", "-writable", "-regex", "-newer")
		},
	},
	{
		id: "discovery.services", technique: "T1007", title: "System services enumerated",
		desc:     "systemctl list-units/list-unit-files, service --status-all or chkconfig --list ran from a script.",
		programs: set("systemctl", "service", "chkconfig", "initctl", "rc-status"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "systemctl":
				return hasArg(e.Args, "list-units", "list-unit-files", "list-timers", "list-sockets") || hasArgPrefix(e.Args, "--type=service")
			case "service":
				return hasArg(e.Args, "--status-all")
			case "chkconfig", "initctl":
				return hasArg(e.Args, "--list", "list")
			}
			return true
		},
	},
	{
		id: "discovery.software", technique: "T1518", title: "Installed software listed",
		desc:     "dpkg -l, rpm -qa, apk info, apt list --installed or pip list ran from a script.",
		programs: set("dpkg", "dpkg-query", "rpm", "apk", "apt", "pip", "yum", "dnf", "pacman"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "dpkg", "dpkg-query":
				return hasArg(e.Args, "-l", "--list", "--get-selections", "-W")
			case "rpm":
				return hasArg(e.Args, "-qa")
			case "apk":
				return hasArg(e.Args, "info", "list") && len(operands(e.Args)) == 1
			case "apt", "yum", "dnf":
				return hasArg(e.Args, "--installed", "installed")
			case "pip":
				return hasArg(e.Args, "list", "freeze")
			case "pacman":
				return hasArgPrefix(e.Args, "-Q")
			}
			return false
		},
	},
	{
		id: "discovery.password-policy", technique: "T1201", title: "Password policy read",
		desc:     "chage -l ran, or a shell utility read login.defs, pwquality.conf or common-password.",
		programs: set("chage"),
		accept:   func(e *Exec) bool { return hasArg(e.Args, "-l", "--list") },
		files: func(p string) bool {
			return p == "/etc/login.defs" || p == "/etc/security/pwquality.conf" || p == "/etc/pam.d/common-password" || p == "/etc/pam.d/system-auth"
		},
	},
	{
		id: "discovery.containers", technique: "T1613", title: "Containers and cluster resources enumerated",
		desc:     "docker ps/images/info, kubectl get/describe/auth can-i or crictl ps ran, or a shell utility read /.dockerenv or /proc/1/cgroup.",
		programs: set("docker", "kubectl", "crictl", "ctr", "nerdctl", "podman", "oc"),
		accept: func(e *Exec) bool {
			return hasArg(e.Args, "ps", "images", "info", "get", "describe", "can-i", "inspect", "list", "ls", "top", "version") && !infoOnly(e.Args)
		},
		files: func(p string) bool { return p == "/.dockerenv" || p == "/proc/1/cgroup" || p == "/run/.containerenv" },
	},
	{
		id: "discovery.remote-systems", technique: "T1018", title: "Other hosts looked up",
		desc:     "arp -a, ip neigh or nmap -sn ran from a script, or a shell utility read /etc/hosts.",
		programs: set("arp", "ip", "nmap", "arp-scan", "netdiscover", "fping"),
		accept: func(e *Exec) bool {
			switch family(e.Name) {
			case "arp":
				return hasArg(e.Args, "-a", "-an", "-n") || len(e.Args) == 0
			case "ip":
				ops := operands(e.Args)
				return len(ops) > 0 && (ops[0] == "neigh" || ops[0] == "neighbor" || ops[0] == "n")
			case "nmap":
				return hasArg(e.Args, "-sn", "-sP")
			}
			return true
		},
		files: func(p string) bool { return p == "/etc/hosts" },
	},
	{
		id: "discovery.network-shares", technique: "T1135", title: "Network shares enumerated",
		desc:     "showmount, smbclient -L, smbmap or nmblookup ran, or a shell utility read /etc/exports.",
		programs: set("showmount", "smbclient", "smbmap", "nmblookup", "smbtree"),
		accept: func(e *Exec) bool {
			return family(e.Name) != "smbclient" || hasArg(e.Args, "-L")
		},
		files: func(p string) bool { return p == "/etc/exports" || p == "/etc/samba/smb.conf" },
	},
}

// wrappers pass a command on; a command under sudo is still the script's.
var wrappers = set("sudo", "doas", "su", "env", "timeout", "nohup", "xargs", "time", "nice", "ionice", "stdbuf",
	"setsid", "runuser", "chroot", "busybox", "command", "exec", "gosu", "su-exec", "script", "watch", "egrep", "fgrep")

// fromScript reports a process started by a shell script, looking through
// wrappers such as sudo and xargs.
func fromScript(x *Index, pid int32, self *Image) bool {
	for _, img := range x.LineageImages(pid) {
		if img == self {
			continue
		}
		if wrappers[family(img.Name)] {
			continue
		}
		return isShell(img.Name)
	}
	return false
}

func discoveryRules() []Rule {
	var rules []Rule
	for i := range probes {
		p := &probes[i]
		rules = append(rules, Rule{
			ID: p.id, Title: p.title, Description: p.desc + " Everyday tools: low severity alone, several together raise the score.",
			Severity: SeverityLow, Confidence: 0.7, Techniques: []string{p.technique},
			Match: func(x *Index) []Hit { return matchProbe(x, p) },
		})
	}
	rules = append(rules,
		Rule{
			ID: "discovery.network-scan", Title: "Network service scan",
			Description: "A port scanner (nmap, masscan, zmap, rustscan, nc -z) ran against a target, or one program tried five or more ports of one host.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1046"},
			Match: matchNetworkScan,
		},
		Rule{
			ID: "discovery.security-software", Title: "Security software looked for",
			Description: "A command searched process lists, services or files for security agents by name (falcon, osquery, auditbeat, wazuh...).",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1518.001"},
			Match: matchSecuritySoftware,
		},
		Rule{
			ID: "discovery.browser", Title: "Browser data looked for",
			Description: "A command looked for browser profiles, bookmarks or history (.mozilla, places.sqlite, google-chrome), or a non-browser read them.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1217"},
			Match: matchBrowserDiscovery,
		},
		Rule{
			ID: "discovery.internet-connection", Title: "External IP or connectivity looked up",
			Description: "A what-is-my-IP service was resolved or fetched (ifconfig.me, ipinfo.io, api.ipify.org, icanhazip.com...).",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1016.001"},
			Match: matchInternetCheck,
		},
	)
	return rules
}

func matchProbe(x *Index, p *probe) []Hit {
	var hits []Hit
	if p.programs != nil {
		for _, e := range x.ExecsOf(p.programs) {
			if e.Start || infoOnly(e.Args) || !fromScript(x, e.PID, e.Image) {
				continue
			}
			if p.accept != nil && !p.accept(e) {
				continue
			}
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	if p.technique == "T1057" {
		hits = append(hits, procWalkers(x)...)
	}
	if p.files != nil {
		for _, o := range x.ReadsMatching(p.files) {
			if o.Img != nil && p.anyReader && !installing(x, o.PID) {
				hits = append(hits, hitOpen(o, o.Img.Name+" read "+o.Path))
				continue
			}
			if o.Img == nil || !(textTools[family(o.Img.Name)] || isShell(o.Img.Name)) {
				continue
			}
			// Shells look users up through NSS on their own (~ expansion).
			if isShell(o.Img.Name) && (o.Path == "/etc/passwd" || o.Path == "/etc/group") {
				continue
			}
			if !fromScript(x, o.PID, o.Img) && !isShell(o.Img.Name) {
				continue
			}
			hits = append(hits, hitOpen(o, o.Img.Name+" read "+o.Path))
		}
	}
	return hits
}

// procWalkers finds programs that read the command lines or status of
// five or more other processes: process discovery done in-process.
func procWalkers(x *Index) []Hit {
	type walk struct {
		pids map[string]bool
		evs  []int
	}
	by := map[int32]*walk{}
	var order []int32
	for _, o := range x.Opens {
		pid, leaf, ok := procPIDLeaf(o.Path)
		if !ok || o.Write() || pid == "self" || pid == "thread-self" || pid == strconv.Itoa(int(o.PID)) {
			continue
		}
		if leaf != "cmdline" && leaf != "stat" && leaf != "status" && leaf != "comm" && leaf != "environ" {
			continue
		}
		if o.Img != nil && (set("ps", "top", "pgrep", "pstree", "htop", "pkill", "killall", "pidof")[family(o.Img.Name)]) {
			continue // counted by their exec
		}
		w := by[o.PID]
		if w == nil {
			w = &walk{pids: map[string]bool{}}
			by[o.PID] = w
			order = append(order, o.PID)
		}
		if !w.pids[pid] {
			w.pids[pid] = true
			if len(w.evs) < 8 {
				w.evs = append(w.evs, o.Ev)
			}
		}
	}
	var hits []Hit
	for _, pid := range order {
		if w := by[pid]; len(w.pids) >= 5 {
			hits = append(hits, Hit{Events: w.evs, Summary: "pid " + strconv.Itoa(int(pid)) + " read /proc of " + strconv.Itoa(len(w.pids)) + " processes"})
		}
	}
	return hits
}

var scanners = set("nmap", "masscan", "zmap", "rustscan", "unicornscan", "naabu", "hping3", "nc", "ncat", "netcat")

func matchNetworkScan(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(scanners) {
		if infoOnly(e.Args) || len(operands(e.Args)) == 0 {
			continue
		}
		switch family(e.Name) {
		case "nc", "ncat", "netcat":
			if !hasArgPrefix(e.Args, "-z", "-vz", "-zv", "-nz", "-zn", "-nvz", "-vnz", "-zvn") {
				continue
			}
			ops := operands(e.Args)
			if len(ops) < 2 || !(strings.Contains(ops[len(ops)-1], "-") || len(ops) > 2) {
				continue // one port: a readiness probe
			}
		case "nmap":
			if hasArg(e.Args, "-sn", "-sP", "-sL") {
				continue // host discovery: T1018
			}
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	type key struct {
		pid int32
		ip  string
	}
	ports := map[key]map[uint16]bool{}
	evs := map[key][]int{}
	var order []key
	for _, i := range x.Kind(trace.KindConnect) {
		e := &x.Events[i]
		if e.Addr == nil || e.Addr.IP == "" || e.Addr.Port == 0 {
			continue
		}
		k := key{e.PID, e.Addr.IP}
		if ports[k] == nil {
			ports[k] = map[uint16]bool{}
			order = append(order, k)
		}
		if !ports[k][e.Addr.Port] {
			ports[k][e.Addr.Port] = true
			evs[k] = append(evs[k], i)
		}
	}
	for _, k := range order {
		if n := len(ports[k]); n >= 5 {
			hits = append(hits, Hit{Events: evs[k], Summary: "pid " + strconv.Itoa(int(k.pid)) + " tried " + strconv.Itoa(n) + " ports of " + k.ip})
		}
	}
	return hits
}

var agentNameRe = regexp.MustCompile(`(?i)falcon|crowdstrike|osquery|auditbeat|packetbeat|filebeat|wazuh|ossec|sysdig|\bfalco\b|tracee|sentinel|cbagent|carbonblack|cylance|sophos|eset|kaspersky|mcafee|symantec|clamav|clamd|nessus|qualys|tanium|td-agent|elastic-agent|auditd|aqua|twistlock|rkhunter|chkrootkit|tripwire|snort|suricata|datadog|newrelic|lacework|defender|mdatp|apparmor|selinux`)

func matchSecuritySoftware(x *Index) []Hit {
	var hits []Hit
	search := set("grep", "egrep", "fgrep", "pgrep", "pidof", "pkill", "ps", "ls", "find", "systemctl", "service", "dpkg", "rpm", "which", "stat", "test", "awk")
	for _, e := range x.ExecsOf(search) {
		if installing(x, e.PID) {
			continue
		}
		for _, a := range e.Args {
			if m := agentNameRe.FindString(a); m != "" && family(e.Name) != "pkill" {
				hits = append(hits, hitExec(e, "looked for "+m+": "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

var browserPathRe = regexp.MustCompile(`(?i)\.mozilla|firefox|places\.sqlite|google-chrome|chromium|bookmarks|\.config/brave|/History\b`)

func matchBrowserDiscovery(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("find", "ls", "locate", "cat", "grep", "sqlite3", "strings", "cp", "tar")) {
		if installing(x, e.PID) {
			continue
		}
		for _, a := range e.Args {
			if browserPathRe.MatchString(a) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	for _, o := range x.ReadsMatching(func(p string) bool {
		b := baseName(p)
		return credentialFile(p) == "browser" && (b == "places.sqlite" || b == "Bookmarks" || b == "History")
	}) {
		if !ownsCredential(x, o) {
			hits = append(hits, hitOpen(o, "read "+o.Path))
		}
	}
	return hits
}

var ipEchoHosts = []string{"ifconfig.me", "ifconfig.co", "icanhazip.com", "ipinfo.io", "api.ipify.org", "ipify.org", "ip-api.com",
	"checkip.amazonaws.com", "ipecho.net", "myexternalip.com", "wtfismyip.com", "ident.me", "whatismyip", "checkip.dyndns.org",
	"ip.sb", "api.myip.com", "ipapi.co", "myip.opendns.com", "am.i.mullvad.net", "l2.io", "ipv4.icanhazip.com"}

func ipEcho(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, s := range ipEchoHosts {
		if h == s || strings.HasSuffix(h, "."+s) || strings.Contains(s, ".") == false && strings.Contains(h, s) {
			return true
		}
	}
	return false
}

func matchInternetCheck(x *Index) []Hit {
	var hits []Hit
	if n := x.Run.Network; n != nil {
		for _, q := range n.DNS {
			if ipEcho(q.Name) {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "resolved " + q.Name})
			}
		}
	}
	for _, e := range x.Execs {
		if !downloaders[family(e.Name)] && !networkTools[family(e.Name)] {
			continue
		}
		for _, a := range e.Args {
			h, ok := urlHost(a)
			if !ok {
				h = a
			}
			if ipEcho(h) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}
