package sinkhole

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// recorder is the tests' Service: it records what arrives and echoes it.
// UDP replies are "echo:" + payload.
type recorder struct {
	mu  sync.Mutex
	tcp []tcpSeen
	udp []udpSeen
}

type tcpSeen struct {
	orig          netip.AddrPort
	local, remote string
	first         []byte
}

type udpSeen struct {
	src, dst netip.AddrPort
	payload  []byte
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) HandleTCP(ctx context.Context, c net.Conn, orig netip.AddrPort) {
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := c.Read(buf)
	c.SetReadDeadline(time.Time{})
	r.mu.Lock()
	r.tcp = append(r.tcp, tcpSeen{orig: orig, local: c.LocalAddr().String(), remote: c.RemoteAddr().String(), first: bytes.Clone(buf[:n])})
	r.mu.Unlock()
	if n == 0 {
		return
	}
	c.Write(buf[:n])
	io.Copy(c, c)
}

func (r *recorder) HandleUDP(ctx context.Context, payload []byte, src, dst netip.AddrPort) []byte {
	r.mu.Lock()
	r.udp = append(r.udp, udpSeen{src: src, dst: dst, payload: payload})
	r.mu.Unlock()
	return append([]byte("echo:"), payload...)
}

func (r *recorder) tcpTo(orig netip.AddrPort) []tcpSeen {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []tcpSeen
	for _, s := range r.tcp {
		if s.orig == orig {
			out = append(out, s)
		}
	}
	return out
}

func (r *recorder) udpTo(dst netip.AddrPort) []udpSeen {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []udpSeen
	for _, s := range r.udp {
		if s.dst == dst {
			out = append(out, s)
		}
	}
	return out
}

func requireRoot(t testing.TB) {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		t.Fatalf("sinkhole tests make network namespaces and need root (uid %d): run them with `make test` or as root", uid)
	}
}

func randomID(prefix string) string {
	var b [5]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newTestNetwork starts a Network with a recorder and a pcap under the
// test's temp dir, closed when the test ends.
func newTestNetwork(t testing.TB, mod ...func(*Config)) (*Network, *recorder) {
	t.Helper()
	requireRoot(t)
	rec := newRecorder()
	cfg := Config{
		RunID:    randomID("test-"),
		Service:  rec,
		PCAPPath: filepath.Join(t.TempDir(), "net.pcap"),
	}
	for _, m := range mod {
		m(&cfg)
	}
	n, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n, rec
}

// dialIn dials from inside the namespace at ns.
func dialIn(ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetNS(ns, func() error {
		var err error
		c, err = net.DialTimeout(network, addr, 5*time.Second)
		return err
	})
	return c, err
}

// roundTrip dials addr from ns, sends msg and reads the echo back.
func roundTrip(ns, network, addr string, msg []byte, want []byte) error {
	c, err := dialIn(ns, network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// pcapFile is a parsed pcap.
type pcapFile struct {
	linkType uint32
	frames   [][]byte
}

func readPCAP(b []byte) (*pcapFile, error) {
	if len(b) < pcapHeaderLen {
		return nil, errors.New("short pcap header")
	}
	if binary.LittleEndian.Uint32(b) != pcapMagic {
		return nil, fmt.Errorf("bad magic %#x", binary.LittleEndian.Uint32(b))
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != 2 {
		return nil, fmt.Errorf("version %d", v)
	}
	p := &pcapFile{linkType: binary.LittleEndian.Uint32(b[20:])}
	snap := binary.LittleEndian.Uint32(b[16:])
	b = b[pcapHeaderLen:]
	for len(b) > 0 {
		if len(b) < pcapRecordLen {
			return nil, errors.New("short record header")
		}
		incl, orig := binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
		if incl > snap || incl > orig || binary.LittleEndian.Uint32(b[4:]) >= 1e6 {
			return nil, fmt.Errorf("bad record header %x", b[:pcapRecordLen])
		}
		b = b[pcapRecordLen:]
		if uint32(len(b)) < incl {
			return nil, errors.New("truncated record")
		}
		p.frames = append(p.frames, b[:incl])
		b = b[incl:]
	}
	return p, nil
}

// frameIPv4 returns the source and destination of an Ethernet frame
// carrying IPv4, and its payload's protocol.
func frameIPv4(f []byte) (src, dst netip.Addr, proto byte, ok bool) {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return src, dst, 0, false
	}
	ip := f[14:]
	src, _ = netip.AddrFromSlice(ip[12:16])
	dst, _ = netip.AddrFromSlice(ip[16:20])
	return src, dst, ip[9], true
}

// frameIPv6 likewise for IPv6.
func frameIPv6(f []byte) (src, dst netip.Addr, ok bool) {
	if len(f) < 14+40 || binary.BigEndian.Uint16(f[12:]) != 0x86dd {
		return src, dst, false
	}
	src, _ = netip.AddrFromSlice(f[14+8 : 14+24])
	dst, _ = netip.AddrFromSlice(f[14+24 : 14+40])
	return src, dst, true
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
