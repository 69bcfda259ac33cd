package service

import (
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
)

// clientHello returns the bytes a crypto/tls client sends first: its
// ClientHello record(s).
func clientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		tls.Client(client, cfg).Handshake()
		client.Close()
	}()
	// The first flight is one write; the client then waits for an answer
	// that never comes, until the pipe is closed.
	buf := make([]byte, 64<<10)
	n, err := server.Read(buf)
	must(t, err)
	server.Close()
	return buf[:n]
}

func TestTLSClientHello(t *testing.T) {
	s := newService(t, testConfig())
	tests := []struct {
		name string
		cfg  *tls.Config
		alpn []string
	}{
		{"sni and alpn", &tls.Config{ServerName: "pool.minexmr.example", NextProtos: []string{"h2", "http/1.1"}}, []string{"h2", "http/1.1"}},
		{"sni only", &tls.Config{ServerName: "c2.example"}, nil},
		{"tls 1.2 only", &tls.Config{ServerName: "old.example", MaxVersion: tls.VersionTLS12, NextProtos: []string{"stratum"}}, []string{"stratum"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := newSandboxNet(t, s)
			conn := sn.dial(tt.cfg.ServerName + ":443")
			err := tls.Client(conn, tt.cfg).Handshake()
			conn.Close()
			sn.wait()
			// crypto/tls keeps its alert type to itself: read the text.
			if err == nil || !strings.Contains(err.Error(), "remote error: tls: handshake failure") {
				t.Errorf("handshake ended with %v, want a handshake_failure alert", err)
			}
			c := lastConn(t, s)
			if c.App != AppTLS || c.TLS == nil || c.TLS.SNI != tt.cfg.ServerName || !slices.Equal(c.TLS.ALPN, tt.alpn) {
				t.Errorf("recorded %+v %+v", c, c.TLS)
			}
			if c.Host != tt.cfg.ServerName || c.FirstData[0] != 22 {
				t.Errorf("connection recorded as %+v", c)
			}
		})
	}
}

func TestParseClientHello(t *testing.T) {
	rec := clientHello(t, &tls.Config{ServerName: "a.example", NextProtos: []string{"x"}})
	msg, err := readHandshake(bytes.NewReader(rec))
	must(t, err)
	info, err := parseClientHello(msg)
	must(t, err)
	if info.SNI != "a.example" || !slices.Equal(info.ALPN, []string{"x"}) {
		t.Fatalf("parsed %+v", info)
	}
	// Every cut of the message is refused, never read past.
	for i := range len(msg) {
		if _, err := parseClientHello(msg[:i]); err == nil {
			t.Errorf("hello cut at %d of %d parsed", i, len(msg))
		}
	}
	serverHello := slices.Clone(msg)
	serverHello[0] = 2
	if _, err := parseClientHello(serverHello); err == nil {
		t.Error("a ServerHello parsed as a ClientHello")
	}
	// A hello with no extensions at all (SSL 3.0 style): no SNI, no error.
	bare := []byte{1, 0, 0, 41, 3, 0}
	bare = append(bare, make([]byte, 32)...)
	bare = append(bare, 0, 0, 2, 0, 0x2f, 1, 0)
	if info, err := parseClientHello(bare); err != nil || info.SNI != "" || info.ALPN != nil {
		t.Errorf("bare hello: %+v, %v", info, err)
	}
}

func TestReadHandshake(t *testing.T) {
	rec := clientHello(t, &tls.Config{ServerName: "split.example"})
	want := rec[5:]
	// The same message split over three records.
	var split []byte
	for _, part := range [][]byte{want[:3], want[3:100], want[100:]} {
		split = append(split, 22, 3, 1, byte(len(part)>>8), byte(len(part)))
		split = append(split, part...)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"one record", rec, false},
		{"three records", split, false},
		{"truncated", rec[:len(rec)-1], true},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, true},
		{"empty record", []byte{22, 3, 1, 0, 0}, true},
		{"oversized record", []byte{22, 3, 1, 0xff, 0xff}, true},
		{"huge message", append([]byte{22, 3, 1, 0, 4}, 1, 0xff, 0xff, 0xff), true},
	}
	for _, tt := range tests {
		got, err := readHandshake(bytes.NewReader(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("%s: message differs", tt.name)
		}
	}
}

func FuzzClientHello(f *testing.F) {
	f.Add(clientHello(f, &tls.Config{ServerName: "seed.example", NextProtos: []string{"h2"}}))
	f.Add(clientHello(f, &tls.Config{ServerName: "seed12.example", MaxVersion: tls.VersionTLS12}))
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if msg, err := readHandshake(bytes.NewReader(b)); err == nil {
			if len(msg) < 4 || len(msg) > maxHandshake {
				t.Fatalf("handshake message of %d bytes", len(msg))
			}
			parseClientHello(msg)
		}
		if info, err := parseClientHello(b); err == nil && (len(info.SNI) > 255 || len(info.ALPN) > maxALPN) {
			t.Fatalf("unbounded record %+v", info)
		}
	})
}
