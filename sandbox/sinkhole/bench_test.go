package sinkhole

import (
	"context"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkNetwork: what a run pays for its network. The baseline makes
// and removes one bare namespace.
func BenchmarkNetwork(b *testing.B) {
	requireRoot(b)
	if err := ensureNetNSDir(DefaultNetNSDir); err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-netns", func(b *testing.B) {
		for b.Loop() {
			p := filepath.Join(DefaultNetNSDir, randomID("bench-bare-"))
			if err := createNetNS(p); err != nil {
				b.Fatal(err)
			}
			if err := deleteNetNS(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, pcap := range []bool{false, true} {
		name := "new-close"
		if pcap {
			name += "-pcap"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			var up, down time.Duration
			for b.Loop() {
				cfg := Config{RunID: randomID("bench-"), Service: newRecorder()}
				if pcap {
					cfg.PCAPPath = filepath.Join(dir, "b.pcap")
				}
				start := time.Now()
				n, err := New(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := n.Close(); err != nil {
					b.Fatal(err)
				}
				up, down = up+mid.Sub(start), down+time.Since(mid)
			}
			b.ReportMetric(float64(up.Microseconds())/1e3/float64(b.N), "new-ms/op")
			b.ReportMetric(float64(down.Microseconds())/1e3/float64(b.N), "close-ms/op")
		})
	}
}

// echoOnce is a Service that answers each connection's first bytes and
// closes; UDP is echoed.
type echoOnce struct{}

func (echoOnce) HandleTCP(_ context.Context, c net.Conn, _ netip.AddrPort) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			c.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (echoOnce) HandleUDP(_ context.Context, p []byte, _, _ netip.AddrPort) []byte { return p }

// BenchmarkTCPConnection: connect, one byte each way, close, from inside
// the sandbox namespace; the baseline does the same to a listener on the
// namespace's own loopback (kernel only).
func BenchmarkTCPConnection(b *testing.B) {
	requireRoot(b)
	n, _ := newTestNetwork(b, func(c *Config) { c.Service = echoOnce{}; c.PCAPPath = "" })
	ns := n.NetNSPath()
	var ln net.Listener
	if err := inNetNS(ns, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	for _, tt := range []struct{ name, addr string }{
		{"baseline-kernel-loopback", ln.Addr().String()},
		{"sinkhole", "203.0.113.7:3333"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			err := inNetNS(ns, func() error {
				one := []byte{1}
				for b.Loop() {
					c, err := net.Dial("tcp", tt.addr)
					if err != nil {
						return err
					}
					c.Write(one)
					if _, err := io.ReadFull(c, one); err != nil {
						return err
					}
					c.Close()
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// mibAck reads 1 MiB at a time and answers each with one byte.
func mibAck(c net.Conn) {
	buf := make([]byte, 1<<20)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf[:1]); err != nil {
			return
		}
	}
}

type ackService struct{ echoOnce }

func (ackService) HandleTCP(_ context.Context, c net.Conn, _ netip.AddrPort) { mibAck(c) }

// BenchmarkTCPUpload: the sandbox sends 1 MiB per op over one connection
// (exfiltration's direction) and waits for a one-byte answer; the
// baseline sends to the namespace's own loopback.
func BenchmarkTCPUpload(b *testing.B) {
	requireRoot(b)
	n, _ := newTestNetwork(b, func(c *Config) { c.Service = ackService{}; c.PCAPPath = "" })
	ns := n.NetNSPath()
	var ln net.Listener
	if err := inNetNS(ns, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { mibAck(c); c.Close() }()
		}
	}()
	for _, tt := range []struct{ name, addr string }{
		{"baseline-kernel-loopback", ln.Addr().String()},
		{"sinkhole", "203.0.113.7:80"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			c, err := dialIn(ns, "tcp", tt.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			data, ack := make([]byte, 1<<20), make([]byte, 1)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.Write(data); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, ack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
