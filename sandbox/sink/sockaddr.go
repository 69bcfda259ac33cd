package sink

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// Address families as Linux numbers them.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
)

// maxSockAddr bounds what DecodeSockAddr reads: a sockaddr_storage is 128
// bytes, and gVisor refuses longer addresses.
const maxSockAddr = 128

// DecodeSockAddr decodes a raw struct sockaddr as a syscall passed it: the
// family in host (little-endian) order, ports in network order. It returns
// nil when b is too short to hold a family. Addresses too short for their
// family, and families other than unix, inet and inet6, come back as
// FamilyOther with the family number in Raw.
func DecodeSockAddr(b []byte) *trace.SockAddr {
	if len(b) < 2 {
		return nil
	}
	if len(b) > maxSockAddr {
		b = b[:maxSockAddr]
	}
	fam := binary.LittleEndian.Uint16(b)
	switch {
	case fam == afInet && len(b) >= 8:
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		return &trace.SockAddr{Family: trace.FamilyInet, IP: ip.String(), Port: binary.BigEndian.Uint16(b[2:4])}
	case fam == afInet6 && len(b) >= 24:
		ip := netip.AddrFrom16([16]byte(b[8:24]))
		return &trace.SockAddr{Family: trace.FamilyInet6, IP: ip.String(), Port: binary.BigEndian.Uint16(b[2:4])}
	case fam == afUnix:
		return &trace.SockAddr{Family: trace.FamilyUnix, Path: unixPath(b[2:])}
	}
	return &trace.SockAddr{Family: trace.FamilyOther, Raw: fam}
}

// unixPath reads sun_path: a NUL-terminated path, or an abstract name
// (leading NUL) shown as "@name". Callers often pass the whole structure's
// size, so trailing NULs are padding, not part of the name.
func unixPath(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if p[0] == 0 {
		name := strings.TrimRight(string(p[1:]), "\x00")
		return "@" + strings.ToValidUTF8(name, "\uFFFD")
	}
	if i := strings.IndexByte(string(p), 0); i >= 0 {
		p = p[:i]
	}
	return strings.ToValidUTF8(string(p), "\uFFFD")
}
