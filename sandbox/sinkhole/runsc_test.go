package sinkhole

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandscan/sandscan/internal/testenv"
)

// TestRunscSandbox runs busybox under runsc --network=sandbox in the
// Network's namespace, as the sandbox package will: gVisor takes eth0's
// addresses and routes from the namespace, and every connection,
// IPv4 and IPv6, bulk included, and every datagram ends in the sinkhole.
func TestRunscSandbox(t *testing.T) {
	env := testenv.Setup(t)
	n, rec := newTestNetwork(t)

	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "proc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox") // Debian's busybox-static
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"bin/busybox": bb, "etc/resolv.conf": []byte("nameserver 10.13.0.1\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(rootfs, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.Join([]string{
		"echo hello-v4 | busybox nc -w 5 203.0.113.7 8080",
		"echo hello-v6 | busybox nc -w 5 2001:db8::1 81",
		"echo bulk=$(busybox head -c 3000000 /dev/zero | busybox nc -w 5 198.51.100.1 9 | busybox wc -c)",
		"busybox timeout 1 busybox nslookup pool.example 8.8.8.8 >/dev/null 2>&1",
		"echo hi | busybox nc -w 5 127.0.0.1 22 || echo loopback-refused",
	}, "; ")
	spec := specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: rootfs},
		Process: &specs.Process{Args: []string{"/bin/busybox", "sh", "-c", script}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Mounts:  []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
			{Type: specs.NetworkNamespace, Path: n.NetNSPath()},
		}},
	}
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(env.Runsc, "--root="+filepath.Join(dir, "state"), "--network=sandbox", "--platform="+env.Platform,
		"run", "--bundle", dir, randomID("sinkhole-test-"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("runsc: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"hello-v4\n", "hello-v6\n", "bulk=3000000\n", "loopback-refused\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for dst, first := range map[string]string{"203.0.113.7:8080": "hello-v4\n", "[2001:db8::1]:81": "hello-v6\n"} {
		seen := rec.tcpTo(netip.MustParseAddrPort(dst))
		if len(seen) != 1 || string(seen[0].first) != first {
			t.Errorf("sinkhole saw %+v for %s, want one connection starting %q", seen, dst, first)
		}
	}
	dns := rec.udpTo(netip.MustParseAddrPort("8.8.8.8:53"))
	if len(dns) == 0 || !bytes.Contains(dns[0].payload, []byte("\x04pool\x07example\x00")) {
		t.Errorf("sinkhole saw %+v at 8.8.8.8:53, want a query for pool.example", dns)
	}
}
