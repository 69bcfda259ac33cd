package service

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Config says how the sinkhole answers. The zero value is usable: every
// unset field takes the default named beside it.
type Config struct {
	// Addr4 and Addr6 are the sinkhole's own addresses: the answer for
	// names once the pool is used up (or when it is disabled).
	Addr4 netip.Addr // default 10.13.0.1
	Addr6 netip.Addr // default fd00:5ca7::1
	// Pool4 and Pool6 hand each new DNS name its own address, in order:
	// the n-th name gets the n-th host address of both.
	Pool4 netip.Prefix // default 10.13.128.0/17
	Pool6 netip.Prefix // default fd00:5ca7:0:1::/64
	// NoPool answers every name with Addr4 and Addr6; a connection's
	// Host is then the last name answered.
	NoPool bool
	// NXDomain lists names answered NXDOMAIN, each with all names below
	// it ("example.org" also covers "a.b.example.org").
	NXDomain []string
	// TTL of every DNS answer.
	TTL time.Duration // default 60s

	// CaptureBytes is how many of a connection's first bytes are kept
	// (and the cap of HTTP body prefixes and shell replies).
	CaptureBytes int // default 4096
	// ELF is what a download of a binary gets; Script what a download of
	// a shell script (or a `curl | sh` fetch) gets; Python the same for
	// .py paths. Each must do nothing harmful when run.
	ELF    []byte // default MinimalELF()
	Script []byte // default "#!/bin/sh\necho sandscan-payload\n"
	Python []byte // default "#!/usr/bin/env python3\nprint(\"sandscan-payload\")\n"
	// ShellCommand is sent to a reverse shell.
	ShellCommand string // default "id; uname -a; exit\n"

	// BannerWait is how long a connection may stay silent before the
	// sinkhole speaks first (a banner, or the shell command).
	BannerWait time.Duration // default 1s
	// IdleTimeout ends a conversation the client stopped feeding.
	IdleTimeout time.Duration // default 2s
	// ConnTimeout bounds a connection's whole life.
	ConnTimeout time.Duration // default 10s
	// MaxConnBytes bounds what is read from one connection.
	MaxConnBytes int64 // default 1 MiB
	// MaxHandlers bounds connections handled at once; beyond it a
	// connection is recorded and closed at once.
	MaxHandlers int // default 128
	// MaxDNS and MaxConns bound the records kept; later ones are counted
	// in Recorder.Dropped.
	MaxDNS   int // default 4096
	MaxConns int // default 2048

	Logger *slog.Logger // default slog.Default()
}

// Defaults of Config.
var (
	DefaultAddr4 = netip.MustParseAddr("10.13.0.1")
	DefaultAddr6 = netip.MustParseAddr("fd00:5ca7::1")
	DefaultPool4 = netip.MustParsePrefix("10.13.128.0/17")
	DefaultPool6 = netip.MustParsePrefix("fd00:5ca7:0:1::/64")
)

const (
	defaultScript       = "#!/bin/sh\necho sandscan-payload\n"
	defaultPython       = "#!/usr/bin/env python3\nprint(\"sandscan-payload\")\n"
	defaultShellCommand = "id; uname -a; exit\n"
)

// withDefaults fills unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if !c.Addr4.IsValid() {
		c.Addr4 = DefaultAddr4
	}
	if !c.Addr4.Is4() {
		return c, fmt.Errorf("sinkhole: Addr4 %v is not IPv4", c.Addr4)
	}
	if !c.Addr6.IsValid() {
		c.Addr6 = DefaultAddr6
	}
	if !c.Addr6.Is6() || c.Addr6.Is4In6() {
		return c, fmt.Errorf("sinkhole: Addr6 %v is not IPv6", c.Addr6)
	}
	if !c.Pool4.IsValid() {
		c.Pool4 = DefaultPool4
	}
	if !c.Pool6.IsValid() {
		c.Pool6 = DefaultPool6
	}
	if !c.Pool4.Addr().Is4() || c.Pool4.Bits() > 30 {
		return c, fmt.Errorf("sinkhole: Pool4 %v must be an IPv4 prefix of /30 or wider", c.Pool4)
	}
	if !c.Pool6.Addr().Is6() || c.Pool6.Addr().Is4In6() || c.Pool6.Bits() > 126 {
		return c, fmt.Errorf("sinkhole: Pool6 %v must be an IPv6 prefix of /126 or wider", c.Pool6)
	}
	c.Pool4, c.Pool6 = c.Pool4.Masked(), c.Pool6.Masked()
	nx := make([]string, 0, len(c.NXDomain))
	for _, n := range c.NXDomain {
		if n = canonicalName(n); n != "" {
			nx = append(nx, n)
		}
	}
	c.NXDomain = nx
	if c.TTL <= 0 {
		c.TTL = time.Minute
	}
	if c.CaptureBytes <= 0 {
		c.CaptureBytes = 4096
	}
	if c.ELF == nil {
		c.ELF = MinimalELF()
	}
	if c.Script == nil {
		c.Script = []byte(defaultScript)
	}
	if c.Python == nil {
		c.Python = []byte(defaultPython)
	}
	if c.ShellCommand == "" {
		c.ShellCommand = defaultShellCommand
	}
	if c.BannerWait <= 0 {
		c.BannerWait = time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Second
	}
	if c.ConnTimeout <= 0 {
		c.ConnTimeout = 10 * time.Second
	}
	if c.MaxConnBytes <= 0 {
		c.MaxConnBytes = 1 << 20
	}
	if c.MaxHandlers <= 0 {
		c.MaxHandlers = 128
	}
	if c.MaxDNS <= 0 {
		c.MaxDNS = 4096
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 2048
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// canonicalName is the form names are compared in: lower case, no
// trailing dot.
func canonicalName(n string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
}
