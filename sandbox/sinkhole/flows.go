package sinkhole

import (
	"bytes"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

// handleTCP completes the handshake of any connection, whatever address
// it was for, and gives it to the Service. The forwarder runs it on a
// goroutine of its own.
func (n *Network) handleTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	if !n.begin() {
		n.st.tcpRefused.Add(1)
		r.Complete(true)
		return
	}
	defer n.end()
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		// The peer gave up or the handshake failed: nothing to serve.
		n.log.Debug("sinkhole: tcp handshake", "dst", addrPort(id.LocalAddress, id.LocalPort), "err", terr.String())
		r.Complete(true)
		return
	}
	r.Complete(false)
	c := gonet.NewTCPConn(&wq, ep)
	if !n.track(c) {
		return
	}
	defer n.untrack(c)
	n.st.tcpConns.Add(1)
	orig := addrPort(id.LocalAddress, id.LocalPort)
	n.safely("HandleTCP", func() { n.cfg.Service.HandleTCP(n.ctx, c, orig) })
}

// handleUDP opens a flow for the first datagram from one source to one
// destination; later datagrams of the flow go to its endpoint until it
// has been quiet for UDPIdle. It runs on the stack's receive path, so the
// flow is served on a goroutine of its own.
func (n *Network) handleUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	if !n.begin() {
		n.st.udpDropped.Add(1)
		return true
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		// Broadcast and multicast destinations cannot be bound.
		n.log.Debug("sinkhole: udp flow", "dst", addrPort(id.LocalAddress, id.LocalPort), "err", terr.String())
		n.st.udpDropped.Add(1)
		n.end()
		return true
	}
	c := gonet.NewUDPConn(&wq, ep)
	if !n.track(c) {
		n.end()
		return true
	}
	n.st.udpFlows.Add(1)
	src := addrPort(id.RemoteAddress, id.RemotePort)
	dst := addrPort(id.LocalAddress, id.LocalPort)
	go func() {
		defer n.end()
		defer n.untrack(c)
		buf := make([]byte, maxDatagram+1)
		for {
			c.SetReadDeadline(time.Now().Add(n.cfg.UDPIdle))
			m, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			n.st.udpDatagrams.Add(1)
			p := bytes.Clone(buf[:m])
			var reply []byte
			if !n.safely("HandleUDP", func() { reply = n.cfg.Service.HandleUDP(n.ctx, p, src, dst) }) {
				return
			}
			if reply != nil {
				c.Write(reply[:min(len(reply), maxDatagram)])
			}
		}
	}()
	return true
}
