// Package sinkhole gives each sandbox a network that leads nowhere but to
// Sandscan: a network namespace of its own (the one runsc's
// --network=sandbox uses), joined by a veth pair to a second, private
// sinkhole namespace where the veth's other end has no addresses at all.
// Every frame the sandbox sends is read from an AF_PACKET socket by a
// userspace gVisor netstack that pretends to be every host on the
// internet: it accepts TCP to any address and port, takes UDP to any
// address and answers pings to any address, and hands each connection or
// datagram, with its original destination, to a Service. Nothing is forwarded, routed or NATed
// anywhere, so no packet of a sandbox can reach the host, its loopback,
// the outside world or another sandbox; each run has its own stack. The
// frames on the veth are kept as a pcap file.
package sinkhole
