package service

import (
	"context"
	"net"
	"net/netip"
)

// The sinkhole's plumbing (package sinkhole) takes a Service of this shape;
// it is spelled out here because that package may come to import this one.
var _ interface {
	HandleTCP(ctx context.Context, c net.Conn, orig netip.AddrPort)
	HandleUDP(ctx context.Context, payload []byte, src, dst netip.AddrPort) (reply []byte)
} = (*Service)(nil)
