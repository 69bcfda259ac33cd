package service

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sandscan/sandscan/trace"
)

const (
	// udpDNSLimit is the classic UDP reply size, used when the query had no
	// EDNS0 record; ednsSize is what the sinkhole advertises with one.
	udpDNSLimit = 512
	ednsSize    = 1232
	// maxDNSMessage is the largest message DNS over TCP can carry.
	maxDNSMessage = 65535
)

var (
	localhost4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	localhost6 = netip.IPv6Loopback()
)

// HandleDNS answers one DNS message (without TCP's length prefix) the
// sandbox sent from src to dst, and records its question. A and AAAA get the
// name's own pool addresses, MX a mail host below the name, PTR of a pool
// address the name it answered; names in Config.NXDomain get NXDOMAIN and
// every other question NOERROR with no answer. A nil reply means send
// nothing: the message was not a query or too broken to answer.
func (s *Service) HandleDNS(ctx context.Context, query []byte, src, dst netip.AddrPort) (reply []byte) {
	reply, q, ok := s.answerDNS(query)
	if ok {
		s.rec.addDNS(q)
	}
	return reply
}

// dnsAnswer is one resource record of a reply.
type dnsAnswer struct {
	typ  dnsmessage.Type
	addr netip.Addr      // A, AAAA
	name dnsmessage.Name // MX, PTR
}

// answerDNS builds the reply to query and the record of its question
// (record says whether there was a question to record).
func (s *Service) answerDNS(query []byte) (reply []byte, q trace.DNSQuery, record bool) {
	if len(query) < 12 || len(query) > maxDNSMessage {
		return nil, q, false
	}
	var p dnsmessage.Parser
	h, err := p.Start(query)
	// Never answer a response: two sinkholes (or a reflected packet) must
	// not ping-pong.
	if err != nil || h.Response {
		return nil, q, false
	}
	rh := dnsmessage.Header{
		ID:                 h.ID,
		Response:           true,
		OpCode:             h.OpCode,
		Authoritative:      true,
		RecursionDesired:   h.RecursionDesired,
		RecursionAvailable: true,
	}
	question, err := p.Question()
	if err != nil {
		rh.RCode = dnsmessage.RCodeFormatError
		return buildDNS(rh, nil, nil, false, 0), q, false
	}
	edns := hasEDNS(&p)
	name := displayName(question.Name)
	q = trace.DNSQuery{Name: name, Type: typeName(question.Type)}

	var answers []dnsAnswer
	switch canon := canonicalName(name); {
	case h.OpCode != 0:
		rh.RCode = dnsmessage.RCodeNotImplemented
	case question.Class != dnsmessage.ClassINET || canon == "":
		// CHAOS version.bind, the root: nothing to say.
	case s.nxdomain(canon):
		rh.RCode = dnsmessage.RCodeNameError
	case canon == "localhost" || strings.HasSuffix(canon, ".localhost"):
		switch question.Type {
		case dnsmessage.TypeA:
			answers = append(answers, dnsAnswer{typ: dnsmessage.TypeA, addr: localhost4})
		case dnsmessage.TypeAAAA:
			answers = append(answers, dnsAnswer{typ: dnsmessage.TypeAAAA, addr: localhost6})
		}
	default:
		switch question.Type {
		case dnsmessage.TypeA:
			a4, _ := s.rec.resolve(name)
			answers = append(answers, dnsAnswer{typ: dnsmessage.TypeA, addr: a4})
		case dnsmessage.TypeAAAA:
			_, a6 := s.rec.resolve(name)
			answers = append(answers, dnsAnswer{typ: dnsmessage.TypeAAAA, addr: a6})
		case dnsmessage.TypeMX:
			// A mail host of its own, so a spam bot goes on to resolve
			// and connect to it.
			if mx, err := dnsmessage.NewName("mx." + question.Name.String()); err == nil {
				answers = append(answers, dnsAnswer{typ: dnsmessage.TypeMX, name: mx})
			}
		case dnsmessage.TypePTR:
			if a, ok := reverseAddr(canon); ok {
				if host := s.rec.lookup(a); host != "" {
					if n, err := dnsmessage.NewName(host + "."); err == nil {
						answers = append(answers, dnsAnswer{typ: dnsmessage.TypePTR, name: n})
					}
				}
			}
			if len(answers) == 0 {
				rh.RCode = dnsmessage.RCodeNameError
			}
		}
	}
	q.RCode = rcodeName(rh.RCode)
	for _, a := range answers {
		if a.addr.IsValid() {
			q.Answers = append(q.Answers, a.addr.String())
		} else {
			q.Answers = append(q.Answers, displayName(a.name))
		}
	}
	ttl := uint32(min(s.cfg.TTL/time.Second, 1<<31-1))
	reply = buildDNS(rh, &question, answers, edns, ttl)
	// A query without EDNS0 can only take 512 bytes over UDP: say it was
	// truncated so the client retries over TCP. Our answers are one short
	// record, so this only happens for absurd names.
	if !edns && len(reply) > udpDNSLimit {
		rh.Truncated = true
		reply = buildDNS(rh, &question, nil, false, 0)
	}
	return reply, q, true
}

// hasEDNS skips to the additional section and reports whether it holds an
// OPT record.
func hasEDNS(p *dnsmessage.Parser) bool {
	if p.SkipAllQuestions() != nil || p.SkipAllAnswers() != nil || p.SkipAllAuthorities() != nil {
		return false
	}
	for range 16 {
		h, err := p.AdditionalHeader()
		if err != nil {
			return false
		}
		if h.Type == dnsmessage.TypeOPT {
			return true
		}
		if p.SkipAdditional() != nil {
			return false
		}
	}
	return false
}

// buildDNS packs a reply; a question that cannot be packed back gets a
// header-only SERVFAIL.
func buildDNS(rh dnsmessage.Header, q *dnsmessage.Question, answers []dnsAnswer, edns bool, ttl uint32) []byte {
	msg, err := packDNS(rh, q, answers, edns, ttl)
	if err != nil {
		rh.RCode = dnsmessage.RCodeServerFailure
		msg, _ = packDNS(rh, nil, nil, false, 0)
	}
	return msg
}

func packDNS(rh dnsmessage.Header, q *dnsmessage.Question, answers []dnsAnswer, edns bool, ttl uint32) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if q != nil {
		if err := b.Question(*q); err != nil {
			return nil, err
		}
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	for _, a := range answers {
		hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: ttl}
		var err error
		switch a.typ {
		case dnsmessage.TypeA:
			err = b.AResource(hdr, dnsmessage.AResource{A: a.addr.As4()})
		case dnsmessage.TypeAAAA:
			err = b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.addr.As16()})
		case dnsmessage.TypeMX:
			err = b.MXResource(hdr, dnsmessage.MXResource{Pref: 10, MX: a.name})
		case dnsmessage.TypePTR:
			err = b.PTRResource(hdr, dnsmessage.PTRResource{PTR: a.name})
		}
		if err != nil {
			return nil, err
		}
	}
	if edns {
		if err := b.StartAdditionals(); err != nil {
			return nil, err
		}
		var h dnsmessage.ResourceHeader
		if err := h.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false); err != nil {
			return nil, err
		}
		if err := b.OPTResource(h, dnsmessage.OPTResource{}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// nxdomain reports whether name (canonical) is or lies below a name of
// Config.NXDomain.
func (s *Service) nxdomain(name string) bool {
	for _, nx := range s.cfg.NXDomain {
		if name == nx || strings.HasSuffix(name, "."+nx) {
			return true
		}
	}
	return false
}

// displayName is n as the sandbox asked it, without the trailing dot, with
// bytes outside printable ASCII written \DDD as zone files do, so that
// exfiltration in labels is kept exactly and stays valid text.
func displayName(n dnsmessage.Name) string {
	raw := n.Data[:n.Length]
	if len(raw) > 1 && raw[len(raw)-1] == '.' {
		raw = raw[:len(raw)-1]
	}
	var b strings.Builder
	for _, c := range raw {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x21 || c > 0x7e:
			b.WriteByte('\\')
			b.WriteString(strconv.Itoa(int(c) + 1000)[1:])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// typeName is a query type as DNS tools write it: "A", "TXT", "TYPE65".
func typeName(t dnsmessage.Type) string {
	if s, ok := strings.CutPrefix(t.String(), "Type"); ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func rcodeName(r dnsmessage.RCode) string {
	switch r {
	case dnsmessage.RCodeSuccess:
		return "NOERROR"
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNameError:
		return "NXDOMAIN"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// reverseAddr reads the address of a PTR name (canonical form):
// d.c.b.a.in-addr.arpa or 32 nibbles under ip6.arpa.
func reverseAddr(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 10, 8)
			if err != nil {
				return netip.Addr{}, false
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), true
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 16, 4)
			if err != nil || len(p) != 1 {
				return netip.Addr{}, false
			}
			// parts[0] is the lowest nibble of the last byte.
			j := 31 - i
			b[j/2] |= byte(v) << (4 * (1 - j%2))
		}
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}
