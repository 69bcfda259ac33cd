package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/setup"
	"github.com/sandscan/sandscan/trace"
)

var (
	envOnce sync.Once
	env     *setup.Env
	envErr  error
)

// newSandbox sets up the real runtime (containerd + runsc) once per test
// binary and returns a Sandbox on it.
func newSandbox(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the sandbox tests run containerd and runsc: run them as root")
	}
	rt, err := testRuntime()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	sb, err := sandbox.New(context.Background(), rt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func testRuntime() (sandbox.Runtime, error) {
	envOnce.Do(func() {
		env, envErr = setup.Ensure(context.Background(), setup.Config{})
	})
	if envErr != nil {
		return sandbox.Runtime{}, envErr
	}
	return sandbox.RuntimeOf(env), nil
}

// shellImage builds a busybox image whose entrypoint runs script.
func shellImage(t testing.TB, name, script string) sandbox.Source {
	t.Helper()
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
		Name:  name,
		Files: imagebuild.BusyboxBase("/bin/busybox"),
		Config: imagebuild.Config{
			Entrypoint: []string{"/bin/sh", "-c", script},
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
			WorkingDir: "/root",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".tar")
	if err := imagebuild.WriteOCIArchive(path, img, "sandscan.test/"+name+":latest"); err != nil {
		t.Fatal(err)
	}
	return sandbox.Source{Kind: sandbox.OCIArchive, Path: path}
}

func detonate(t testing.TB, sb *sandbox.Sandbox, src sandbox.Source, opts ...sandbox.RunOption) *trace.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, err := sb.Import(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	run, err := sb.Run(ctx, img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestRunShellScript(t *testing.T) {
	sb := newSandbox(t)
	src := shellImage(t, "shell", `cat /etc/hostname; echo persist > /etc/cron.d/job; echo drop > /tmp/dropped; echo shm > /dev/shm/s; rm /etc/group; echo out; echo err >&2; exit 3`)
	run := detonate(t, sb, src)

	if len(run.Errors) > 0 {
		t.Errorf("run errors: %q", run.Errors)
	}
	if run.Exit.Code != 3 || run.Exit.TimedOut {
		t.Errorf("exit = %+v, want code 3", run.Exit)
	}
	if !strings.Contains(string(run.Stdout.Data), "out") || !strings.Contains(string(run.Stderr.Data), "err") {
		t.Errorf("stdout %q stderr %q", run.Stdout.Data, run.Stderr.Data)
	}
	if len(run.Events) == 0 {
		t.Fatal("no events")
	}
	var sawStart, sawCatExec, sawOpen bool
	for _, e := range run.Events {
		switch {
		case e.Kind == trace.KindStart:
			sawStart = true
		case e.Kind == trace.KindExec && len(e.Argv) > 0 && e.Argv[0] == "cat":
			sawCatExec = true
		case e.Kind == trace.KindOpen && e.Path == "/etc/hostname":
			sawOpen = true
		}
	}
	if !sawStart || !sawCatExec || !sawOpen {
		t.Errorf("start %v, exec cat %v, open /etc/hostname %v", sawStart, sawCatExec, sawOpen)
	}
	want := map[string]string{
		"/etc/cron.d/job": trace.FileCreated,
		"/tmp/dropped":    trace.FileCreated,
		"/dev/shm/s":      trace.FileCreated,
		"/etc/group":      trace.FileDeleted,
	}
	for _, f := range run.Files {
		if op, ok := want[f.Path]; ok && op == f.Op {
			delete(want, f.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("fs diff misses %v; got %+v", want, run.Files)
	}
	if len(run.Processes) < 2 {
		t.Errorf("processes = %+v", run.Processes)
	}
	assertNoLeftovers(t, sb, run.ID)
}

func TestRunTimeout(t *testing.T) {
	sb := newSandbox(t)
	src := shellImage(t, "sleeper", `while true; do sleep 1; done`)
	run := detonate(t, sb, src, sandbox.WithLimits(sandbox.Limits{Timeout: 2 * time.Second}))
	if !run.Exit.TimedOut || run.Exit.Reason != trace.EndTimeout {
		t.Errorf("exit = %+v, want timeout", run.Exit)
	}
	assertNoLeftovers(t, sb, run.ID)
}

// assertNoLeftovers checks that a run left nothing behind on the host.
func assertNoLeftovers(t testing.TB, sb *sandbox.Sandbox, id string) {
	t.Helper()
	ctx := context.Background()
	c := sb.Client()
	rt := sb.Runtime()
	ctx = namespaced(ctx, rt.Namespace)
	cs, err := c.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cs {
		if x.ID() == id {
			t.Errorf("container %s left behind", id)
		}
	}
	if _, err := c.SnapshotService("overlayfs").Stat(ctx, id); err == nil {
		t.Errorf("snapshot %s left behind", id)
	}
	for _, dir := range []string{rt.FIFODir, rt.FlagsDir, rt.WorkDir} {
		// FIFOs sit one level down, in directories of random names.
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), id) {
				t.Errorf("%s left behind", p)
			}
			return nil
		})
	}
	if ns, _ := filepath.Glob("/var/run/netns/*" + id + "*"); len(ns) > 0 {
		t.Errorf("network namespaces left behind: %v", ns)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), id) {
		t.Errorf("mount of %s left behind", id)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), id) {
			t.Errorf("process %s still runs for %s: %q", p, id, b)
		}
	}
}

// TestRunCancelled is Ctrl-C in the middle of a run: Run returns the
// context's error and still removes everything it made.
func TestRunCancelled(t *testing.T) {
	sb := newSandbox(t)
	src := shellImage(t, "cancel", `while true; do sleep 1; done`)
	ctx, cancel := context.WithCancel(context.Background())
	img, err := sb.Import(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	const id = "ss-canceltest"
	time.AfterFunc(1500*time.Millisecond, cancel)
	_, err = sb.Run(ctx, img, sandbox.WithRunID(id))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	assertNoLeftovers(t, sb, id)
}
