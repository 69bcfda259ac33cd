package service

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sandscan/sandscan/trace"
)

func TestHandleDNSAnswers(t *testing.T) {
	s := newService(t, Config{NXDomain: []string{"Blocked.Test.", "sinkhole.invalid"}})
	exfil := "4a6f686e3a70617373776f7264313233.0001.x.exfil.example"
	steps := []struct {
		name    string
		typ     dnsmessage.Type
		rcode   dnsmessage.RCode
		answers []string
	}{
		{"evil.example", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.1"}},
		{"second.example", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.2"}},
		{"EVIL.example", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.1"}},
		{"evil.example", dnsmessage.TypeAAAA, dnsmessage.RCodeSuccess, []string{"fd00:5ca7:0:1::1"}},
		{"v6first.example", dnsmessage.TypeAAAA, dnsmessage.RCodeSuccess, []string{"fd00:5ca7:0:1::3"}},
		{"v6first.example", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.3"}},
		{"evil.example", dnsmessage.TypeTXT, dnsmessage.RCodeSuccess, nil},
		{"evil.example", dnsmessage.TypeCNAME, dnsmessage.RCodeSuccess, nil},
		{"evil.example", dnsmessage.TypeALL, dnsmessage.RCodeSuccess, nil},
		{"blocked.test", dnsmessage.TypeA, dnsmessage.RCodeNameError, nil},
		{"deep.sub.BLOCKED.test", dnsmessage.TypeAAAA, dnsmessage.RCodeNameError, nil},
		{"notblocked.test", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.4"}},
		{"x.sinkhole.invalid", dnsmessage.TypeTXT, dnsmessage.RCodeNameError, nil},
		{"corp.example", dnsmessage.TypeMX, dnsmessage.RCodeSuccess, []string{"mx.corp.example."}},
		{"1.128.13.10.in-addr.arpa", dnsmessage.TypePTR, dnsmessage.RCodeSuccess, []string{"evil.example."}},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.7.a.c.5.0.0.d.f.ip6.arpa", dnsmessage.TypePTR, dnsmessage.RCodeSuccess, []string{"evil.example."}},
		{"9.9.9.9.in-addr.arpa", dnsmessage.TypePTR, dnsmessage.RCodeNameError, nil},
		{"localhost", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"127.0.0.1"}},
		{"app.localhost", dnsmessage.TypeAAAA, dnsmessage.RCodeSuccess, []string{"::1"}},
		{exfil, dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.13.128.5"}},
	}
	for _, st := range steps {
		reply := s.HandleDNS(context.Background(), dnsQuery(t, st.name, st.typ, false), sandboxDNSClient, resolverAddr)
		var m dnsmessage.Message
		if err := m.Unpack(reply); err != nil {
			t.Fatalf("%s %v: reply: %v", st.name, st.typ, err)
		}
		if m.ID != 0xbeef || !m.Response || !m.RecursionDesired || m.RCode != st.rcode {
			t.Errorf("%s %v: header %+v, want rcode %v", st.name, st.typ, m.Header, st.rcode)
		}
		if len(m.Questions) != 1 || !strings.EqualFold(m.Questions[0].Name.String(), st.name+".") {
			t.Errorf("%s %v: questions %v", st.name, st.typ, m.Questions)
		}
		if got := answers(t, reply); !slices.Equal(got, st.answers) {
			t.Errorf("%s %v: answers %v, want %v", st.name, st.typ, got, st.answers)
		}
	}

	recs := s.Network().DNS
	if len(recs) != len(steps) {
		t.Fatalf("%d DNS records, want %d", len(recs), len(steps))
	}
	for i, st := range steps {
		want := trace.DNSQuery{Name: st.name, Type: typeName(st.typ), RCode: rcodeName(st.rcode)}
		for _, a := range st.answers {
			want.Answers = append(want.Answers, strings.TrimSuffix(a, "."))
		}
		got := recs[i]
		if got.Time.IsZero() {
			t.Errorf("record %d has no time", i)
		}
		got.Time = want.Time
		if got.Name != want.Name || got.Type != want.Type || got.RCode != want.RCode || !slices.Equal(got.Answers, want.Answers) {
			t.Errorf("record %d = %+v, want %+v", i, got, want)
		}
	}
	if recs[6].Type != "TXT" || recs[10].RCode != "NXDOMAIN" || recs[len(recs)-1].Name != exfil {
		t.Errorf("records do not read as DNS tools write them: %+v %+v %+v", recs[6], recs[10], recs[len(recs)-1])
	}

	for ip, want := range map[string]string{
		"10.13.128.1":        "evil.example",
		"::ffff:10.13.128.2": "second.example",
		"fd00:5ca7:0:1::3":   "v6first.example",
		"10.13.128.5":        exfil,
		"10.13.128.99":       "",
		"fd00:5ca7:0:2::1":   "",
		"10.13.0.1":          "",
		"8.8.8.8":            "",
		"not an ip":          "",
	} {
		if got := s.LookupHost(ip); got != want {
			t.Errorf("LookupHost(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestHandleDNSMalformed(t *testing.T) {
	s := newService(t, Config{})
	valid := dnsQuery(t, "ok.example", dnsmessage.TypeA, false)
	response := slices.Clone(valid)
	response[2] |= 0x80 // QR: an answer, not a question
	status := slices.Clone(valid)
	status[2] |= 2 << 3 // opcode STATUS
	badQuestion := slices.Clone(valid[:12])
	badQuestion = append(badQuestion, 0x3f, 'a') // a label longer than the message
	dotLabel := append(slices.Clone(valid[:12]), 3, 'a', '.', 'b', 0, 0, 1, 0, 1)

	tests := []struct {
		name     string
		msg      []byte
		wantNil  bool
		rcode    dnsmessage.RCode
		recorded bool
	}{
		{"empty", nil, true, 0, false},
		{"short header", valid[:11], true, 0, false},
		{"response", response, true, 0, false},
		{"truncated question", badQuestion, false, dnsmessage.RCodeFormatError, false},
		{"dot inside a label", dotLabel, false, dnsmessage.RCodeFormatError, false},
		{"no question", valid[:12], false, dnsmessage.RCodeFormatError, false},
		{"opcode status", status, false, dnsmessage.RCodeNotImplemented, true},
		{"oversized", make([]byte, maxDNSMessage+1), true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Network().DNS)
			reply := s.HandleDNS(context.Background(), tt.msg, sandboxDNSClient, resolverAddr)
			if tt.wantNil {
				if reply != nil {
					t.Fatalf("reply %x, want none", reply)
				}
			} else {
				var p dnsmessage.Parser
				h, err := p.Start(reply)
				if err != nil {
					t.Fatalf("reply does not parse: %v", err)
				}
				if h.ID != 0xbeef || !h.Response || h.RCode != tt.rcode {
					t.Errorf("header %+v, want rcode %v", h, tt.rcode)
				}
			}
			if got := len(s.Network().DNS) - before; got != map[bool]int{true: 1}[tt.recorded] {
				t.Errorf("%d records added, want recorded=%v", got, tt.recorded)
			}
		})
	}
}

func TestHandleDNSEDNS(t *testing.T) {
	s := newService(t, Config{})
	for _, edns := range []bool{false, true} {
		var m dnsmessage.Message
		if err := m.Unpack(s.HandleDNS(context.Background(), dnsQuery(t, "e.example", dnsmessage.TypeA, edns), sandboxDNSClient, resolverAddr)); err != nil {
			t.Fatal(err)
		}
		var opt bool
		for _, a := range m.Additionals {
			opt = opt || a.Header.Type == dnsmessage.TypeOPT
		}
		if opt != edns || len(m.Answers) != 1 {
			t.Errorf("query with EDNS0=%v: reply has OPT=%v, %d answers", edns, opt, len(m.Answers))
		}
	}
}

// TestDNSNameBytes checks that names with bytes outside printable ASCII
// (binary exfiltration) are recorded exactly, escaped as zone files do.
func TestDNSNameBytes(t *testing.T) {
	s := newService(t, Config{})
	msg := []byte{0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	msg = append(msg, 4, 0x00, 0xff, '\\', 'A', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0)
	msg = binary.BigEndian.AppendUint16(msg, uint16(dnsmessage.TypeA))
	msg = binary.BigEndian.AppendUint16(msg, uint16(dnsmessage.ClassINET))
	if ips := answers(t, s.HandleDNS(context.Background(), msg, sandboxDNSClient, resolverAddr)); len(ips) != 1 {
		t.Fatalf("answers %v", ips)
	}
	if got, want := s.Network().DNS[0].Name, `\000\255\\A.example`; got != want {
		t.Errorf("name recorded as %q, want %q", got, want)
	}
	if got := s.LookupHost("10.13.128.1"); got != `\000\255\\A.example` {
		t.Errorf("LookupHost = %q", got)
	}
}

func TestDNSPoolLimits(t *testing.T) {
	ask := func(s *Service, name string, typ dnsmessage.Type) string {
		ips := answers(t, s.HandleDNS(context.Background(), dnsQuery(t, name, typ, false), sandboxDNSClient, resolverAddr))
		if len(ips) != 1 {
			t.Fatalf("%s: answers %v", name, ips)
		}
		return ips[0]
	}
	t.Run("exhausted", func(t *testing.T) {
		s := newService(t, Config{Pool4: netip.MustParsePrefix("10.99.0.0/30"), Pool6: netip.MustParsePrefix("fd00:99::/120")})
		got := []string{ask(s, "a.test", dnsmessage.TypeA), ask(s, "b.test", dnsmessage.TypeA), ask(s, "c.test", dnsmessage.TypeA), ask(s, "c.test", dnsmessage.TypeAAAA)}
		want := []string{"10.99.0.1", "10.99.0.2", DefaultAddr4.String(), DefaultAddr6.String()}
		if !slices.Equal(got, want) {
			t.Errorf("answers %v, want %v", got, want)
		}
		if h := s.LookupHost(DefaultAddr4.String()); h != "" {
			t.Errorf("sinkhole's own address names %q", h)
		}
	})
	t.Run("no pool", func(t *testing.T) {
		s := newService(t, Config{NoPool: true, Addr4: netip.MustParseAddr("192.0.2.53")})
		if a, b := ask(s, "one.test", dnsmessage.TypeA), ask(s, "two.test", dnsmessage.TypeA); a != "192.0.2.53" || b != a {
			t.Errorf("answers %s %s, want the sinkhole's address", a, b)
		}
		if h := s.LookupHost("192.0.2.53"); h != "two.test" {
			t.Errorf("LookupHost = %q, want the last name answered", h)
		}
	})
}

// TestDNSGoResolver resolves through Go's own DNS client, over UDP and
// over TCP, with the Service as its server.
func TestDNSGoResolver(t *testing.T) {
	s := newService(t, testConfig())
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			src := from.(*net.UDPAddr).AddrPort()
			if reply := s.HandleUDP(context.Background(), buf[:n], src, resolverAddr); reply != nil {
				pc.WriteTo(reply, from)
			}
		}
	}()
	sn := newSandboxNet(t, s)
	for _, proto := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if proto == "tcp" {
				return sn.dialOrig(resolverAddr), nil
			}
			return net.Dial("udp", pc.LocalAddr().String())
		}}
		name := proto + ".c2.example"
		addrs, err := r.LookupNetIP(context.Background(), "ip", name)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if len(addrs) != 2 {
			t.Fatalf("%s: addresses %v, want one A and one AAAA", proto, addrs)
		}
		for _, a := range addrs {
			if got := s.LookupHost(a.String()); got != name {
				t.Errorf("%s: LookupHost(%v) = %q, want %q", proto, a, got, name)
			}
		}
	}
	sn.wait()
	n := s.Network()
	if len(n.Conns) == 0 {
		t.Error("DNS over TCP not recorded")
	}
	for _, c := range n.Conns {
		if c.App != AppDNS || c.DstPort != 53 || c.BytesIn == 0 || c.BytesOut == 0 {
			t.Errorf("DNS over TCP recorded as %+v", c)
		}
	}
	if len(n.DNS) < 4 {
		t.Errorf("DNS records %+v, want A and AAAA over both transports", n.DNS)
	}
}

func TestReverseAddr(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"4.3.2.1.in-addr.arpa", "1.2.3.4"},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "2001:db8::1"},
		{"3.2.1.in-addr.arpa", ""},
		{"256.3.2.1.in-addr.arpa", ""},
		{"1.0.ip6.arpa", ""},
		{"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", ""},
		{"example.com", ""},
	}
	for _, tt := range tests {
		a, ok := reverseAddr(tt.name)
		if got := map[bool]string{true: a.String()}[ok]; got != tt.want {
			t.Errorf("reverseAddr(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTypeAndRCodeNames(t *testing.T) {
	for typ, want := range map[dnsmessage.Type]string{dnsmessage.TypeA: "A", dnsmessage.TypeAAAA: "AAAA", dnsmessage.TypeTXT: "TXT", 65: "HTTPS", 999: "TYPE999"} {
		if got := typeName(typ); got != want {
			t.Errorf("typeName(%d) = %q, want %q", typ, got, want)
		}
	}
	for rc, want := range map[dnsmessage.RCode]string{0: "NOERROR", 3: "NXDOMAIN", 4: "NOTIMP", 1: "FORMERR", 2: "SERVFAIL", 5: "REFUSED", 9: "RCODE9"} {
		if got := rcodeName(rc); got != want {
			t.Errorf("rcodeName(%d) = %q, want %q", rc, got, want)
		}
	}
}

func FuzzHandleDNS(f *testing.F) {
	f.Add(dnsQuery(f, "seed.example", dnsmessage.TypeA, false))
	f.Add(dnsQuery(f, "seed.example", dnsmessage.TypeAAAA, true))
	f.Add(dnsQuery(f, "corp.example", dnsmessage.TypeMX, false))
	f.Add(dnsQuery(f, "1.128.13.10.in-addr.arpa", dnsmessage.TypePTR, false))
	f.Add(dnsQuery(f, strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 61), dnsmessage.TypeMX, true))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	s := newService(f, Config{NXDomain: []string{"nx.example"}, MaxDNS: 64})
	f.Fuzz(func(t *testing.T, msg []byte) {
		reply := s.HandleDNS(context.Background(), msg, sandboxDNSClient, resolverAddr)
		if reply == nil {
			return
		}
		if len(reply) > udpDNSLimit {
			t.Fatalf("reply of %d bytes does not fit UDP", len(reply))
		}
		var p dnsmessage.Parser
		h, err := p.Start(reply)
		if err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		if !h.Response || h.ID != binary.BigEndian.Uint16(msg) {
			t.Fatalf("reply header %+v for query id %x", h, msg[:2])
		}
	})
}

func BenchmarkHandleDNS(b *testing.B) {
	s := newService(b, Config{MaxDNS: 1})
	queries := make([][]byte, 256)
	for i := range queries {
		queries[i] = dnsQuery(b, "host"+strings.Repeat("x", i%8)+string(rune('a'+i%26))+".bench.example", dnsmessage.TypeA, i%2 == 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if s.HandleDNS(context.Background(), queries[i%len(queries)], sandboxDNSClient, resolverAddr) == nil {
			b.Fatal("no reply")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
