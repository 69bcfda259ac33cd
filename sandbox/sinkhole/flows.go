package sinkhole

import (
	"bytes"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
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
	n.st.udpFlows.Add(1)
	go func() {
		defer n.end()
		defer ep.Close()
		n.serveUDP(ep, &wq, addrPort(id.RemoteAddress, id.RemotePort), addrPort(id.LocalAddress, id.LocalPort))
	}()
	return true
}

// serveUDP hands the flow's datagrams to the Service and sends its
// replies. It reads from the endpoint directly, each datagram into a
// buffer of its size, so idle flows hold no buffers; it returns when the
// flow has been idle for UDPIdle or the Network closes.
func (n *Network) serveUDP(ep tcpip.Endpoint, wq *waiter.Queue, src, dst netip.AddrPort) {
	we, readable := waiter.NewChannelEntry(waiter.EventIn)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	idle := time.NewTimer(n.cfg.UDPIdle)
	defer idle.Stop()
	for {
		var buf bytes.Buffer
		_, terr := ep.Read(&buf, tcpip.ReadOptions{})
		if _, wait := terr.(*tcpip.ErrWouldBlock); wait {
			select {
			case <-readable:
				continue
			case <-idle.C:
			case <-n.ctx.Done():
			}
			return
		}
		if terr != nil {
			return
		}
		idle.Reset(n.cfg.UDPIdle)
		n.st.udpDatagrams.Add(1)
		p := buf.Bytes()
		var reply []byte
		if !n.safely("HandleUDP", func() { reply = n.cfg.Service.HandleUDP(n.ctx, p, src, dst) }) {
			return
		}
		if reply != nil {
			var r bytes.Reader
			r.Reset(reply[:min(len(reply), maxDatagram)])
			ep.Write(&r, tcpip.WriteOptions{}) // lost like any datagram when it fails
		}
	}
}
