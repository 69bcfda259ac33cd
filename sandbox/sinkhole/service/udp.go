package service

import (
	"context"
	"net/netip"
)

// HandleUDP takes one datagram the sandbox sent from src to dst. A
// datagram to port 53 is a DNS question and the reply (nil for none) is
// what to send back from dst to src; any other datagram is recorded in its
// flow (one record per 5-tuple) and gets no reply.
func (s *Service) HandleUDP(ctx context.Context, payload []byte, src, dst netip.AddrPort) (reply []byte) {
	if dst.Port() == 53 {
		return s.HandleDNS(ctx, payload, src, dst)
	}
	s.rec.addDatagram(src, dst, payload)
	return nil
}
