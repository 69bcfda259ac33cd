package setup

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder wraps the real command runner and remembers what ran.
type recorder struct {
	mu   sync.Mutex
	runs [][]string
}

func (r *recorder) exec(cmd *exec.Cmd) error {
	r.mu.Lock()
	r.runs = append(r.runs, slices.Clone(cmd.Args))
	r.mu.Unlock()
	return cmd.Run()
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.runs = nil
	r.mu.Unlock()
}

// ran lists the base names of the programs run since the last reset.
func (r *recorder) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, a := range r.runs {
		names = append(names, filepath.Base(a[0])+" "+strings.Join(a[1:], " "))
	}
	return names
}

// testConfig gives a test its own short state dir (sockets have a 108-byte
// limit) and the machine's real tools dir, so nothing is rebuilt. The
// daemon is stopped and the state dir removed when the test ends.
func testConfig(t *testing.T) (Config, *recorder) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests start containerd and need root")
	}
	_, real, err := Config{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "ss-")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg := Config{
		StateDir: dir,
		ToolsDir: real.ToolsDir,
		Exec:     rec.exec,
		Logger:   slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	t.Cleanup(func() {
		if err := Stop(context.Background(), cfg); err != nil {
			t.Errorf("stop: %v", err)
		}
		os.RemoveAll(dir)
	})
	return cfg, rec
}

func daemonVersion(t *testing.T, env *Env) string {
	t.Helper()
	c, err := env.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatalf("containerd at %s does not answer: %v", env.Address, err)
	}
	return v.Version
}

func readPID(t *testing.T, env *Env) int {
	t.Helper()
	b, err := os.ReadFile(env.PIDFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestEnsureIdempotentStopRestart(t *testing.T) {
	cfg, rec := testConfig(t)
	ctx := t.Context()

	env, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := daemonVersion(t, env); got != env.ContainerdVersion || got == "" {
		t.Errorf("daemon says %q, Env says %q", got, env.ContainerdVersion)
	}
	if !strings.HasPrefix(env.Address, cfg.StateDir+"/") || !strings.HasPrefix(env.Containerd, cfg.ToolsDir+"/") && env.Containerd != debianContainerd {
		t.Errorf("paths outside the state and tools dirs: %+v", env)
	}
	if env.RunscVersion != RunscPin || env.Namespace != Namespace {
		t.Errorf("RunscVersion %q Namespace %q", env.RunscVersion, env.Namespace)
	}
	first := readPID(t, env)
	if !alive(first) {
		t.Fatalf("pid file names %d, which is not running", first)
	}

	rec.reset()
	env2, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.ran() {
		if strings.HasPrefix(r, "go ") || strings.HasPrefix(r, "apt-get ") {
			t.Errorf("second Ensure ran %q", r)
		}
	}
	if pid := readPID(t, env2); pid != first {
		t.Errorf("second Ensure replaced the daemon: pid %d, was %d", pid, first)
	}
	if *env2 != *env {
		t.Errorf("second Ensure gave another Env:\n%+v\n%+v", env2, env)
	}

	loaded, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Address != env.Address || loaded.Wrapper != env.Wrapper || loaded.Containerd != env.Containerd ||
		loaded.ShimSocketDir != env.ShimSocketDir || !sameRelease(loaded.ContainerdVersion, env.ContainerdVersion) {
		t.Errorf("Load gave\n%+v\nEnsure gave\n%+v", loaded, env)
	}

	if err := Stop(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if alive(first) {
		t.Fatalf("containerd %d still runs after Stop", first)
	}
	if _, err := probe(ctx, env.Address); err == nil {
		t.Fatal("socket still answers after Stop")
	}
	if _, err := os.Stat(env.PIDFile); !os.IsNotExist(err) {
		t.Errorf("pid file left after Stop: %v", err)
	}
	if err := Stop(ctx, cfg); err != nil {
		t.Errorf("Stop of a stopped daemon: %v", err)
	}

	env3, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pid := readPID(t, env3); pid == first || !alive(pid) {
		t.Errorf("Ensure after Stop: pid %d (was %d)", pid, first)
	}
	daemonVersion(t, env3)
}

func TestEnsureRestartsOnConfigChange(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := readPID(t, env)
	// Someone edits the config: Ensure restores it and restarts the daemon
	// so that the running one matches the file.
	if err := os.WriteFile(env.ConfigFile, []byte("version = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if pid := readPID(t, env); pid == first {
		t.Error("daemon not restarted after its config changed")
	}
	b, _ := os.ReadFile(env.ConfigFile)
	if !strings.Contains(string(b), env.Address) {
		t.Errorf("config not restored:\n%s", b)
	}
	daemonVersion(t, env)
}

func TestEnsureRestartsDeadDaemon(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := readPID(t, env)
	// A daemon killed without cleaning up leaves its socket file behind.
	if err := exec.Command("kill", "-KILL", strconv.Itoa(first)).Run(); err != nil {
		t.Fatal(err)
	}
	if !waitGone(t.Context(), first, 5*time.Second) {
		t.Fatal("daemon survived SIGKILL")
	}
	if _, err := Ensure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if pid := readPID(t, env); pid == first {
		t.Error("pid file still names the dead daemon")
	}
	daemonVersion(t, env)
}

func TestEnsureKeepsOffSystemPaths(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(env.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/var/lib/containerd", "/run/containerd", "/etc/containerd", "/opt/containerd"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("config mentions %s", bad)
		}
	}
	// The state dir holds the daemon's data and sockets.
	for _, p := range []string{env.Address, env.TTRPCAddress, filepath.Join(cfg.StateDir, "containerd", "root", "io.containerd.metadata.v1.bolt", "meta.db")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("expected %s: %v", p, err)
		}
	}
	if env.ShimSocketDir == "" && shimSocketDirSupported(env.ContainerdVersion) {
		t.Errorf("short state dir %s but no shim socket dir", cfg.StateDir)
	}
}

func TestEnsureRejectsLongStateDir(t *testing.T) {
	cfg := Config{StateDir: "/tmp/" + strings.Repeat("d", 90), ToolsDir: "/nonexistent"}
	_, err := Ensure(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("got %v, want a too-long error", err)
	}
	if _, err := os.Stat(cfg.StateDir); !os.IsNotExist(err) {
		t.Errorf("state dir created despite the error")
	}
}

func TestLoadBeforeSetup(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(Config{StateDir: filepath.Join(dir, "s"), ToolsDir: filepath.Join(dir, "t")})
	if !errors.Is(err, ErrNotSetUp) {
		t.Fatalf("Load of nothing: %v, want ErrNotSetUp", err)
	}
}

// TestEnsureConcurrent: test binaries of several packages call Ensure at
// once on one state dir; the lock files make them agree on one daemon.
func TestEnsureConcurrent(t *testing.T) {
	cfg, _ := testConfig(t)
	const n = 4
	envs := make([]*Env, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { envs[i], errs[i] = Ensure(t.Context(), cfg) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Ensure %d: %v", i, errs[i])
		}
	}
	pid := readPID(t, envs[0])
	for i := 1; i < n; i++ {
		if *envs[i] != *envs[0] {
			t.Errorf("Ensure %d gave another Env", i)
		}
	}
	if got := (&installer{env: envs[0]}).daemonPID(); got != pid {
		t.Errorf("daemon pid %d, pid file %d", got, pid)
	}
	b, err := os.ReadFile(envs[0].LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(b), "successfully booted"); c != 1 {
		t.Errorf("containerd booted %d times", c)
	}
}

// BenchmarkEnsureWarm measures the common case: everything installed and
// the daemon running (`sandscan setup` before each make target).
func BenchmarkEnsureWarm(b *testing.B) {
	dir, err := os.MkdirTemp("/tmp", "ss-")
	if err != nil {
		b.Fatal(err)
	}
	_, real, err := Config{}.resolve()
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{StateDir: dir, ToolsDir: real.ToolsDir, Logger: slog.New(slog.DiscardHandler)}
	defer os.RemoveAll(dir)
	defer Stop(context.Background(), cfg)
	if _, err := Ensure(b.Context(), cfg); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Ensure(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStopWithoutStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never")
	if err := Stop(t.Context(), Config{StateDir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stop created %s", dir)
	}
}
