package testservers

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// NATSServer is a nats-server with JetStream on loopback.
type NATSServer struct {
	// URL is nats://127.0.0.1:PORT; it stays the same across restarts.
	URL string
	// StoreDir holds JetStream's data; it survives Stop.
	StoreDir string
	p        *process
}

// natsBinary is where Debian's package puts the server.
const natsBinary = "/usr/sbin/nats-server"

var natsInstall struct {
	once sync.Once
	err  error
}

// ensureNATS installs Debian's nats-server unless dpkg already has it.
func ensureNATS(ctx context.Context) error {
	natsInstall.once.Do(func() {
		if out, _ := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", "nats-server").Output(); string(out) == "install ok installed" {
			return
		}
		unlock, err := lockFile("/var/lib/sandscan/apt.lock")
		if err != nil {
			natsInstall.err = err
			return
		}
		defer unlock()
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "nats-server")
		cmd.Env = append(cmd.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			// A fresh machine may have no package lists yet.
			if up, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
				natsInstall.err = fmt.Errorf("apt-get update: %w\n%s", uerr, up)
				return
			}
			cmd = exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "nats-server")
			cmd.Env = append(cmd.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out2, err := cmd.CombinedOutput(); err != nil {
				natsInstall.err = fmt.Errorf("apt-get install nats-server: %w\n%s\n%s", err, out, out2)
			}
		}
	})
	return natsInstall.err
}

// NATS starts a nats-server with JetStream for t, installing it first if
// needed, and stops it when t ends.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	if err := ensureNATS(t.Context()); err != nil {
		t.Fatalf("testservers: %v", err)
	}
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &NATSServer{
		URL:      "nats://" + addr,
		StoreDir: filepath.Join(dir, "jetstream"),
	}
	s.p = &process{
		name: "nats-server",
		args: []string{natsBinary, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", s.StoreDir},
		log:  filepath.Join(dir, "nats.log"),
		// Printed once JetStream is up too, not just the listener.
		readyLine: "Server is ready",
	}
	t.Cleanup(s.Stop)
	s.Start(t)
	return s
}

// Start starts the server again on the same port and store directory.
func (s *NATSServer) Start(t testing.TB) {
	t.Helper()
	if err := s.p.start(t.Context()); err != nil {
		t.Fatalf("testservers: %v", err)
	}
}

// Stop kills the server; its store directory stays for Start.
func (s *NATSServer) Stop() { s.p.stop() }
