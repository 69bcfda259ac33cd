package service

import (
	"encoding/binary"
	"net/netip"
)

// maxPoolNames bounds the names remembered, whatever the pools' sizes.
const maxPoolNames = 1 << 15

// hostPool gives each distinct DNS name an index, in the order they are
// first asked, and index i the i-th host address of both pools: a
// connection's destination then names what was resolved. It is not safe
// for concurrent use; the Recorder guards it.
type hostPool struct {
	v4, v6     netip.Prefix
	own4, own6 netip.Addr
	disabled   bool
	size       uint32            // usable indexes: 1..size
	byName     map[string]uint32 // canonical name -> index
	names      []string          // names[i-1]: name of index i, as first asked
	last       string            // the last name answered, when disabled
}

func newHostPool(c Config) *hostPool {
	p := &hostPool{v4: c.Pool4, v6: c.Pool6, own4: c.Addr4, own6: c.Addr6, disabled: c.NoPool, byName: map[string]uint32{}}
	// Leave out the pool's first and last address: some clients balk at
	// an address that looks like a network or broadcast address.
	size := uint64(1)<<(32-c.Pool4.Bits()) - 2
	if b := 128 - c.Pool6.Bits(); b < 63 && uint64(1)<<b-2 < size {
		size = uint64(1)<<b - 2
	}
	p.size = uint32(min(size, maxPoolNames))
	return p
}

// assign returns the addresses answering name (as asked, no trailing dot).
func (p *hostPool) assign(name string) (a4, a6 netip.Addr) {
	if p.disabled {
		p.last = name
		return p.own4, p.own6
	}
	key := canonicalName(name)
	i, ok := p.byName[key]
	if !ok {
		if uint32(len(p.names)) >= p.size {
			return p.own4, p.own6
		}
		p.names = append(p.names, name)
		i = uint32(len(p.names))
		p.byName[key] = i
	}
	return p.addr4(i), p.addr6(i)
}

func (p *hostPool) addr4(i uint32) netip.Addr {
	b := p.v4.Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+i)
	return netip.AddrFrom4(b)
}

func (p *hostPool) addr6(i uint32) netip.Addr {
	b := p.v6.Addr().As16()
	binary.BigEndian.PutUint64(b[8:], binary.BigEndian.Uint64(b[8:])+uint64(i))
	return netip.AddrFrom16(b)
}

// lookup is the name whose answer was a, or "".
func (p *hostPool) lookup(a netip.Addr) string {
	a = a.Unmap()
	if p.disabled {
		if a == p.own4 || a == p.own6 {
			return p.last
		}
		return ""
	}
	var i uint64
	switch {
	case a.Is4() && p.v4.Contains(a):
		x, base := a.As4(), p.v4.Addr().As4()
		i = uint64(binary.BigEndian.Uint32(x[:]) - binary.BigEndian.Uint32(base[:]))
	case a.Is6() && p.v6.Contains(a):
		x, base := a.As16(), p.v6.Addr().As16()
		if [8]byte(x[:8]) != [8]byte(base[:8]) {
			return ""
		}
		i = binary.BigEndian.Uint64(x[8:]) - binary.BigEndian.Uint64(base[8:])
	default:
		return ""
	}
	if i == 0 || i > uint64(len(p.names)) {
		return ""
	}
	return p.names[i-1]
}
