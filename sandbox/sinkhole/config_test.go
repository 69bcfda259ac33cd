package sinkhole

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{RunID: "ss-1", Service: newRecorder()}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != DefaultAddress || c.Gateway != DefaultGateway || c.Address6 != DefaultAddress6 ||
		c.Gateway6 != DefaultGateway6 || c.MTU != DefaultMTU || c.NetNSDir != DefaultNetNSDir ||
		c.MaxFlows != DefaultMaxFlows || c.UDPIdle != DefaultUDPIdle || c.PCAPLimit != DefaultPCAPLimit || c.Logger == nil {
		t.Errorf("defaults not filled: %+v", c)
	}
}

func TestConfigRejects(t *testing.T) {
	ok := Config{RunID: "run-1", Service: newRecorder()}
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	tests := []struct {
		name   string
		mod    func(*Config)
		reject bool
	}{
		{"valid", func(*Config) {}, false},
		{"empty id", func(c *Config) { c.RunID = "" }, true},
		{"slash in id", func(c *Config) { c.RunID = "a/b" }, true},
		{"dot-dot id", func(c *Config) { c.RunID = ".." }, true},
		{"space in id", func(c *Config) { c.RunID = "a b" }, true},
		{"long id", func(c *Config) { c.RunID = strings.Repeat("x", maxRunID+1) }, true},
		{"longest id", func(c *Config) { c.RunID = strings.Repeat("x", maxRunID) }, false},
		{"dotted id", func(c *Config) { c.RunID = "run.1_A-b" }, false},
		{"no service", func(c *Config) { c.Service = nil }, true},
		{"own subnet", func(c *Config) { c.Address, c.Gateway = p("172.31.9.10/24"), a("172.31.9.1") }, false},
		{"gateway outside", func(c *Config) { c.Gateway = a("10.14.0.1") }, true},
		{"gateway is address", func(c *Config) { c.Gateway = a("10.13.0.2") }, true},
		{"v6 as v4", func(c *Config) { c.Address = p("fd00::2/64") }, true},
		{"mapped v4", func(c *Config) { c.Gateway = a("::ffff:10.13.0.1") }, true},
		{"loopback", func(c *Config) { c.Address, c.Gateway = p("127.0.0.2/8"), a("127.0.0.1") }, true},
		{"v6 gateway outside", func(c *Config) { c.Gateway6 = a("fd01::1") }, true},
		{"v6 ignored when off", func(c *Config) { c.Gateway6, c.NoIPv6 = a("fd01::1"), true }, false},
		{"tiny MTU", func(c *Config) { c.MTU = 576 }, true},
		{"jumbo MTU", func(c *Config) { c.MTU = 9000 }, false},
		{"negative flows", func(c *Config) { c.MaxFlows = -1 }, true},
		{"negative pcap limit", func(c *Config) { c.PCAPLimit = -1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := c.withDefaults()
			if (err != nil) != tt.reject {
				t.Fatalf("err = %v, want reject %v", err, tt.reject)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("%v is not ErrConfig", err)
			}
		})
	}
}

// FuzzRunID: an accepted run id never names a file outside the netns
// directory, nor one of the other prefix.
func FuzzRunID(f *testing.F) {
	for _, s := range []string{"ss-0a1b2c", "..", "a/../b", "x.sink", "-", "\x00", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if validRunID(id) != nil {
			return
		}
		dir := "/run/netns"
		for _, p := range []string{sandboxNSPath(dir, id), sinkNSPath(dir, id)} {
			if filepath.Dir(p) != dir || filepath.Clean(p) != p {
				t.Fatalf("id %q names %s", id, p)
			}
		}
		if strings.HasPrefix(sandboxNSPrefix+id, sinkNSPrefix) || strings.HasPrefix(sinkNSPrefix+id, sandboxNSPrefix) {
			t.Fatalf("id %q crosses prefixes", id)
		}
	})
}

func TestStackAddrs(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	tests := []struct {
		name                 string
		cfg                  Config
		gateways, neighbours int
		notNeighbour         []string
	}{
		{"default /24", Config{Address: DefaultAddress, Gateway: DefaultGateway, Address6: DefaultAddress6, Gateway6: DefaultGateway6},
			2, 252, []string{"10.13.0.0", "10.13.0.1", "10.13.0.2", "10.13.0.255"}},
		{"no v6 /29", Config{Address: p("192.168.7.3/29"), Gateway: a("192.168.7.6"), NoIPv6: true},
			1, 4, []string{"192.168.7.0", "192.168.7.3", "192.168.7.6", "192.168.7.7"}},
		{"/30", Config{Address: p("192.168.7.1/30"), Gateway: a("192.168.7.2"), NoIPv6: true}, 1, 0, nil},
		{"/22 fits", Config{Address: p("10.0.0.2/22"), Gateway: a("10.0.0.1"), NoIPv6: true}, 1, 1020, []string{"10.0.3.255"}},
		{"/21 too big", Config{Address: p("10.0.0.2/21"), Gateway: a("10.0.0.1"), NoIPv6: true}, 1, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, nb := stackAddrs(tt.cfg)
			if len(gw) != tt.gateways || len(nb) != tt.neighbours {
				t.Fatalf("%d gateways, %d neighbours; want %d, %d", len(gw), len(nb), tt.gateways, tt.neighbours)
			}
			if gw[0].Addr() != tt.cfg.Gateway {
				t.Errorf("first gateway %s", gw[0])
			}
			for _, n := range nb {
				if !tt.cfg.Address.Masked().Contains(n.Addr()) || n.Bits() != tt.cfg.Address.Bits() {
					t.Errorf("neighbour %s outside %s", n, tt.cfg.Address)
				}
				for _, bad := range tt.notNeighbour {
					if n.Addr() == a(bad) {
						t.Errorf("%s is a neighbour", bad)
					}
				}
			}
		})
	}
}
