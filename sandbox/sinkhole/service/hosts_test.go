package service

import (
	"net/netip"
	"testing"
)

func TestHostPool(t *testing.T) {
	cfg, err := Config{Pool4: netip.MustParsePrefix("10.1.0.0/29"), Pool6: netip.MustParsePrefix("fd00:1::/48")}.withDefaults()
	must(t, err)
	p := newHostPool(cfg)
	if p.size != 6 {
		t.Fatalf("size %d, want 6 (a /29 without its first and last address)", p.size)
	}
	names := []string{"a.test", "B.test", "c.test", "d.test", "e.test", "f.test"}
	for i, n := range names {
		a4, a6 := p.assign(n)
		if a4 != p.addr4(uint32(i+1)) || a6 != p.addr6(uint32(i+1)) {
			t.Errorf("%s got %v %v", n, a4, a6)
		}
	}
	if a4, a6 := p.assign("b.TEST."[:6]); a4.String() != "10.1.0.2" || a6.String() != "fd00:1::2" {
		t.Errorf("a name asked again in another case got %v %v", a4, a6)
	}
	if a4, a6 := p.assign("g.test"); a4 != cfg.Addr4 || a6 != cfg.Addr6 {
		t.Errorf("past the pool: %v %v, want the sinkhole's own", a4, a6)
	}
	tests := map[string]string{
		"10.1.0.1":            "a.test",
		"10.1.0.2":            "B.test",
		"10.1.0.6":            "f.test",
		"10.1.0.0":            "",
		"10.1.0.7":            "",
		"10.2.0.1":            "",
		"fd00:1::6":           "f.test",
		"fd00:1::7":           "",
		"fd00:1:0:1::1":       "", // in the /48 but outside the /64 indexes live in
		"::ffff:10.1.0.3":     "c.test",
		"fd00:1::ffff:ffff:1": "",
	}
	for ip, want := range tests {
		if got := p.lookup(netip.MustParseAddr(ip)); got != want {
			t.Errorf("lookup(%s) = %q, want %q", ip, got, want)
		}
	}
}
