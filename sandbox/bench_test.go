package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/sandbox"
)

// BenchmarkRun times one detonation of an image that exits at once, split
// into its phases, beside a bare `runsc run` of the same root filesystem:
// the difference is what containerd, the shim and the trace cost.
func BenchmarkRun(b *testing.B) {
	const script = "exit 0"
	src := shellImage(b, "bench", script)

	for _, mode := range []string{sandbox.NetworkSinkhole, sandbox.NetworkNone} {
		b.Run("sandscan-"+mode, func(b *testing.B) { benchDetonate(b, src, mode) })
	}

	b.Run("bare-runsc", func(b *testing.B) {
		if _, err := testRuntime(); err != nil {
			b.Fatal(err)
		}
		bundle := bareBundle(b, script)
		stateRoot := b.TempDir()
		for i := 0; b.Loop(); i++ {
			cmd := exec.Command(env.Runsc, "--root="+stateRoot, "--network=none", "--platform="+env.Platform,
				"--overlay2=none", "run", "--bundle", bundle, fmt.Sprintf("bare-%d-%d", os.Getpid(), i))
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("runsc run: %v: %s", err, out)
			}
		}
	})
}

func benchDetonate(b *testing.B, src sandbox.Source, mode string) {
	sb := newSandbox(b)
	ctx := context.Background()
	var imp, create, start, run, teardown time.Duration
	for b.Loop() {
		t := time.Now()
		img, err := sb.Import(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		imp += time.Since(t)
		r, err := sb.Run(ctx, img, sandbox.WithNetwork(mode))
		if err != nil {
			b.Fatal(err)
		}
		create += r.Timings.Create.Std()
		start += r.Timings.Start.Std()
		run += r.Timings.Run.Std()
		teardown += r.Timings.Teardown.Std()
	}
	n := float64(b.N)
	b.ReportMetric(float64(imp.Milliseconds())/n, "import-ms/op")
	b.ReportMetric(float64(create.Milliseconds())/n, "create-ms/op")
	b.ReportMetric(float64(start.Milliseconds())/n, "start-ms/op")
	b.ReportMetric(float64(run.Milliseconds())/n, "run-ms/op")
	b.ReportMetric(float64(teardown.Milliseconds())/n, "teardown-ms/op")
}

// bareBundle writes an OCI bundle (config.json and rootfs) of the same
// busybox image shellImage builds.
func bareBundle(b *testing.B, script string) string {
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{Name: "bare", Files: imagebuild.BusyboxBase("/bin/busybox")})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		b.Fatal(err)
	}
	tarPath := filepath.Join(dir, "rootfs.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		b.Fatal(err)
	}
	rc := mutate.Extract(img)
	_, err = f.ReadFrom(rc)
	rc.Close()
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	// The image is ours and trusted; tar unpacks it faster than Go would.
	if out, err := exec.Command("tar", "-xf", tarPath, "-C", rootfs).CombinedOutput(); err != nil {
		b.Fatalf("untar: %v: %s", err, out)
	}
	spec := specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{
			Args: []string{"/bin/sh", "-c", script},
			Env:  []string{"PATH=/bin"},
			Cwd:  "/",
		},
		Hostname: "bare",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}},
	}
	js, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}
