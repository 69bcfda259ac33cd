package sinkhole

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestNetworkTakesEverything dials from inside the sandbox namespace (the
// kernel's stack standing in for gVisor's) and checks the Service got each
// connection and datagram with the destination the sandbox asked for.
func TestNetworkTakesEverything(t *testing.T) {
	n, rec := newTestNetwork(t)
	ns := n.NetNSPath()
	tests := []struct {
		network, addr string
		msg           string
	}{
		{"tcp", "203.0.113.7:3333", "hello pool"},
		{"tcp", "10.13.0.1:80", "GET / HTTP/1.0\r\n\r\n"},
		{"tcp", "10.13.0.77:445", "SMB"},
		{"tcp", "8.8.8.8:443", "\x16\x03\x01"},
		{"tcp", "[2001:db8::7]:6667", "NICK x\r\n"},
		{"tcp", "[fd00:5ca7::1]:22", "SSH-2.0-x\r\n"},
		{"udp", "8.8.8.8:53", "\x12\x34query"},
		{"udp", "198.51.100.20:123", "ntp"},
		{"udp", "10.13.0.200:161", "snmp"},
		{"udp", "[2001:4860:4860::8888]:53", "v6 query"},
	}
	for _, tt := range tests {
		t.Run(tt.network+"/"+tt.addr, func(t *testing.T) {
			want := []byte(tt.msg)
			if tt.network == "udp" {
				want = append([]byte("echo:"), want...)
			}
			if err := roundTrip(ns, tt.network, tt.addr, []byte(tt.msg), want); err != nil {
				t.Fatal(err)
			}
			dst := netip.MustParseAddrPort(tt.addr)
			src := DefaultAddress.Addr()
			if dst.Addr().Is6() {
				src = DefaultAddress6.Addr()
			}
			switch tt.network {
			case "tcp":
				seen := rec.tcpTo(dst)
				if len(seen) != 1 {
					t.Fatalf("service saw %d connections to %s, want 1: %+v", len(seen), dst, rec.tcp)
				}
				s := seen[0]
				if string(s.first) != tt.msg || s.local != dst.String() {
					t.Errorf("saw %+v, want first bytes %q at %s", s, tt.msg, dst)
				}
				if ap, err := netip.ParseAddrPort(s.remote); err != nil || ap.Addr() != src {
					t.Errorf("remote %s, want the sandbox's %s", s.remote, src)
				}
			case "udp":
				seen := rec.udpTo(dst)
				if len(seen) != 1 || string(seen[0].payload) != tt.msg || seen[0].src.Addr() != src {
					t.Fatalf("service saw %+v to %s, want one %q from %s", seen, dst, tt.msg, src)
				}
			}
		})
	}
	st := n.Stats()
	if st.TCPConns != 6 || st.UDPDatagrams != 4 || st.UDPFlows != 4 || st.Panics != 0 {
		t.Errorf("stats %+v, want 6 tcp connections and 4 udp flows of one datagram", st)
	}
}

// TestNetworkBulk moves a MiB each way through one connection: frames
// must arrive whole (no offloaded 64 KiB segments, no bad checksums).
func TestNetworkBulk(t *testing.T) {
	n, _ := newTestNetwork(t)
	data := make([]byte, 1<<20)
	rand.Read(data)
	c, err := dialIn(n.NetNSPath(), "tcp", "192.0.2.80:9000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	errc := make(chan error, 1)
	go func() { _, err := c.Write(data); errc <- err }()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("echo differs from what was sent")
	}
}

// TestNetworkPing: echo requests to any address are answered, from that
// address.
func TestNetworkPing(t *testing.T) {
	n, _ := newTestNetwork(t)
	dsts := []string{"198.51.100.9", "10.13.0.1", "10.13.0.9", "8.8.8.8", "2001:db8::53", "fd00:5ca7::1"}
	for i, dst := range dsts {
		err := inNetNS(n.NetNSPath(), func() error { return ping(netip.MustParseAddr(dst), uint16(i+1)) })
		if err != nil {
			t.Errorf("ping %s: %v", dst, err)
		}
	}
	if got := n.Stats().ICMPEchoes; got != uint64(len(dsts)) {
		t.Errorf("ICMPEchoes = %d, want %d", got, len(dsts))
	}
}

// ping sends one ICMP echo request from a raw socket and waits for the
// reply with the same sequence number.
func ping(dst netip.Addr, seq uint16) error {
	family, proto, typ, replyType := unix.AF_INET, unix.IPPROTO_ICMP, byte(8), byte(0)
	var sa unix.Sockaddr
	if dst.Is4() {
		sa = &unix.SockaddrInet4{Addr: dst.As4()}
	} else {
		family, proto, sa = unix.AF_INET6, unix.IPPROTO_ICMPV6, &unix.SockaddrInet6{Addr: dst.As16()}
		typ, replyType = 128, 129
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	msg := []byte{typ, 0, 0, 0, 0x5c, 0xa7, byte(seq >> 8), byte(seq), 's', 'a', 'n', 'd'}
	if !dst.Is6() { // the kernel sums ICMPv6 itself
		binary.BigEndian.PutUint16(msg[2:], inetChecksum(msg))
	}
	if err := unix.Sendto(fd, msg, 0, sa); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		m, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		b := buf[:m]
		if !dst.Is6() && m > 0 {
			b = b[int(b[0]&0xf)*4:] // raw IPv4 sockets include the IP header
		}
		if len(b) < 8 || b[0] != replyType || binary.BigEndian.Uint16(b[6:]) != seq {
			continue
		}
		var src netip.Addr
		switch a := from.(type) {
		case *unix.SockaddrInet4:
			src = netip.AddrFrom4(a.Addr)
		case *unix.SockaddrInet6:
			src = netip.AddrFrom16(a.Addr)
		}
		if src != dst {
			return errors.New("reply from " + src.String())
		}
		if !bytes.Equal(b[8:], msg[8:]) {
			return errors.New("reply payload differs")
		}
		return nil
	}
}

func inetChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// TestNetworkPCAP: the capture is a pcap of Ethernet frames holding the
// sandbox's traffic both ways, ARP included.
func TestNetworkPCAP(t *testing.T) {
	n, _ := newTestNetwork(t)
	if err := roundTrip(n.NetNSPath(), "tcp", "203.0.113.7:3333", []byte("pcap me"), []byte("pcap me")); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(n.NetNSPath(), "udp", "8.8.4.4:53", []byte("dns"), []byte("echo:dns")); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	st := n.Stats()
	b, err := os.ReadFile(n.Config().PCAPPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := readPCAP(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.linkType != linkTypeEthernet {
		t.Errorf("link type %d, want Ethernet", p.linkType)
	}
	if int64(len(p.frames)) != st.PCAPPackets || st.PCAPDropped != 0 {
		t.Errorf("%d frames in file, stats say %d written, %d dropped", len(p.frames), st.PCAPPackets, st.PCAPDropped)
	}
	var arp, toPool, fromPool, dns, payload int
	sandbox, pool := DefaultAddress.Addr(), netip.MustParseAddr("203.0.113.7")
	for _, f := range p.frames {
		if len(f) >= 14 && binary.BigEndian.Uint16(f[12:]) == 0x0806 {
			arp++
		}
		src, dst, proto, ok := frameIPv4(f)
		switch {
		case !ok:
		case src == sandbox && dst == pool && proto == unix.IPPROTO_TCP:
			toPool++
			if bytes.Contains(f, []byte("pcap me")) {
				payload++
			}
		case src == pool && dst == sandbox:
			fromPool++
		case dst == netip.MustParseAddr("8.8.4.4") && proto == unix.IPPROTO_UDP:
			dns++
		}
	}
	if arp < 2 || toPool < 3 || fromPool < 3 || dns != 1 || payload != 1 {
		t.Errorf("frames: %d arp, %d to the pool, %d from it, %d dns, %d with the payload; want >=2, >=3, >=3, 1, 1",
			arp, toPool, fromPool, dns, payload)
	}
}

// TestNetworkPCAPLimit: past PCAPLimit frames are counted, not written.
func TestNetworkPCAPLimit(t *testing.T) {
	const limit = 4096
	n, _ := newTestNetwork(t, func(c *Config) { c.PCAPLimit = limit })
	data := make([]byte, 64<<10)
	c, err := dialIn(n.NetNSPath(), "tcp", "203.0.113.9:80")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go c.Write(data)
	if _, err := io.ReadFull(c, make([]byte, len(data))); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	st := n.Stats()
	fi, err := os.Stat(n.Config().PCAPPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > limit || st.PCAPDropped == 0 || st.PCAPPackets == 0 {
		t.Errorf("pcap %d bytes (limit %d), stats %+v: want some written and some dropped", fi.Size(), limit, st)
	}
}

// TestNetworkClose: Close removes the veth and both namespaces, even while
// something else still holds the sandbox namespace, and is idempotent.
func TestNetworkClose(t *testing.T) {
	n, _ := newTestNetwork(t)
	paths := []string{n.NetNSPath(), sinkNSPath(n.Config().NetNSDir, n.Config().RunID)}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("namespace missing while up: %v", err)
		}
	}
	// Hold the sandbox namespace as a runsc that outlived its run would.
	held, err := os.Open(n.NetNSPath())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before := hostLinks(t)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Close: %v", p, err)
		}
	}
	ids, err := Leftovers("")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id == n.Config().RunID {
			t.Errorf("Leftovers still lists %s", id)
		}
	}
	names := linksIn(t, "/proc/self/fd/"+strconv.Itoa(int(held.Fd())))
	if len(names) != 1 || names[0] != "lo" {
		t.Errorf("held sandbox namespace has links %v after Close, want only lo", names)
	}
	if after := hostLinks(t); after != before {
		t.Errorf("host links changed across Close: %q -> %q", before, after)
	}
}

// linksIn lists the links in the namespace at path.
func linksIn(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	err := inNetNS(path, func() error {
		ls, err := netlink.LinkList()
		for _, l := range ls {
			names = append(names, l.Attrs().Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// hostLinks lists the host namespace's sinkhole-looking links: there
// should never be any, the veth lives only in the run's namespaces.
func hostLinks(t *testing.T) string {
	t.Helper()
	ls, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var s string
	for _, l := range ls {
		if name := l.Attrs().Name; name == sinkIf || l.Type() == "veth" && bytes.HasPrefix([]byte(name), []byte("sink")) {
			s += name + " "
		}
	}
	return s
}

// TestNetworkRefusesOverLimit: with MaxFlows open, more connections are
// reset and counted, and the Network keeps serving once they end.
func TestNetworkRefusesOverLimit(t *testing.T) {
	n, _ := newTestNetwork(t, func(c *Config) { c.MaxFlows = 1 })
	ns := n.NetNSPath()
	first, err := dialIn(ns, "tcp", "203.0.113.1:1")
	if err != nil {
		t.Fatal(err)
	}
	// The recorder holds the first connection until it sends something.
	waitFor(5*time.Second, func() bool { return n.Stats().TCPConns == 1 })
	c, err := dialIn(ns, "tcp", "203.0.113.1:2")
	if err == nil {
		c.Close()
		t.Fatal("second connection accepted past MaxFlows=1")
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("second dial: %v, want connection refused", err)
	}
	first.Close()
	ok := waitFor(5*time.Second, func() bool {
		return roundTrip(ns, "tcp", "203.0.113.1:3", []byte("x"), []byte("x")) == nil
	})
	if !ok {
		t.Error("no connection accepted after the first one ended")
	}
	if st := n.Stats(); st.TCPRefused < 1 {
		t.Errorf("TCPRefused = %d, want >= 1", st.TCPRefused)
	}
}

// panicky's handlers panic.
type panicky struct{}

func (panicky) HandleTCP(_ context.Context, c net.Conn, _ netip.AddrPort) { panic("tcp boom") }
func (panicky) HandleUDP(context.Context, []byte, netip.AddrPort, netip.AddrPort) []byte {
	panic("udp boom")
}

// TestNetworkSurvivesPanics: a panicking Service ends its flow, not the
// process.
func TestNetworkSurvivesPanics(t *testing.T) {
	n, _ := newTestNetwork(t, func(c *Config) { c.Service = panicky{} })
	ns := n.NetNSPath()
	if err := roundTrip(ns, "tcp", "203.0.113.5:80", []byte("x"), []byte("x")); err == nil {
		t.Error("panicking TCP handler echoed")
	}
	c, err := dialIn(ns, "udp", "203.0.113.5:53")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("q"))
	c.Close()
	if !waitFor(5*time.Second, func() bool { return n.Stats().Panics == 2 }) {
		t.Errorf("Panics = %d, want 2", n.Stats().Panics)
	}
}

// TestNewKeepsOthersNamespaces: a second New with a run id in use fails
// and leaves the running Network intact.
func TestNewKeepsOthersNamespaces(t *testing.T) {
	n, _ := newTestNetwork(t)
	_, err := New(context.Background(), Config{RunID: n.Config().RunID, Service: newRecorder()})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("New with a run id in use: %v, want an exists error", err)
	}
	if err := roundTrip(n.NetNSPath(), "tcp", "203.0.113.7:3333", []byte("still"), []byte("still")); err != nil {
		t.Errorf("first Network broken by the failed New: %v", err)
	}
	if _, err := New(context.Background(), Config{RunID: "bad/id", Service: newRecorder()}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad id: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, Config{RunID: randomID("test-"), Service: newRecorder()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestUDPFlows: datagrams of one source and destination share a flow,
// which ends after UDPIdle; the next datagram opens another.
func TestUDPFlows(t *testing.T) {
	n, rec := newTestNetwork(t, func(c *Config) { c.UDPIdle = 50 * time.Millisecond })
	c, err := dialIn(n.NetNSPath(), "udp", "192.0.2.53:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	exchange := func(msg string) {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		m, err := c.Read(buf)
		if err != nil || string(buf[:m]) != "echo:"+msg {
			t.Fatalf("reply %q, %v", buf[:m], err)
		}
	}
	for _, msg := range []string{"one", "two", "three"} {
		exchange(msg)
	}
	if st := n.Stats(); st.UDPFlows != 1 || st.UDPDatagrams != 3 {
		t.Errorf("stats %+v, want one flow of three datagrams", st)
	}
	active := func() int { n.mu.Lock(); defer n.mu.Unlock(); return n.active }
	if !waitFor(5*time.Second, func() bool { return active() == 0 }) {
		t.Fatalf("flow still open after UDPIdle")
	}
	exchange("four")
	if st := n.Stats(); st.UDPFlows != 2 || st.UDPDatagrams != 4 {
		t.Errorf("stats %+v, want a second flow", st)
	}
	if got := len(rec.udpTo(netip.MustParseAddrPort("192.0.2.53:53"))); got != 4 {
		t.Errorf("service saw %d datagrams, want 4", got)
	}
}
