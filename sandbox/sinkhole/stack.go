package sinkhole

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

const nicID tcpip.NICID = 1

// openPacketSocket opens an AF_PACKET socket bound to the interface with
// index ifindex. Call it inside the interface's namespace.
func openPacketSocket(ifindex int, ignoreOutgoing bool) (int, error) {
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	if ignoreOutgoing {
		// The stack must not read back the frames it writes itself.
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("packet socket: ignore outgoing: %w", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("packet socket: bind: %w", err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// forwarders are the stack's handlers for new TCP connections and UDP
// flows, whatever their destination.
type forwarders struct {
	tcp func(*tcp.ForwarderRequest)
	udp func(*udp.ForwarderRequest) bool
}

// newStack builds the sinkhole's userspace stack on the packet socket fd:
// the gateway addresses (so it answers ARP and neighbour solicitations),
// promiscuous and spoofing (so it takes packets to any address and
// answers from it), and a default route out of its only NIC. Echo
// requests to any address are answered (see echoReplier).
func newStack(fd int, mac net.HardwareAddr, cfg Config, fw forwarders) (*stack.Stack, error) {
	ep, err := fdbased.New(&fdbased.Options{
		FDs:                []int{fd},
		MTU:                uint32(cfg.MTU),
		EthernetHeader:     true,
		Address:            tcpip.LinkAddress(mac),
		PacketDispatchMode: fdbased.RecvMMsg,
	})
	if err != nil {
		return nil, fmt.Errorf("link endpoint: %w", err)
	}
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			// Zero options: no DAD, no router solicitations, no SLAAC.
			ipv6.NewProtocolWithOptions(ipv6.Options{}),
			arp.NewProtocol,
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	fail := func(what string, e tcpip.Error) (*stack.Stack, error) {
		s.Destroy()
		return nil, fmt.Errorf("stack: %s: %s", what, e)
	}
	// Handlers first and the NIC disabled until set up: the link's
	// readers start with the NIC, and no frame may meet a half-made stack.
	if err := setTCPOptions(s); err != nil {
		return fail("tcp options", err)
	}
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tcp.NewForwarder(s, 0, cfg.MaxFlows, fw.tcp).HandlePacket)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, udp.NewForwarder(s, fw.udp).HandlePacket)
	s.SetTransportProtocolHandler(icmp.ProtocolNumber4, echoReplier(fd, mac))
	if e := s.CreateNICWithOptions(nicID, ep, stack.NICOptions{Disabled: true}); e != nil {
		return fail("create NIC", e)
	}
	gateways, neighbours := stackAddrs(cfg)
	for i, a := range append(gateways, neighbours...) {
		pa := tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFromSlice(a.Addr().AsSlice()), PrefixLen: a.Bits()},
		}
		if a.Addr().Is6() {
			pa.Protocol = ipv6.ProtocolNumber
		}
		var props stack.AddressProperties
		if i >= len(gateways) { // the stack speaks from the gateways
			props.PEB = stack.NeverPrimaryEndpoint
		}
		if e := s.AddProtocolAddress(nicID, pa, props); e != nil {
			return fail("address "+a.String(), e)
		}
	}
	if e := s.SetPromiscuousMode(nicID, true); e != nil {
		return fail("promiscuous", e)
	}
	if e := s.SetSpoofing(nicID, true); e != nil {
		return fail("spoofing", e)
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, NIC: nicID},
	})
	if e := s.EnableNIC(nicID); e != nil {
		return fail("enable NIC", e)
	}
	return s, nil
}

// tcpBufMax bounds each TCP connection's send and receive buffers: gVisor's
// defaults (1 MiB, auto-tuned to 4 MiB) times MaxFlows connections that
// a sandbox keeps full would be gigabytes in the worker.
const tcpBufMax = 256 << 10

func setTCPOptions(s *stack.Stack) tcpip.Error {
	sack := tcpip.TCPSACKEnabled(true)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4 << 10, Default: 64 << 10, Max: tcpBufMax}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: 64 << 10, Max: tcpBufMax}
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &rcv, &snd} {
		if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); e != nil {
			return e
		}
	}
	return nil
}

// maxNeighbours bounds how many addresses of its own subnet the stack
// takes on besides the gateway.
const maxNeighbours = 1024

// stackAddrs lists the addresses the stack holds: the gateways, and every
// other host address of the sandbox's IPv4 subnet (if it has at most
// maxNeighbours). The sandbox reaches those directly, not through the
// gateway, so the stack must answer ARP for them; promiscuous mode
// answers no ARP. A scan of the local subnet finds them all.
func stackAddrs(cfg Config) (gateways, neighbours []netip.Prefix) {
	bits := cfg.Address.Bits()
	gateways = []netip.Prefix{netip.PrefixFrom(cfg.Gateway, bits)}
	if !cfg.NoIPv6 {
		gateways = append(gateways, netip.PrefixFrom(cfg.Gateway6, cfg.Address6.Bits()))
	}
	if 1<<(32-bits) > maxNeighbours+2 {
		return gateways, nil
	}
	sub := cfg.Address.Masked()
	first := sub.Addr()
	for a := first.Next(); sub.Contains(a); a = a.Next() {
		// Neither the network nor the broadcast address (the last one);
		// a /31 or /32 has no room for neighbours anyway.
		if !sub.Contains(a.Next()) {
			break
		}
		if a != cfg.Address.Addr() && a != cfg.Gateway {
			neighbours = append(neighbours, netip.PrefixFrom(a, bits))
		}
	}
	return gateways, neighbours
}

// addrPort converts a gVisor address and port.
func addrPort(a tcpip.Address, port uint16) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return netip.AddrPortFrom(ip.Unmap(), port)
}

// echoReplier answers ICMPv4 echo requests to addresses the stack only
// holds in promiscuous mode: gVisor's IPv4 layer answers its own
// addresses but stays silent for those (its IPv6 layer answers all), and
// a ping to 8.8.8.8 is how much software checks for the internet. The
// reply frame goes straight out of the packet socket.
func echoReplier(fd int, mac net.HardwareAddr) func(stack.TransportEndpointID, *stack.PacketBuffer) bool {
	return func(id stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
		if !pkt.NetworkPacketInfo.LocalAddressTemporary {
			return false // the stack answers its own addresses
		}
		eth := pkt.LinkHeader().Slice()
		msg := stack.PayloadSince(pkt.TransportHeader())
		defer msg.Release()
		icmpMsg := msg.AsSlice()
		if len(eth) < header.EthernetMinimumSize || len(icmpMsg) < header.ICMPv4MinimumSize ||
			header.ICMPv4(icmpMsg).Type() != header.ICMPv4Echo || len(icmpMsg) > 65535-header.IPv4MinimumSize {
			return true
		}
		frame := make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+len(icmpMsg))
		header.Ethernet(frame).Encode(&header.EthernetFields{
			SrcAddr: tcpip.LinkAddress(mac),
			DstAddr: header.Ethernet(eth).SourceAddress(),
			Type:    header.IPv4ProtocolNumber,
		})
		ip := header.IPv4(frame[header.EthernetMinimumSize:])
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(header.IPv4MinimumSize + len(icmpMsg)),
			TTL:         64,
			Protocol:    uint8(header.ICMPv4ProtocolNumber),
			SrcAddr:     id.LocalAddress,
			DstAddr:     id.RemoteAddress,
		})
		ip.SetChecksum(^ip.CalculateChecksum())
		reply := header.ICMPv4(ip.Payload())
		copy(reply, icmpMsg)
		reply.SetType(header.ICMPv4EchoReply)
		reply.SetCode(0)
		reply.SetChecksum(0)
		reply.SetChecksum(^checksum.Checksum(reply, 0))
		unix.Write(fd, frame) // lost like any frame on a full queue
		return true
	}
}
