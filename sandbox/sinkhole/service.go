package sinkhole

import (
	"context"
	"net"
	"net/netip"
)

// Service answers what a sandbox sends. The sinkhole calls it for every
// TCP connection and every UDP datagram, whatever their destination; the
// protocol engine in sandbox/sinkhole/service satisfies it.
type Service interface {
	// HandleTCP serves one accepted connection. orig is the address and
	// port the sandbox dialled (c.LocalAddr says the same). The sinkhole
	// closes c when HandleTCP returns; ctx is cancelled when the Network
	// closes.
	HandleTCP(ctx context.Context, c net.Conn, orig netip.AddrPort)
	// HandleUDP takes one datagram that src sent to dst and returns the
	// datagram to send back from dst, or nil for none. DNS arrives here
	// (port 53, any address). payload is the Service's to keep.
	HandleUDP(ctx context.Context, payload []byte, src, dst netip.AddrPort) (reply []byte)
}
