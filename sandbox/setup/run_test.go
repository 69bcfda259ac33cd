package setup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
)

// TestRunsContainerInGVisor checks the whole set-up together: containerd,
// the runc shim, the wrapper and runsc run a process, with its output and
// exit status, inside gVisor (whose dmesg is its own), and the shim's
// socket lands in the state dir.
func TestRunsContainerInGVisor(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runBusybox(t, env)
}

// runBusybox runs busybox in gVisor through env's containerd and checks
// what came out.
func runBusybox(t *testing.T, env *Env) {
	// A rootfs of one static busybox is enough: no image needed.
	rootfs := filepath.Join(env.StateDir, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}

	c, err := env.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(t.Context(), env.Namespace), time.Minute)
	defer cancel()
	const id = "setup-smoke"
	if err := WriteRunscFlags(env, id, []string{"--network=none"}); err != nil {
		t.Fatal(err)
	}
	defer RemoveRunscFlags(env, id)
	ctr, err := c.NewContainer(ctx, id,
		containerd.WithNewSpec(
			oci.WithRootFSPath(rootfs),
			oci.WithProcessArgs("/bin/busybox", "sh", "-c", "/bin/busybox dmesg | /bin/busybox head -n 1; echo to-stderr >&2; exit 3"),
		),
		containerd.WithRuntime(Runtime, env.RuntimeOptions()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Delete(context.WithoutCancel(ctx))
	var stdout, stderr bytes.Buffer
	task, err := ctr.NewTask(ctx, cio.NewCreator(cio.WithStreams(nil, &stdout, &stderr), cio.WithFIFODir(env.FIFODir)))
	if err != nil {
		t.Fatal(err)
	}
	defer task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	exited, err := task.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if env.ShimSocketDir != "" {
		socks, _ := os.ReadDir(env.ShimSocketDir)
		if len(socks) == 0 {
			t.Errorf("no shim socket in %s", env.ShimSocketDir)
		}
	}
	if err := task.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var status containerd.ExitStatus
	select {
	case status = <-exited:
	case <-ctx.Done():
		t.Fatal("task did not exit")
	}
	if _, err := task.Delete(ctx); err != nil {
		t.Errorf("delete task: %v", err)
	}
	if status.ExitCode() != 3 {
		t.Errorf("exit code %d, want 3 (%v)", status.ExitCode(), status.Error())
	}
	if !strings.Contains(stdout.String(), "gVisor") {
		t.Errorf("stdout %q: not gVisor's dmesg", stdout.String())
	}
	if stderr.String() != "to-stderr\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}
