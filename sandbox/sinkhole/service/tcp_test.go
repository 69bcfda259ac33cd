package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestUnknownProtocol(t *testing.T) {
	cfg := testConfig()
	cfg.CaptureBytes = 100
	s := newService(t, cfg)
	sn := newSandboxNet(t, s)
	data := make([]byte, 10000)
	rand.Read(data)
	data[0] = 0xff // not TLS, not text
	conn := sn.dial("203.0.113.50:9999")
	conn.Write(data)
	conn.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, conn)
	conn.Close()
	sn.wait()
	c := lastConn(t, s)
	if c.App != AppUnknown || c.BytesIn != int64(len(data)) || !bytes.Equal(c.FirstData, data[:100]) || c.Shell != nil || c.BytesOut != 0 {
		t.Errorf("recorded app %q in %d out %d first %x", c.App, c.BytesIn, c.BytesOut, c.FirstData)
	}
}

func TestClosedWithoutAWord(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	sn.dial("203.0.113.51:80").Close()
	sn.wait()
	if c := lastConn(t, s); c.App != AppUnknown || c.BytesIn != 0 || c.BytesOut != 0 || c.DstIP != "203.0.113.51" {
		t.Errorf("recorded %+v", c)
	}
}

func TestReadLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConnBytes = 64 << 10
	s := newService(t, cfg)
	sn := newSandboxNet(t, s)
	conn := sn.dial("203.0.113.52:9999")
	go func() {
		junk := bytes.Repeat([]byte{0xfe}, 1<<20)
		conn.Write(junk) // fails once the sinkhole gives up: fine
	}()
	sn.wait()
	conn.Close()
	if c := lastConn(t, s); c.BytesIn != cfg.MaxConnBytes {
		t.Errorf("read %d bytes, limit %d", c.BytesIn, cfg.MaxConnBytes)
	}
}

// TestConnTimeout checks a client that never stops trickling is cut off.
func TestConnTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ConnTimeout = 500 * time.Millisecond
	s := newService(t, cfg)
	sn := newSandboxNet(t, s)
	conn := sn.dial("203.0.113.53:9999")
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := conn.Write([]byte{0xfe}); err != nil {
					return
				}
			}
		}
	}()
	sn.wait() // returns only because of ConnTimeout
	close(stop)
	conn.Close()
	if c := lastConn(t, s); c.BytesIn == 0 || c.App != AppUnknown {
		t.Errorf("recorded %+v", c)
	}
}

func TestContextCancel(t *testing.T) {
	cfg := testConfig()
	cfg.BannerWait = time.Hour
	s := newService(t, cfg)
	client, server := tcpPair(t)
	defer client.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.HandleTCP(ctx, server, netip.MustParseAddrPort("203.0.113.54:4444"))
		close(done)
	}()
	cancel()
	<-done
	if n := len(s.Network().Conns); n != 1 {
		t.Errorf("%d connections recorded", n)
	}
}

func TestMaxHandlers(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHandlers = 1
	cfg.BannerWait = time.Hour
	s := newService(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	busyClient, busyServer := tcpPair(t)
	defer busyClient.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.HandleTCP(ctx, busyServer, netip.MustParseAddrPort("203.0.113.55:1"))
	}()
	// Wait until the first handler holds the only slot.
	for len(s.sem) == 0 {
		time.Sleep(time.Millisecond)
	}
	client, server := tcpPair(t)
	s.HandleTCP(context.Background(), server, netip.MustParseAddrPort("203.0.113.55:2"))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("refused connection read %d, %v; want EOF", n, err)
	}
	client.Close()
	cancel()
	wg.Wait()
	conns := s.Network().Conns
	if len(conns) != 2 || conns[1].DstPort != 2 || conns[1].App != "" {
		t.Errorf("recorded %+v", conns)
	}
}

func TestMaxConnRecords(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConns = 2
	s := newService(t, cfg)
	sn := newSandboxNet(t, s)
	for range 3 {
		sn.dial("203.0.113.56:80").Close()
	}
	sn.wait()
	if n, d := len(s.Network().Conns), s.Recorder().Dropped(); n != 2 || d != 1 {
		t.Errorf("%d records, %d dropped; want 2 and 1", n, d)
	}
}

// FuzzHandleTCP runs whole conversations on arbitrary client bytes: a
// handler panic fails the test through the logger.
func FuzzHandleTCP(f *testing.F) {
	for _, seed := range []string{
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", "CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", "\x16\x03\x01\x00\x04\x01\x00\x00\x00",
		`{"id":1,"method":"login","params":{"login":"w"}}` + "\n", "NICK a\r\nUSER a\r\nJOIN #x\r\n", "EHLO a\r\nDATA\r\n.\r\n",
		"SSH-2.0-x\r\n", "sh-5.2$ ", "\x00\x0c\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00",
	} {
		f.Add([]byte(seed), uint16(80))
	}
	cfg := Config{BannerWait: time.Millisecond, IdleTimeout: 5 * time.Millisecond, ConnTimeout: time.Second, MaxConns: 8}
	s := newService(f, cfg)
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.HandleTCP(context.Background(), server, netip.AddrPortFrom(netip.MustParseAddr("203.0.113.1"), port))
			close(done)
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(time.Second))
		client.Write(b)
		client.Close()
		<-done
	})
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 10, "abc"},
		{"abcdef", 3, "abc"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"\xff\xff\xff\xff", 4, "\uFFFD"},
		{"héllo", 2, "h\uFFFD"[:1]},
		{"日本", 4, "日"},
	}
	for _, tt := range tests {
		got := clean(tt.in, tt.max)
		if got != tt.want || len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
