package sandbox_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// countingListener accepts on addr and counts connections.
type countingListener struct {
	ln    net.Listener
	count atomic.Int32
}

func listen(t *testing.T, addr string) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln)
}

func serve(t *testing.T, ln net.Listener) *countingListener {
	l := &countingListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.count.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return l
}

// outsideWorld makes a network namespace reachable from the host over a
// veth (198.51.100.1 inside, .2 on the host), standing in for the world a
// leaking sandbox would reach, and listens there.
func outsideWorld(t *testing.T) *countingListener {
	t.Helper()
	ns := fmt.Sprintf("ss-test-out-%d", os.Getpid())
	host, peer := fmt.Sprintf("sstoh%d", os.Getpid()%100000), fmt.Sprintf("sstop%d", os.Getpid()%100000)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	ip("link", "set", peer, "netns", ns)
	ip("addr", "add", "198.51.100.2/24", "dev", host)
	ip("link", "set", host, "up")
	ip("-n", ns, "addr", "add", "198.51.100.1/24", "dev", peer)
	ip("-n", ns, "link", "set", peer, "up")
	ip("-n", ns, "link", "set", "lo", "up")

	// A socket belongs to the namespace it was made in: make it there.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "198.51.100.1:8443")
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("back to the host namespace: %v", serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln)
}

func hostAddr(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !strings.HasPrefix(n.IP.String(), "198.51.100.") {
			return n.IP.String()
		}
	}
	t.Fatal("host has no IPv4 address besides loopback")
	return ""
}

// TestSinkholeIsolation tries, from inside a sandbox, the host's loopback,
// the host's own address and an outside namespace the host can reach:
// none of them may see a connection; the sinkhole answers instead.
func TestSinkholeIsolation(t *testing.T) {
	sb := newSandbox(t)
	outside := outsideWorld(t)
	loop := listen(t, "127.0.0.1:0")
	hostIP := hostAddr(t)
	onHost := listen(t, hostIP+":0")
	port := func(l *countingListener) string { return fmt.Sprint(l.ln.Addr().(*net.TCPAddr).Port) }

	// The outside world is really there: the host reaches it.
	c, err := net.DialTimeout("tcp", "198.51.100.1:8443", 2*time.Second)
	if err != nil {
		t.Fatalf("the stand-in outside world is unreachable from the host: %v", err)
	}
	c.Close()
	time.Sleep(100 * time.Millisecond)
	if outside.count.Load() != 1 {
		t.Fatalf("outside listener saw %d connections, want 1", outside.count.Load())
	}
	outside.count.Store(0)

	fwdBefore, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	targets := [][2]string{
		{"198.51.100.1", "8443"},
		{"127.0.0.1", port(loop)},
		{hostIP, port(onHost)},
		{"10.13.0.1", port(loop)},
		{"8.8.8.8", "53"},
	}
	var script strings.Builder
	for _, tg := range targets {
		fmt.Fprintf(&script, "echo probe | nc -w 2 %s %s; ", tg[0], tg[1])
	}
	run := detonate(t, sb, shellImage(t, "isolation", script.String()))

	if n := outside.count.Load() + loop.count.Load() + onHost.count.Load(); n != 0 {
		t.Errorf("a sandbox reached the outside (%d), the host loopback (%d) or the host (%d)",
			outside.count.Load(), loop.count.Load(), onHost.count.Load())
	}
	if fwdAfter, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(fwdAfter) != string(fwdBefore) {
		t.Errorf("ip_forward changed from %q to %q", fwdBefore, fwdAfter)
	}
	// The attempts happened, and the sinkhole took the ones that left the
	// sandbox's own loopback.
	for _, tg := range targets {
		if !hasEvent(run, func(e *trace.Event) bool {
			return e.Kind == trace.KindConnect && e.Addr != nil && e.Addr.IP == tg[0] && fmt.Sprint(e.Addr.Port) == tg[1]
		}) {
			t.Errorf("no connect to %s:%s in the trace", tg[0], tg[1])
		}
	}
	if run.Network == nil || !slices.ContainsFunc(run.Network.Conns, func(c trace.Conn) bool {
		return c.DstIP == "198.51.100.1" && c.DstPort == 8443
	}) {
		t.Errorf("the sinkhole did not record the connection meant for the outside: %+v", run.Network)
	}
	assertNoLeftovers(t, sb, run.ID)
}

// TestSinkholeConcurrent runs two sandboxes at once: each sees only its
// own traffic.
func TestSinkholeConcurrent(t *testing.T) {
	sb := newSandbox(t)
	images := map[string]uint16{"miner.tar": 3333, "revshell.tar": 4444}
	runs := map[string]*trace.Run{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name := range images {
		src := sampleImage(t, name)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			img, err := sb.Import(ctx, src)
			if err != nil {
				t.Error(err)
				return
			}
			run, err := sb.Run(ctx, img, sandbox.WithNetwork(sandbox.NetworkSinkhole))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			runs[name] = run
			mu.Unlock()
		})
	}
	wg.Wait()
	for name, port := range images {
		run := runs[name]
		if run == nil || run.Network == nil {
			t.Fatalf("%s: no network record", name)
		}
		for _, c := range run.Network.Conns {
			for other, op := range images {
				if other != name && c.DstPort == op {
					t.Errorf("%s saw %s's connection to port %d", name, other, op)
				}
			}
		}
		t.Logf("%s: exit %+v in %.1fs, %d connections", name, run.Exit, run.Timings.Run.Std().Seconds(), len(run.Network.Conns))
		if !slices.ContainsFunc(run.Network.Conns, func(c trace.Conn) bool { return c.DstPort == port }) {
			t.Errorf("%s: its own connection to %d is missing", name, port)
		}
		assertNoLeftovers(t, sb, run.ID)
	}
}
