package service

import (
	"net/netip"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{NXDomain: []string{" Evil.Example. ", "", "."}}.withDefaults()
	must(t, err)
	if c.Addr4 != DefaultAddr4 || c.Addr6 != DefaultAddr6 || c.Pool4 != DefaultPool4 || c.Pool6 != DefaultPool6 {
		t.Errorf("addresses %v %v %v %v", c.Addr4, c.Addr6, c.Pool4, c.Pool6)
	}
	if len(c.NXDomain) != 1 || c.NXDomain[0] != "evil.example" {
		t.Errorf("NXDomain %q", c.NXDomain)
	}
	if c.CaptureBytes != 4096 || c.ShellCommand != defaultShellCommand || c.BannerWait != time.Second || c.ConnTimeout != 10*time.Second ||
		c.MaxConnBytes != 1<<20 || c.MaxHandlers != 128 || len(c.ELF) != 129 || string(c.Script) != defaultScript || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
	// Pools are kept as their network address.
	c, err = Config{Pool4: netip.MustParsePrefix("10.5.5.5/16")}.withDefaults()
	if err != nil || c.Pool4.String() != "10.5.0.0/16" {
		t.Errorf("Pool4 %v, %v", c.Pool4, err)
	}
}

func TestConfigInvalid(t *testing.T) {
	for name, c := range map[string]Config{
		"v6 Addr4":     {Addr4: netip.MustParseAddr("fd00::1")},
		"v4 Addr6":     {Addr6: netip.MustParseAddr("10.0.0.1")},
		"mapped Addr6": {Addr6: netip.MustParseAddr("::ffff:10.0.0.1")},
		"narrow Pool4": {Pool4: netip.MustParsePrefix("10.0.0.0/31")},
		"v6 Pool4":     {Pool4: netip.MustParsePrefix("fd00::/64")},
		"v4 Pool6":     {Pool6: netip.MustParsePrefix("10.0.0.0/8")},
		"narrow Pool6": {Pool6: netip.MustParsePrefix("fd00::/127")},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
