package service

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// Mode is trace.Network.Mode for a run behind the sinkhole.
const Mode = "sinkhole"

// Recorder accumulates what the sinkhole saw, and which name each pool
// address answered. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	now      func() time.Time
	dns      []trace.DNSQuery
	conns    []trace.Conn
	flows    map[flowKey]int // UDP 5-tuple -> index in conns
	hosts    *hostPool
	maxDNS   int
	maxConns int
	capture  int
	dropped  int
}

// flowKey names a UDP flow.
type flowKey struct{ src, dst netip.AddrPort }

func newRecorder(c Config) *Recorder {
	return &Recorder{
		now:      time.Now,
		flows:    map[flowKey]int{},
		hosts:    newHostPool(c),
		maxDNS:   c.MaxDNS,
		maxConns: c.MaxConns,
		capture:  c.CaptureBytes,
	}
}

// Network returns a copy of everything recorded so far, DNS questions and
// connections each sorted by time (ties keep the order they came in).
// Connections still open appear with what is known of them so far.
func (r *Recorder) Network() *trace.Network {
	r.mu.Lock()
	n := &trace.Network{Mode: Mode, DNS: make([]trace.DNSQuery, len(r.dns)), Conns: make([]trace.Conn, len(r.conns))}
	for i, q := range r.dns {
		q.Answers = slices.Clone(q.Answers)
		n.DNS[i] = q
	}
	for i, c := range r.conns {
		n.Conns[i] = cloneConn(c)
	}
	r.mu.Unlock()
	slices.SortStableFunc(n.DNS, func(a, b trace.DNSQuery) int { return a.Time.Compare(b.Time) })
	slices.SortStableFunc(n.Conns, func(a, b trace.Conn) int { return a.Time.Compare(b.Time) })
	if len(n.DNS) == 0 {
		n.DNS = nil
	}
	if len(n.Conns) == 0 {
		n.Conns = nil
	}
	return n
}

// LookupHost is the DNS name whose answer was ip (in any textual form
// netip parses), or "" for an address no name resolved to.
func (r *Recorder) LookupHost(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return r.lookup(a)
}

func (r *Recorder) lookup(a netip.Addr) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hosts.lookup(a)
}

// Dropped counts the DNS questions and connections not recorded because
// their limits were reached.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// resolve hands out name's addresses.
func (r *Recorder) resolve(name string) (a4, a6 netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hosts.assign(name)
}

func (r *Recorder) addDNS(q trace.DNSQuery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.dns) >= r.maxDNS {
		r.dropped++
		return
	}
	if q.Time.IsZero() {
		q.Time = r.now()
	}
	r.dns = append(r.dns, q)
}

// addConn records the start of a connection and returns its index for
// setConn, or -1 once the limit is reached.
func (r *Recorder) addConn(c trace.Conn) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) >= r.maxConns {
		r.dropped++
		return -1
	}
	r.conns = append(r.conns, cloneConn(c))
	return len(r.conns) - 1
}

// setConn replaces what addConn recorded; the Recorder keeps its own copy.
func (r *Recorder) setConn(i int, c trace.Conn) {
	if i < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns[i] = cloneConn(c)
}

// addDatagram merges a UDP datagram into its flow's record.
func (r *Recorder) addDatagram(src, dst netip.AddrPort, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := flowKey{src, dst}
	i, ok := r.flows[k]
	if !ok {
		if len(r.conns) >= r.maxConns {
			r.dropped++
			return
		}
		r.conns = append(r.conns, trace.Conn{
			Time:    r.now(),
			Proto:   "udp",
			DstIP:   dst.Addr().Unmap().String(),
			DstPort: dst.Port(),
			SrcPort: src.Port(),
			Host:    r.hosts.lookup(dst.Addr()),
		})
		i = len(r.conns) - 1
		r.flows[k] = i
	}
	c := &r.conns[i]
	c.BytesIn += int64(len(payload))
	if room := r.capture - len(c.FirstData); room > 0 {
		c.FirstData = append(c.FirstData, payload[:min(room, len(payload))]...)
	}
}

// cloneConn copies c deeply enough that the copy shares no memory a
// handler may still change.
func cloneConn(c trace.Conn) trace.Conn {
	c.FirstData = slices.Clone(c.FirstData)
	if c.HTTP != nil {
		h := *c.HTTP
		h.BodyPrefix = slices.Clone(h.BodyPrefix)
		c.HTTP = &h
	}
	if c.TLS != nil {
		t := *c.TLS
		t.ALPN = slices.Clone(t.ALPN)
		c.TLS = &t
	}
	if c.Stratum != nil {
		s := *c.Stratum
		s.Methods = slices.Clone(s.Methods)
		c.Stratum = &s
	}
	if c.Shell != nil {
		s := *c.Shell
		c.Shell = &s
	}
	return c
}
