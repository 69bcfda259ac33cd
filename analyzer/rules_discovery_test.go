package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestDiscoveryRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "uname -a and os-release from a script", rule: "discovery.system-info", want: true,
			run: sh("uname -a >> /tmp/x; cat /etc/os-release").spawn(1, 10, "/bin/uname", "uname", "-a").spawn(1, 11, "/bin/cat", "cat", "/etc/os-release").open(11, "/etc/os-release", rdonly).done()},
		{name: "benign: pip asks uname for its user agent", rule: "discovery.system-info", want: false,
			run: sh("pip install x").spawn(1, 10, "/usr/bin/python3", "python3", "-m", "pip", "install", "x").spawn(10, 11, "/bin/uname", "uname", "-p").open(10, "/etc/os-release", rdonly).done()},
		{name: "ps aux", rule: "discovery.processes", want: true,
			run: sh("ps aux").spawn(1, 10, "/bin/ps", "ps", "aux").done()},
		{name: "program walks /proc/*/cmdline", rule: "discovery.processes", want: true, run: func() *trace.Run {
			b := newRun("/recon")
			for _, p := range []string{"1", "7", "8", "9", "12", "15"} {
				b.open(1, "/proc/"+p+"/cmdline", rdonly)
			}
			return b.done()
		}()},
		{name: "benign: a process reads its own stat", rule: "discovery.processes", want: false,
			run: newRun("/app").open(1, "/proc/self/stat", rdonly).open(1, "/proc/1/stat", rdonly).done()},
		{name: "program reads /proc/net/tcp", rule: "discovery.network-connections", want: true,
			run: newRun("/recon").open(1, "/proc/net/tcp", rdonly).done()},
		{name: "ss -antp", rule: "discovery.network-connections", want: true,
			run: sh("ss -antp").spawn(1, 10, "/usr/bin/ss", "ss", "-antp").done()},
		{name: "ifconfig and ip addr", rule: "discovery.network-config", want: true,
			run: sh("x").spawn(1, 10, "/sbin/ifconfig", "ifconfig").spawn(1, 11, "/sbin/ip", "ip", "addr").done()},
		{name: "benign: ip link set", rule: "discovery.network-config", want: false,
			run: sh("x").spawn(1, 10, "/sbin/ip", "ip", "link", "set", "eth0", "up").done()},
		{name: "whoami", rule: "discovery.users", want: true,
			run: sh("whoami").spawn(1, 10, "/usr/bin/whoami", "whoami").done()},
		{name: "benign: id -u in an entrypoint", rule: "discovery.users", want: false,
			run: sh(`[ "$(id -u)" = 0 ]`).spawn(1, 10, "/usr/bin/id", "id", "-u").done()},
		{name: "sudo cat /etc/sudoers", rule: "discovery.local-accounts", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sudo", "sudo", "cat", "/etc/sudoers").open(10, "/etc/sudoers", rdonly).spawn(10, 11, "/bin/cat", "cat", "/etc/sudoers").open(11, "/etc/sudoers", rdonly).done()},
		{name: "benign: nginx getpwnam", rule: "discovery.local-accounts", want: false,
			run: sh("nginx").spawn(1, 10, "/usr/sbin/nginx", "nginx").open(10, "/etc/passwd", rdonly).open(10, "/etc/group", rdonly).done()},
		{name: "groups", rule: "discovery.local-groups", want: true, run: sh("groups").spawn(1, 10, "/usr/bin/groups", "groups").done()},
		{name: "find / -perm -4000", rule: "discovery.files", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/", "-perm", "-4000").done()},
		{name: "benign: find of the app's assets", rule: "discovery.files", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/srv/site", "-type", "f", "-name", "*.html", "-exec", "gzip", "-k9", "{}", ";").done()},
		{name: "systemctl list-units", rule: "discovery.services", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/systemctl", "systemctl", "list-units", "--type=service").done()},
		{name: "dpkg -l", rule: "discovery.software", want: true, run: sh("dpkg -l").spawn(1, 10, "/usr/bin/dpkg", "dpkg", "-l").done()},
		{name: "benign: dpkg --print-architecture", rule: "discovery.software", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/dpkg", "dpkg", "--print-architecture").done()},
		{name: "login.defs read by grep", rule: "discovery.password-policy", want: true,
			run: sh("x").spawn(1, 10, "/bin/grep", "grep", "PASS_MAX", "/etc/login.defs").open(10, "/etc/login.defs", rdonly).done()},
		{name: "benign: useradd reads login.defs", rule: "discovery.password-policy", want: false,
			run: sh("x").spawn(1, 10, "/usr/sbin/useradd", "useradd", "app").open(10, "/etc/login.defs", rdonly).done()},
		{name: "kubectl get pods", rule: "discovery.containers", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/kubectl", "kubectl", "get", "pods", "-A").done()},
		{name: "cat /etc/hosts", rule: "discovery.remote-systems", want: true,
			run: sh("x").spawn(1, 10, "/bin/cat", "cat", "/etc/hosts").open(10, "/etc/hosts", rdonly).done()},
		{name: "showmount -e", rule: "discovery.network-shares", want: true,
			run: sh("x").spawn(1, 10, "/sbin/showmount", "showmount", "-e", "10.0.0.1").done()},

		{name: "nmap port range", rule: "discovery.network-scan", want: true,
			run: sh("nmap -Pn -sV -p 0-65535 127.0.0.1").spawn(1, 10, "/usr/bin/nmap", "nmap", "-Pn", "-sV", "-p", "0-65535", "127.0.0.1").done()},
		{name: "connect scan of loopback ports", rule: "discovery.network-scan", want: true,
			run: newRun("/recon").connect(1, "127.0.0.1", 22, 111).connect(1, "127.0.0.1", 80, 111).connect(1, "127.0.0.1", 443, 111).connect(1, "127.0.0.1", 3306, 111).connect(1, "127.0.0.1", 6379, 111).done()},
		{name: "benign: nmap --version", rule: "discovery.network-scan", want: false,
			run: sh("nmap --version | head -1").spawn(1, 10, "/usr/bin/nmap", "nmap", "--version").spawn(1, 11, "/usr/bin/head", "head", "-1").done()},
		{name: "benign: readiness probe retries one port", rule: "discovery.network-scan", want: false,
			run: newRun("/app").connect(1, "127.0.0.1", 5432, 111).connect(1, "127.0.0.1", 5432, 111).connect(1, "127.0.0.1", 5432, 0).done()},

		{name: "ps | egrep for agents", rule: "discovery.security-software", want: true,
			run: sh("ps aux | egrep 'falcond|osqueryd'").spawn(1, 10, "/bin/ps", "ps", "aux").spawn(1, 11, "/bin/egrep", "egrep", "falcond|nessusd|osqueryd").done()},
		{name: "find firefox places", rule: "discovery.browser", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/find", "find", "/", "-path", "*.mozilla/firefox/*/places.sqlite").done()},
		{name: "what is my ip", rule: "discovery.internet-connection", want: true,
			run: sh("curl -s ifconfig.me").spawn(1, 10, "/usr/bin/curl", "curl", "-s", "https://ifconfig.me").dns("ifconfig.me", "NOERROR").done()},
	})
}

var _ = trace.KindExec
