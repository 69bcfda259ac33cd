package service

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/sandscan/sandscan/trace"
)

const (
	// maxHandshake bounds the first handshake message gathered from
	// records: a ClientHello with post-quantum key shares is ~2 KiB.
	maxHandshake = 64 << 10
	// maxRecord is the largest TLS plaintext record (RFC 8446 5.1), plus
	// the slack RFC 5246 allowed.
	maxRecord = 1<<14 + 2048
	// maxALPN bounds the protocols kept from one ClientHello.
	maxALPN = 16
)

// tlsAlertHandshakeFailure is a fatal handshake_failure alert: the
// sinkhole has no certificate to offer, and an alert ends the client's
// attempt at once instead of leaving it waiting.
var tlsAlertHandshakeFailure = []byte{21, 3, 3, 0, 2, 2, 40}

var errNotHandshake = errors.New("not a TLS handshake record")

// serveTLS records the ClientHello's server name and ALPN protocols, then
// refuses the handshake.
func (ss *session) serveTLS() {
	ss.c.App = AppTLS
	ss.c.TLS = ss.readClientHello()
	ss.write(tlsAlertHandshakeFailure)
}

// readClientHello reads and parses the first handshake message, or
// returns nil if it is not a readable ClientHello.
func (ss *session) readClientHello() *trace.TLSInfo {
	ss.wait(ss.s.cfg.IdleTimeout)
	msg, err := readHandshake(ss.br)
	if err != nil {
		return nil
	}
	info, err := parseClientHello(msg)
	if err != nil {
		return nil
	}
	return info
}

// readHandshake reads TLS records from r until it holds the whole first
// handshake message (a message may span records) and returns it with its
// 4-byte header.
func readHandshake(r io.Reader) ([]byte, error) {
	var msg []byte
	var hdr [5]byte
	for range 64 {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		if hdr[0] != 22 || hdr[1] != 3 {
			return nil, errNotHandshake
		}
		n := int(binary.BigEndian.Uint16(hdr[3:]))
		if n == 0 || n > maxRecord {
			return nil, fmt.Errorf("TLS record of %d bytes", n)
		}
		if len(msg)+n > maxHandshake {
			return nil, fmt.Errorf("TLS handshake message over %d bytes", maxHandshake)
		}
		msg = append(msg, make([]byte, n)...)
		if _, err := io.ReadFull(r, msg[len(msg)-n:]); err != nil {
			return nil, err
		}
		if len(msg) >= 4 {
			need := 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
			if need > maxHandshake {
				return nil, fmt.Errorf("TLS handshake message of %d bytes", need)
			}
			if len(msg) >= need {
				return msg[:need], nil
			}
		}
	}
	return nil, errors.New("TLS handshake message spread over too many records")
}

// parseClientHello reads the server name (SNI) and the ALPN protocols of
// a ClientHello handshake message (RFC 8446 4.1.2; SNI RFC 6066 3; ALPN
// RFC 7301 3.1).
func parseClientHello(msg []byte) (*trace.TLSInfo, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var body cryptobyte.String
	if !s.ReadUint8(&typ) || typ != 1 || !s.ReadUint24LengthPrefixed(&body) {
		return nil, errors.New("not a ClientHello")
	}
	var version uint16
	var sessionID, suites, compression cryptobyte.String
	if !body.ReadUint16(&version) || !body.Skip(32) || // legacy_version, random
		!body.ReadUint8LengthPrefixed(&sessionID) ||
		!body.ReadUint16LengthPrefixed(&suites) ||
		!body.ReadUint8LengthPrefixed(&compression) {
		return nil, errors.New("short ClientHello")
	}
	info := &trace.TLSInfo{}
	if body.Empty() {
		return info, nil // no extensions: an SSL 3.0-era hello
	}
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) {
		return nil, errors.New("bad ClientHello extensions")
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, errors.New("bad ClientHello extension")
		}
		switch typ {
		case 0: // server_name
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return nil, errors.New("bad server_name extension")
			}
			for !list.Empty() {
				var nameType uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
					return nil, errors.New("bad server_name entry")
				}
				if nameType == 0 && info.SNI == "" {
					info.SNI = clean(string(name), 255)
				}
			}
		case 16: // application_layer_protocol_negotiation
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return nil, errors.New("bad ALPN extension")
			}
			for !list.Empty() {
				var proto cryptobyte.String
				if !list.ReadUint8LengthPrefixed(&proto) {
					return nil, errors.New("bad ALPN entry")
				}
				if len(info.ALPN) < maxALPN {
					info.ALPN = append(info.ALPN, clean(string(proto), 255))
				}
			}
		}
	}
	return info, nil
}
