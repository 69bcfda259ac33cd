package testservers

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ToolsDir is where built tools live: $SANDSCAN_TOOLS_DIR, or
// /var/lib/sandscan/tools as the project's setup uses.
func ToolsDir() string {
	if d := os.Getenv("SANDSCAN_TOOLS_DIR"); d != "" {
		return d
	}
	return "/var/lib/sandscan/tools"
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds; the server's start then fails loudly.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockFile holds an exclusive flock on path until the returned func runs:
// test binaries of several packages run at once and must not build or
// install the same thing twice.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// process is a server child that can be stopped and started again with
// the same command line.
type process struct {
	name  string
	args  []string
	env   []string
	log   string                          // file that collects its output, kept for failures
	ready func(ctx context.Context) error // nil error when serving
	// readyLine, when set, is a line the server logs once it serves: it
	// is ready when the log holds one more of them than before the start.
	readyLine string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the server and waits until ready says so.
func (p *process) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is already running", p.name)
	}
	seen := p.readyLines()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, and killed with the test binary if that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		select {
		case <-done:
			p.cmd = nil
			out, _ := os.ReadFile(p.log)
			return fmt.Errorf("%s exited while starting: %s\n%s", p.name, cmd.ProcessState, tail(out))
		case <-ctx.Done():
			p.stopLocked()
			return fmt.Errorf("%s not ready: %w", p.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if p.readyLine != "" && p.readyLines() > seen {
			return nil
		}
		if p.ready != nil && p.ready(ctx) == nil {
			return nil
		}
	}
}

// stop kills the server (SIGKILL: an outage, not a clean shutdown) and
// waits for it to be gone.
func (p *process) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *process) stopLocked() {
	if p.cmd == nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

func (p *process) readyLines() int {
	if p.readyLine == "" {
		return 0
	}
	b, _ := os.ReadFile(p.log)
	return bytes.Count(b, []byte(p.readyLine))
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return b
}
