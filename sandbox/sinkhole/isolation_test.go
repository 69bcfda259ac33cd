package sinkhole

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestIsolation: a sandbox that dials the host's loopback, the host's own
// addresses and an "outside world" namespace routed from the host only
// ever reaches the sinkhole. Listeners there accept nothing from it, and
// packet sockets in the host and the outside namespace never see a packet
// from the sandbox's addresses. ip_forward is left as it was.
func TestIsolation(t *testing.T) {
	requireRoot(t)
	fwdBefore, err := readSysctl("ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}

	// The host's listeners: loopback only, and every address.
	hostLoop := listenTCP(t, "", "127.0.0.1:0")
	hostAll := listenTCP(t, "", ":0")
	hostUDP := listenUDP(t, "", "127.0.0.1:0")

	// The outside world: a namespace behind a veth from the host, with a
	// default route back through the host, so anything that leaked into
	// the host and were forwarded would reach it and be answered.
	out := newOutside(t)
	outTCP := listenTCP(t, out.ns, netip.AddrPortFrom(out.addr, 7777).String())
	outUDP := listenUDP(t, out.ns, netip.AddrPortFrom(out.addr, 7778).String())

	sandboxNet := netip.MustParsePrefix("10.13.0.0/24")
	sandboxNet6 := netip.MustParsePrefix("fd00:5ca7::/64")
	fromSandbox := func(src netip.Addr) bool { return sandboxNet.Contains(src) || sandboxNet6.Contains(src) }
	hostSniff := sniff(t, "", fromSandbox)
	outSniff := sniff(t, out.ns, fromSandbox)
	controlSeen := sniff(t, out.ns, func(src netip.Addr) bool { return src == out.hostAddr })

	// Positive controls: each listener and sniffer works for the host.
	control := func() {
		t.Helper()
		for _, l := range []*tcpListener{hostLoop, hostAll, outTCP} {
			c, err := net.DialTimeout("tcp", l.addr, 5*time.Second)
			if err != nil {
				t.Fatalf("control dial %s: %v", l.addr, err)
			}
			c.Close()
		}
		for _, l := range []*udpListener{hostUDP, outUDP} {
			c, err := net.Dial("udp", l.addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("control"))
			c.Close()
		}
	}
	control()
	if !waitFor(5*time.Second, func() bool {
		return hostLoop.count() == 1 && hostAll.count() == 1 && outTCP.count() == 1 && hostUDP.count() == 1 && outUDP.count() == 1
	}) {
		t.Fatalf("controls: accepted %d %d %d, received %d %d; want one each",
			hostLoop.count(), hostAll.count(), outTCP.count(), hostUDP.count(), outUDP.count())
	}

	n, rec := newTestNetwork(t)
	ns := n.NetNSPath()

	// Within the sandbox, 127.0.0.1 is the sandbox's own loopback.
	if c, err := dialIn(ns, "tcp", hostLoop.addr); err == nil {
		c.Close()
		t.Errorf("sandbox reached %s", hostLoop.addr)
	} else if !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("dial host loopback from sandbox: %v, want refused by the sandbox's own lo", err)
	}
	if c, err := dialIn(ns, "udp", hostUDP.addr); err == nil {
		c.Write([]byte("leak?"))
		c.Close()
	}

	// Everything else ends in the sinkhole, original destination kept.
	var targets []netip.AddrPort
	_, allPort := splitPort(t, hostAll.addr)
	for _, a := range hostAddrs(t) {
		targets = append(targets, netip.AddrPortFrom(a, allPort))
	}
	targets = append(targets, netip.MustParseAddrPort(outTCP.addr), netip.MustParseAddrPort("8.8.8.8:53"))
	t.Logf("probing %v from the sandbox", targets)
	for _, dst := range targets {
		if err := roundTrip(ns, "tcp", dst.String(), []byte("probe"), []byte("probe")); err != nil {
			t.Errorf("sandbox -> %s: %v", dst, err)
			continue
		}
		if len(rec.tcpTo(dst)) != 1 {
			t.Errorf("the sinkhole did not record the connection to %s", dst)
		}
	}
	if err := roundTrip(ns, "udp", outUDP.addr, []byte("probe"), []byte("echo:probe")); err != nil {
		t.Errorf("sandbox -> udp %s: %v", outUDP.addr, err)
	}
	if err := inNetNS(ns, func() error { return ping(out.addr, 9) }); err != nil {
		t.Errorf("ping %s from the sandbox: %v", out.addr, err)
	}

	// A second control round after the probes: the outside namespace's
	// sniffer sees the host's packets, so it was listening all along.
	control()
	counts := func() [5]int64 {
		return [5]int64{hostLoop.count(), hostAll.count(), outTCP.count(), hostUDP.count(), outUDP.count()}
	}
	if !waitFor(5*time.Second, func() bool { return counts() == [5]int64{2, 2, 2, 2, 2} }) {
		t.Errorf("listeners (host loopback, host all, outside; udp host, outside) saw %v, want only the two control rounds", counts())
	}
	if got := controlSeen.stop(); got == 0 {
		t.Error("the outside sniffer saw not even the host's control traffic")
	}
	if got := hostSniff.stop(); got != 0 {
		t.Errorf("%d packets from the sandbox's addresses seen in the host namespace", got)
	}
	if got := outSniff.stop(); got != 0 {
		t.Errorf("%d packets from the sandbox's addresses seen in the outside namespace", got)
	}

	for _, p := range []string{ns, sinkNSPath(n.Config().NetNSDir, n.Config().RunID)} {
		var fwd string
		if err := inNetNS(p, func() (err error) { fwd, err = readSysctl("ipv4/ip_forward"); return err }); err != nil {
			t.Fatal(err)
		}
		if fwd != "0" {
			t.Errorf("ip_forward in %s = %s", p, fwd)
		}
	}
	if after, err := readSysctl("ipv4/ip_forward"); err != nil || after != fwdBefore {
		t.Errorf("host ip_forward %q -> %q (%v)", fwdBefore, after, err)
	}
}

// TestConcurrentNetworks: two runs at once, with the same addresses,
// each see only their own traffic, in their Service and their pcap.
func TestConcurrentNetworks(t *testing.T) {
	a, recA := newTestNetwork(t)
	b, recB := newTestNetwork(t)
	dst := netip.MustParseAddrPort("203.0.113.7:3333")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, x := range []struct {
		n   *Network
		msg string
	}{{a, "from-A"}, {b, "from-B"}} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- roundTrip(x.n.NetNSPath(), "tcp", dst.String(), []byte(x.msg), []byte(x.msg))
		}()
		go func() {
			defer wg.Done()
			errs <- roundTrip(x.n.NetNSPath(), "udp", "8.8.8.8:53", []byte(x.msg), []byte("echo:"+x.msg))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, x := range []struct {
		rec        *recorder
		own, other string
	}{{recA, "from-A", "from-B"}, {recB, "from-B", "from-A"}} {
		seen := x.rec.tcpTo(dst)
		if len(seen) != 1 || string(seen[0].first) != x.own {
			t.Errorf("%s's service saw %+v", x.own, seen)
		}
		udp := x.rec.udpTo(netip.MustParseAddrPort("8.8.8.8:53"))
		if len(udp) != 1 || string(udp[0].payload) != x.own {
			t.Errorf("%s's service saw datagrams %+v", x.own, udp)
		}
	}
	for _, x := range []struct {
		n          *Network
		own, other string
	}{{a, "from-A", "from-B"}, {b, "from-B", "from-A"}} {
		if err := x.n.Close(); err != nil {
			t.Fatal(err)
		}
		pc, err := os.ReadFile(x.n.Config().PCAPPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(pc, []byte(x.own)) || bytes.Contains(pc, []byte(x.other)) {
			t.Errorf("pcap of %s: has own %v, has other's %v", x.own, bytes.Contains(pc, []byte(x.own)), bytes.Contains(pc, []byte(x.other)))
		}
	}
}

type tcpListener struct {
	addr string
	n    atomic.Int64
}

func (l *tcpListener) count() int64 { return l.n.Load() }

// listenTCP listens in the namespace ns ("" for the host's) and counts
// accepted connections until the test ends.
func listenTCP(t *testing.T, ns, addr string) *tcpListener {
	t.Helper()
	var ln net.Listener
	listen := func() (err error) { ln, err = net.Listen("tcp", addr); return err }
	if err := runIn(ns, listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &tcpListener{addr: ln.Addr().String()}
	if ap := netip.MustParseAddrPort(l.addr); ap.Addr().IsUnspecified() {
		l.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()).String()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.n.Add(1)
			c.Close()
		}
	}()
	return l
}

type udpListener struct {
	addr string
	n    atomic.Int64
}

func (l *udpListener) count() int64 { return l.n.Load() }

func listenUDP(t *testing.T, ns, addr string) *udpListener {
	t.Helper()
	var pc net.PacketConn
	listen := func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }
	if err := runIn(ns, listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	l := &udpListener{addr: pc.LocalAddr().String()}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			l.n.Add(1)
		}
	}()
	return l
}

func runIn(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	return inNetNS(ns, fn)
}

// outside is the test's stand-in for the rest of the world.
type outside struct {
	ns             string
	addr, hostAddr netip.Addr
}

// newOutside makes a namespace joined to the host by a veth in a random
// /24 of the benchmarking range 198.18.0.0/15, so that parallel test runs
// do not clash.
func newOutside(t *testing.T) *outside {
	t.Helper()
	var r [3]byte
	rand.Read(r[:])
	suffix := fmt.Sprintf("%02x%02x", r[0], r[1])
	o := &outside{
		ns:       filepath.Join(DefaultNetNSDir, "ss-test-outside-"+suffix),
		addr:     netip.AddrFrom4([4]byte{198, 18 + r[2]&1, r[1], 1}),
		hostAddr: netip.AddrFrom4([4]byte{198, 18 + r[2]&1, r[1], 2}),
	}
	if err := ensureNetNSDir(DefaultNetNSDir); err != nil {
		t.Fatal(err)
	}
	if err := createNetNS(o.ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNetNS(o.ns) })
	nsfd, err := unix.Open(o.ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(nsfd)
	hostEnd, outEnd := "ssth"+suffix, "ssto"+suffix
	la := netlink.NewLinkAttrs()
	la.Name = hostEnd
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: outEnd, PeerNamespace: netlink.NsFd(nsfd)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(hostEnd); err == nil {
			netlink.LinkDel(l)
		}
	})
	hl, err := netlink.LinkByName(hostEnd)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(hl, &netlink.Addr{IPNet: prefixNet(netip.PrefixFrom(o.hostAddr, 24))}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(hl); err != nil {
		t.Fatal(err)
	}
	err = inNetNS(o.ns, func() error {
		for _, name := range []string{"lo", outEnd} {
			l, err := netlink.LinkByName(name)
			if err != nil {
				return err
			}
			if name == outEnd {
				if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: prefixNet(netip.PrefixFrom(o.addr, 24))}); err != nil {
					return err
				}
			}
			if err := netlink.LinkSetUp(l); err != nil {
				return err
			}
		}
		l, _ := netlink.LinkByName(outEnd)
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.IP(o.hostAddr.AsSlice())})
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// sniffer counts packets, on every interface of a namespace, whose source
// address match says to.
type sniffer struct {
	f    *os.File
	n    atomic.Int64
	done chan struct{}
}

func sniff(t *testing.T, ns string, match func(src netip.Addr) bool) *sniffer {
	t.Helper()
	var fd int
	open := func() (err error) {
		// Cooked (SOCK_DGRAM) so every link type starts at the IP header.
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_ALL)))
		return err
	}
	if err := runIn(ns, open); err != nil {
		t.Fatal(err)
	}
	s := &sniffer{f: os.NewFile(uintptr(fd), "sniffer"), done: make(chan struct{})}
	t.Cleanup(func() { s.stop() })
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			m, err := s.f.Read(buf)
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if err != nil || m < 20 {
				continue
			}
			var src netip.Addr
			switch buf[0] >> 4 {
			case 4:
				src, _ = netip.AddrFromSlice(buf[12:16])
			case 6:
				if m >= 40 {
					src, _ = netip.AddrFromSlice(buf[8:24])
				}
			}
			if src.IsValid() && match(src) {
				s.n.Add(1)
			}
		}
	}()
	return s
}

// stop ends the sniffer and returns its count.
func (s *sniffer) stop() int64 {
	s.f.Close()
	<-s.done
	return s.n.Load()
}

func splitPort(t *testing.T, addr string) (netip.Addr, uint16) {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap.Addr(), ap.Port()
}

// hostAddrs lists the host namespace's own unicast addresses that are not
// loopback or link-local: a sandbox must not reach any of them.
func hostAddrs(t *testing.T) []netip.Addr {
	t.Helper()
	as, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Addr
	for _, a := range as {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			continue
		}
		out = append(out, ip)
	}
	if len(out) == 0 {
		t.Fatal("the host has no address but loopback (the outside veth should give it one)")
	}
	return out
}
