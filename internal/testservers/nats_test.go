package testservers

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestNATSRestart(t *testing.T) {
	s := NATS(t)
	addr := strings.TrimPrefix(s.URL, "nats://")
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		// The server greets with INFO, JetStream announced in it.
		if !strings.HasPrefix(string(buf[:n]), "INFO ") || !strings.Contains(string(buf[:n]), `"jetstream":true`) {
			t.Errorf("greeting %q", buf[:n])
		}
		return nil
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := dial(); err == nil {
		t.Fatal("server still answers after Stop")
	}
	s.Start(t)
	if err := dial(); err != nil {
		t.Fatalf("after restart on the same port: %v", err)
	}
}
