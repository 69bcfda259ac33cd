package service

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sandscan/sandscan/trace"
)

func TestRecorderOrder(t *testing.T) {
	s := newService(t, Config{})
	r := s.Recorder()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Records arrive out of time order (a long connection is set when it
	// ends); ties keep their arrival order.
	for i, sec := range []int{3, 1, 2, 1} {
		r.addConn(trace.Conn{Time: t0.Add(time.Duration(sec) * time.Second), Proto: "tcp", DstPort: uint16(i)})
		r.addDNS(trace.DNSQuery{Time: t0.Add(time.Duration(sec) * time.Second), Name: fmt.Sprint(i)})
	}
	n := r.Network()
	var ports []uint16
	var names []string
	for i := range n.Conns {
		ports = append(ports, n.Conns[i].DstPort)
		names = append(names, n.DNS[i].Name)
	}
	if fmt.Sprint(ports) != "[1 3 2 0]" || fmt.Sprint(names) != "[1 3 2 0]" {
		t.Errorf("order: conns %v, dns %v", ports, names)
	}
	if n.Mode != Mode {
		t.Errorf("mode %q", n.Mode)
	}
}

func TestRecorderCopies(t *testing.T) {
	s := newService(t, Config{})
	r := s.Recorder()
	c := trace.Conn{Proto: "tcp", FirstData: []byte("abc"), HTTP: &trace.HTTPInfo{Path: "/x", BodyPrefix: []byte("b")}, TLS: &trace.TLSInfo{ALPN: []string{"h2"}},
		Stratum: &trace.StratumInfo{Methods: []string{"login"}}, Shell: &trace.ShellInfo{Sent: "id"}}
	i := r.addConn(c)
	c.FirstData[0], c.HTTP.Path, c.TLS.ALPN[0], c.Stratum.Methods[0], c.Shell.Sent = 'X', "/changed", "x", "x", "x"
	got := r.Network().Conns[0]
	if string(got.FirstData) != "abc" || got.HTTP.Path != "/x" || got.TLS.ALPN[0] != "h2" || got.Stratum.Methods[0] != "login" || got.Shell.Sent != "id" {
		t.Errorf("record shares memory with the handler's copy: %+v", got)
	}
	got.HTTP.BodyPrefix[0] = 'Z'
	if r.Network().Conns[0].HTTP.BodyPrefix[0] != 'b' {
		t.Error("Network shares memory with the recorder")
	}
	r.setConn(i, trace.Conn{Proto: "tcp", App: AppHTTP})
	r.setConn(-1, trace.Conn{App: "ignored"})
	if n := r.Network(); len(n.Conns) != 1 || n.Conns[0].App != AppHTTP {
		t.Errorf("after setConn: %+v", n.Conns)
	}
}

func TestRecorderEmpty(t *testing.T) {
	n := newService(t, Config{}).Network()
	if n.DNS != nil || n.Conns != nil || n.Mode != Mode {
		t.Errorf("empty network %+v", n)
	}
}

func TestRecorderLimits(t *testing.T) {
	s := newService(t, Config{MaxDNS: 2, MaxConns: 1})
	ctx := context.Background()
	for i := range 5 {
		s.HandleDNS(ctx, dnsQuery(t, fmt.Sprintf("n%d.example", i), dnsmessage.TypeA, false), sandboxDNSClient, resolverAddr)
	}
	s.HandleUDP(ctx, []byte("a"), sandboxDNSClient, netip.MustParseAddrPort("10.0.0.1:1"))
	s.HandleUDP(ctx, []byte("b"), sandboxDNSClient, netip.MustParseAddrPort("10.0.0.1:2"))
	s.HandleUDP(ctx, []byte("c"), sandboxDNSClient, netip.MustParseAddrPort("10.0.0.1:1"))
	n := s.Network()
	if len(n.DNS) != 2 || len(n.Conns) != 1 || n.Conns[0].BytesIn != 2 || s.Recorder().Dropped() != 4 {
		t.Errorf("%d dns, %d conns (%+v), %d dropped", len(n.DNS), len(n.Conns), n.Conns, s.Recorder().Dropped())
	}
	// Names past the record limit still get their own address.
	if h := s.LookupHost("10.13.128.5"); h != "n4.example" {
		t.Errorf("LookupHost = %q", h)
	}
}

// TestRecorderConcurrent is for the race detector.
func TestRecorderConcurrent(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				s.HandleDNS(ctx, dnsQuery(t, fmt.Sprintf("g%d-%d.example", g, i), dnsmessage.TypeA, false), sandboxDNSClient, resolverAddr)
				s.HandleUDP(ctx, []byte{byte(i)}, sandboxDNSClient, netip.MustParseAddrPort(fmt.Sprintf("10.13.128.%d:9", i+1)))
				s.Network()
				s.LookupHost("10.13.128.1")
			}
		})
	}
	wg.Wait()
	if n := s.Network(); len(n.DNS) != 400 || len(n.Conns) != 50 {
		t.Errorf("%d dns, %d flows", len(n.DNS), len(n.Conns))
	}
}
