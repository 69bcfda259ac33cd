package sinkhole

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"
)

// ErrConfig reports a Config that New refuses.
var ErrConfig = errors.New("sinkhole: bad config")

// Defaults for a zero Config.
const (
	DefaultNetNSDir  = "/var/run/netns"
	DefaultMTU       = 1500
	DefaultMaxFlows  = 512
	DefaultUDPIdle   = 10 * time.Second
	DefaultPCAPLimit = 64 << 20
)

var (
	// DefaultAddress is the sandbox's address, DefaultGateway the
	// sinkhole's: every route of the sandbox leads to it.
	DefaultAddress = netip.MustParsePrefix("10.13.0.2/24")
	DefaultGateway = netip.MustParseAddr("10.13.0.1")
	// DefaultAddress6 and DefaultGateway6 are the same in a ULA prefix,
	// so that software which tries IPv6 first reaches the sinkhole too.
	DefaultAddress6 = netip.MustParsePrefix("fd00:5ca7::2/64")
	DefaultGateway6 = netip.MustParseAddr("fd00:5ca7::1")
)

// Interface names; each lives in a namespace of its own run, so they
// never collide between runs.
const (
	sandboxIf = "eth0"
	sinkIf    = "sink0"
)

// maxRunID bounds a run id: it becomes part of two file names.
const maxRunID = 200

// Config describes one run's network. RunID and Service are required.
type Config struct {
	// RunID names the run's namespaces (sandscan-net-ID, sandscan-sink-ID)
	// so that Reap can find them after a crash. Letters, digits, '_',
	// '-' and '.' (not first).
	RunID string
	// Service gets every connection and datagram.
	Service Service
	// PCAPPath, when set, receives every frame on the veth as a pcap
	// (Ethernet link type). Frames beyond PCAPLimit bytes of file are
	// counted, not written.
	PCAPPath  string
	PCAPLimit int64

	// Address and Gateway: the sandbox's address and its default route.
	Address netip.Prefix
	Gateway netip.Addr
	// Address6 and Gateway6 likewise for IPv6, unless NoIPv6.
	Address6 netip.Prefix
	Gateway6 netip.Addr
	NoIPv6   bool
	MTU      int

	// NetNSDir holds the namespaces' bind mounts (DefaultNetNSDir, where
	// `ip netns` finds them).
	NetNSDir string
	// MaxFlows bounds TCP connections and UDP flows open at once; more
	// are refused (TCP reset) or dropped (UDP) and counted. UDPIdle ends
	// a UDP flow that has been quiet that long.
	MaxFlows int
	UDPIdle  time.Duration

	Logger *slog.Logger
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if err := validRunID(c.RunID); err != nil {
		return c, err
	}
	if c.Service == nil {
		return c, fmt.Errorf("%w: no Service", ErrConfig)
	}
	if !c.Address.IsValid() {
		c.Address = DefaultAddress
	}
	if !c.Gateway.IsValid() {
		c.Gateway = DefaultGateway
	}
	if !c.Address6.IsValid() {
		c.Address6 = DefaultAddress6
	}
	if !c.Gateway6.IsValid() {
		c.Gateway6 = DefaultGateway6
	}
	if err := checkPair(c.Address, c.Gateway, true); err != nil {
		return c, err
	}
	if !c.NoIPv6 {
		if err := checkPair(c.Address6, c.Gateway6, false); err != nil {
			return c, err
		}
	}
	if c.MTU == 0 {
		c.MTU = DefaultMTU
	}
	if c.MTU < 1280 || c.MTU > 9000 {
		return c, fmt.Errorf("%w: MTU %d outside 1280..9000", ErrConfig, c.MTU)
	}
	if c.NetNSDir == "" {
		c.NetNSDir = DefaultNetNSDir
	}
	if c.MaxFlows == 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.UDPIdle == 0 {
		c.UDPIdle = DefaultUDPIdle
	}
	if c.PCAPLimit == 0 {
		c.PCAPLimit = DefaultPCAPLimit
	}
	if c.MaxFlows < 0 || c.UDPIdle < 0 || c.PCAPLimit < 0 {
		return c, fmt.Errorf("%w: negative limit", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// checkPair wants the gateway inside the sandbox's prefix and distinct
// from its address; both of one family.
func checkPair(addr netip.Prefix, gw netip.Addr, v4 bool) error {
	a := addr.Addr()
	switch {
	case a.Is4() != v4 || gw.Is4() != v4 || a.Is4In6() || gw.Is4In6():
		return fmt.Errorf("%w: %s via %s: wrong address family", ErrConfig, addr, gw)
	case !addr.Masked().Contains(gw) || a == gw:
		return fmt.Errorf("%w: gateway %s must be another address in %s", ErrConfig, gw, addr)
	case a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || gw.IsLoopback() || gw.IsMulticast() || gw.IsUnspecified():
		return fmt.Errorf("%w: %s via %s: not a unicast address", ErrConfig, addr, gw)
	}
	return nil
}

// validRunID accepts what becomes a safe file name.
func validRunID(id string) error {
	if id == "" || len(id) > maxRunID || id[0] == '.' {
		return fmt.Errorf("%w: run id %q", ErrConfig, id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return fmt.Errorf("%w: run id %q: character %q", ErrConfig, id, r)
		}
	}
	return nil
}

// Namespace file names of a run.
const (
	sandboxNSPrefix = "sandscan-net-"
	sinkNSPrefix    = "sandscan-sink-"
)

func sandboxNSPath(dir, id string) string { return filepath.Join(dir, sandboxNSPrefix+id) }
func sinkNSPath(dir, id string) string    { return filepath.Join(dir, sinkNSPrefix+id) }
