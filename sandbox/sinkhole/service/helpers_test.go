package service

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sandscan/sandscan/trace"
)

// testConfig has timeouts short enough for tests that wait them out.
func testConfig() Config {
	return Config{
		BannerWait:  150 * time.Millisecond,
		IdleTimeout: 300 * time.Millisecond,
		ConnTimeout: 10 * time.Second,
	}
}

func newService(t testing.TB, cfg Config) *Service {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = panicLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// panicLogger fails the test when a handler panics: HandleTCP recovers
// and logs, so the log is where a panic shows.
func panicLogger(t testing.TB) *slog.Logger {
	return slog.New(failOnError{t})
}

type failOnError struct{ t testing.TB }

func (h failOnError) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h failOnError) Handle(_ context.Context, r slog.Record) error {
	h.t.Errorf("logged error: %s", r.Message)
	return nil
}
func (h failOnError) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h failOnError) WithGroup(string) slog.Handler      { return h }

// tcpPair is both ends of a real loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return client, r.c
}

// sandboxNet stands in for the sinkhole's plumbing: a dial resolves names
// through the Service's DNS (as the sandbox would) and hands the server
// end of a real loopback TCP connection to HandleTCP with the address the
// client meant.
type sandboxNet struct {
	t  testing.TB
	s  *Service
	wg sync.WaitGroup
}

func newSandboxNet(t testing.TB, s *Service) *sandboxNet { return &sandboxNet{t: t, s: s} }

func (n *sandboxNet) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	orig, err := n.resolve(addr)
	if err != nil {
		return nil, err
	}
	return n.dialOrig(orig), nil
}

func (n *sandboxNet) dialOrig(orig netip.AddrPort) net.Conn {
	client, server := tcpPair(n.t)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.s.HandleTCP(context.Background(), server, orig)
	}()
	return client
}

// dial connects to addr ("name:port" or "ip:port").
func (n *sandboxNet) dial(addr string) net.Conn {
	n.t.Helper()
	c, err := n.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

func (n *sandboxNet) resolve(addr string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips := answers(n.t, n.s.HandleDNS(context.Background(), dnsQuery(n.t, host, dnsmessage.TypeA, false), sandboxDNSClient, resolverAddr))
		if len(ips) != 1 {
			n.t.Fatalf("resolving %s: answers %v", host, ips)
		}
		ip = netip.MustParseAddr(ips[0])
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// wait returns once every connection handed out has been served.
func (n *sandboxNet) wait() { n.wg.Wait() }

// lastConn is the record of the connection served last.
func lastConn(t testing.TB, s *Service) trace.Conn {
	t.Helper()
	conns := s.Network().Conns
	if len(conns) == 0 {
		t.Fatal("no connection recorded")
	}
	return conns[len(conns)-1]
}

var (
	sandboxDNSClient = netip.MustParseAddrPort("10.13.0.2:40000")
	resolverAddr     = netip.MustParseAddrPort("10.13.0.1:53")
)

// dnsQuery is a recursive query for name (a trailing dot is added).
func dnsQuery(t testing.TB, name string, typ dnsmessage.Type, edns bool) []byte {
	t.Helper()
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0xbeef, RecursionDesired: true})
	b.EnableCompression()
	must(t, b.StartQuestions())
	must(t, b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}))
	if edns {
		must(t, b.StartAdditionals())
		var h dnsmessage.ResourceHeader
		must(t, h.SetEDNS0(4096, dnsmessage.RCodeSuccess, false))
		must(t, b.OPTResource(h, dnsmessage.OPTResource{}))
	}
	msg, err := b.Finish()
	must(t, err)
	return msg
}

// answers parses a reply and returns its answers as text.
func answers(t testing.TB, reply []byte) []string {
	t.Helper()
	var m dnsmessage.Message
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	var out []string
	for _, a := range m.Answers {
		switch r := a.Body.(type) {
		case *dnsmessage.AResource:
			out = append(out, netip.AddrFrom4(r.A).String())
		case *dnsmessage.AAAAResource:
			out = append(out, netip.AddrFrom16(r.AAAA).String())
		case *dnsmessage.MXResource:
			out = append(out, r.MX.String())
		case *dnsmessage.PTRResource:
			out = append(out, r.PTR.String())
		default:
			out = append(out, a.Header.Type.String())
		}
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
