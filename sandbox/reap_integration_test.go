package sandbox_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sandscan/sandscan/sandbox"
)

// TestReapKilledProcess kills a process in the middle of a run, as a dead
// worker would be, and checks that the next Sandbox removes what it left.
func TestReapKilledProcess(t *testing.T) {
	sb := newSandbox(t)
	src := shellImage(t, "reap", `while true; do sleep 1; done`)
	id := "ss-reaptest" + time.Now().Format("150405")

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SANDSCAN_REAP_CHILD="+id, "SANDSCAN_REAP_IMAGE="+src.Path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := namespaced(context.Background(), sb.Runtime().Namespace)
	deadline := time.Now().Add(time.Minute)
	for {
		if c, err := sb.Client().LoadContainer(ctx, id); err == nil {
			if task, err := c.Task(ctx, nil); err == nil {
				if st, err := task.Status(ctx); err == nil && st.Status == "running" {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never started its run")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	// The container outlives its owner until someone reaps it.
	if _, err := sb.Client().LoadContainer(ctx, id); err != nil {
		t.Fatalf("container gone before reaping: %v", err)
	}
	ids, err := sb.Reap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, id) {
		t.Errorf("Reap removed %v, want %s", ids, id)
	}
	assertNoLeftovers(t, sb, id)
}

// TestMain lets the test binary play the worker that TestReapKilledProcess
// kills: started with SANDSCAN_REAP_CHILD set, it runs forever instead of
// running tests.
func TestMain(m *testing.M) {
	if id := os.Getenv("SANDSCAN_REAP_CHILD"); id != "" {
		os.Exit(reapChild(id))
	}
	os.Exit(m.Run())
}

func reapChild(id string) int {
	rt, err := testRuntime()
	if err != nil {
		return 1
	}
	ctx := context.Background()
	sb, err := sandbox.New(ctx, rt)
	if err != nil {
		return 1
	}
	img, err := sb.Import(ctx, sandbox.Source{Kind: sandbox.OCIArchive, Path: os.Getenv("SANDSCAN_REAP_IMAGE")})
	if err != nil {
		return 1
	}
	sb.Run(ctx, img, sandbox.WithRunID(id), sandbox.WithLimits(sandbox.Limits{Timeout: time.Minute}))
	return 1 // never reached: the parent kills this process
}
