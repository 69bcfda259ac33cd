package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
)

// probe asks the daemon at address for its version. A missing socket
// fails at once instead of dialling.
func probe(ctx context.Context, address string) (string, error) {
	if _, err := os.Stat(address); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := containerd.New(address, containerd.WithTimeout(2*time.Second))
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// ensureDaemon makes sure our containerd answers, reusing a running one
// unless its config was just rewritten or it runs another release than
// the binary now in place. The caller holds the state lock.
func (s *installer) ensureDaemon(ctx context.Context, configChanged bool, binVersion string) (string, error) {
	if v, err := probe(ctx, s.env.Address); err == nil {
		switch {
		case configChanged:
			s.log.Info("restarting containerd: its config changed", "address", s.env.Address)
		case !sameRelease(v, binVersion):
			s.log.Info("restarting containerd: it runs another release", "running", v, "installed", binVersion)
		default:
			return v, nil
		}
	} else if pid := s.daemonPID(); pid > 0 {
		s.log.Info("restarting containerd: it does not answer", "pid", pid, "err", err)
	}
	if err := s.stopDaemon(ctx); err != nil {
		return "", err
	}
	return s.startDaemon(ctx)
}

// maxLogSize is when containerd.log is rotated (to containerd.log.1), at
// start only: a daemon that runs for months is not Sandscan's usage.
const maxLogSize = 16 << 20

func (s *installer) startDaemon(ctx context.Context) (string, error) {
	env := s.env
	if fi, err := os.Stat(env.LogFile); err == nil && fi.Size() > maxLogSize {
		os.Rename(env.LogFile, env.LogFile+".1")
	}
	logf, err := os.OpenFile(env.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	// Not CommandContext: the daemon outlives this call and this process.
	cmd := exec.Command(env.Containerd, "--config", env.ConfigFile)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = daemonEnviron(os.Environ(), filepath.Dir(env.Shim), filepath.Join(env.ToolsDir, "bin"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	s.log.Info("starting containerd", "binary", env.Containerd, "config", env.ConfigFile, "log", env.LogFile)
	start := time.Now()
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return "", fmt.Errorf("setup: start containerd: %w", err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	// Reap it if it dies while this process lives (a long-running serve);
	// otherwise it would linger as a zombie that still looks alive.
	go func() { exited <- cmd.Wait() }()
	if err := writeFileAtomic(env.PIDFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		cmd.Process.Kill()
		return "", err
	}
	deadline := time.NewTimer(s.cfg.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	fail := func(why error) (string, error) {
		cmd.Process.Kill()
		os.Remove(env.PIDFile)
		return "", fmt.Errorf("setup: containerd: %w; its log says: %s", why, logSince(env.LogFile, logStart, 2000))
	}
	var lastErr error
	for {
		select {
		case err := <-exited:
			os.Remove(env.PIDFile)
			return "", fmt.Errorf("setup: containerd exited at start (%v); its log says: %s", err, logSince(env.LogFile, logStart, 2000))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-deadline.C:
			return fail(fmt.Errorf("not ready after %s (last probe: %v)", s.cfg.ReadyTimeout, lastErr))
		case <-tick.C:
			v, err := probe(ctx, env.Address)
			if err != nil {
				lastErr = err
				continue
			}
			s.log.Info("containerd ready", "version", v, "pid", pid, "address", env.Address, "took", time.Since(start).Round(time.Millisecond))
			return v, nil
		}
	}
}

// daemonEnviron is the daemon's environment: PATH leads with the shim's
// directory so containerd runs our shim, not one on the system PATH; a
// systemd notify socket inherited from a unit is not the daemon's to use.
func daemonEnviron(environ []string, dirs ...string) []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	var out []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH":
			if v != "" {
				path = v
			}
		case "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
		default:
			out = append(out, kv)
		}
	}
	var lead []string
	for _, d := range dirs {
		if d != "" && !slices.Contains(lead, d) {
			lead = append(lead, d)
		}
	}
	return append(out, "PATH="+strings.Join(append(lead, path), ":"))
}

// logSince returns the tail of what the daemon logged since offset.
func logSince(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(no log)"
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	if len(bytes.TrimSpace(b)) == 0 {
		return "(empty)"
	}
	return tail(b, n)
}

// daemonPID finds our containerd: by the pid file, checked against the
// process's command line (pids are reused), else by scanning /proc for a
// containerd started with our config file.
func (s *installer) daemonPID() int {
	if b, err := os.ReadFile(s.env.PIDFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 && s.isOurDaemon(pid) {
			return pid
		}
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && s.isOurDaemon(pid) {
			return pid
		}
	}
	return 0
}

// isOurDaemon says whether pid is a live containerd run with our config.
func (s *installer) isOurDaemon(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 3 || filepath.Base(args[0]) != "containerd" {
		return false
	}
	for i := 1; i+1 < len(args); i++ {
		if (args[i] == "--config" || args[i] == "-c") && args[i+1] == s.env.ConfigFile {
			return alive(pid)
		}
	}
	return false
}

// alive says whether pid runs and is not a zombie awaiting its reaper.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces or parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	st := b[i+2]
	return st != 'Z' && st != 'X'
}

// stopDaemon sends SIGTERM, then SIGKILL after a grace period, and waits
// for the process to go. The shims and their containers live on; the
// next daemon reconnects to them.
func (s *installer) stopDaemon(ctx context.Context) error {
	pid := s.daemonPID()
	if pid == 0 {
		os.Remove(s.env.PIDFile)
		return nil
	}
	s.log.Info("stopping containerd", "pid", pid)
	for _, step := range []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGTERM, 10 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		if err := syscall.Kill(pid, step.sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("setup: signal containerd %d: %w", pid, err)
		}
		if waitGone(ctx, pid, step.grace) {
			os.Remove(s.env.PIDFile)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("setup: stop containerd: %w", ctx.Err())
		}
	}
	return fmt.Errorf("setup: containerd %d survived SIGKILL", pid)
}

func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(pid)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return !alive(pid)
}
