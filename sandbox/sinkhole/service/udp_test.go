package service

import (
	"bytes"
	"context"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func TestHandleUDP(t *testing.T) {
	cfg := testConfig()
	cfg.CaptureBytes = 8
	s := newService(t, cfg)
	ctx := context.Background()
	s.HandleDNS(ctx, dnsQuery(t, "ntp.example", dnsmessage.TypeA, false), sandboxDNSClient, resolverAddr)
	src := netip.MustParseAddrPort("10.13.0.2:5000")
	ntp := netip.MustParseAddrPort("10.13.128.1:123")
	other := netip.MustParseAddrPort("198.51.100.1:9999")
	for _, d := range []struct {
		src, dst netip.AddrPort
		payload  string
	}{
		{src, ntp, "abcde"},
		{src, other, "xyz"},
		{src, ntp, "fghij"},
		{netip.MustParseAddrPort("10.13.0.2:5001"), ntp, "k"},
	} {
		if reply := s.HandleUDP(ctx, []byte(d.payload), d.src, d.dst); reply != nil {
			t.Errorf("datagram to %v got a reply", d.dst)
		}
	}
	conns := s.Network().Conns
	if len(conns) != 3 {
		t.Fatalf("%d flows recorded, want 3: %+v", len(conns), conns)
	}
	want := []struct {
		dst, host string
		port      uint16
		in        int64
		first     string
	}{
		{"10.13.128.1", "ntp.example", 5000, 10, "abcdefgh"},
		{"198.51.100.1", "", 5000, 3, "xyz"},
		{"10.13.128.1", "ntp.example", 5001, 1, "k"},
	}
	for i, w := range want {
		c := conns[i]
		if c.Proto != "udp" || c.DstIP != w.dst || c.Host != w.host || c.SrcPort != w.port || c.BytesIn != w.in || !bytes.Equal(c.FirstData, []byte(w.first)) {
			t.Errorf("flow %d = %+v", i, c)
		}
	}
}

func TestHandleUDPDNS(t *testing.T) {
	s := newService(t, testConfig())
	reply := s.HandleUDP(context.Background(), dnsQuery(t, "c2.example", dnsmessage.TypeA, false), sandboxDNSClient, netip.MustParseAddrPort("8.8.8.8:53"))
	if got := answers(t, reply); len(got) != 1 || got[0] != "10.13.128.1" {
		t.Errorf("answers %v", got)
	}
	n := s.Network()
	if len(n.Conns) != 0 || len(n.DNS) != 1 || n.DNS[0].Name != "c2.example" {
		t.Errorf("recorded %+v", n)
	}
}
