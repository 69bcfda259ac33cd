package corpus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sandscan/sandscan/internal/testenv"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// TestGenerateDetonates builds two variants, runs them in the real
// sandbox and checks the stored runs show what defines them.
func TestGenerateDetonates(t *testing.T) {
	env := testenv.Setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.RuntimeOf(env))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	out := t.TempDir()
	cfg := Config{Out: out, CacheDir: t.TempDir(), Busybox: "/bin/busybox", ModuleRoot: "../..",
		Only: []string{"escape-go-01", "benign-go-batch-01"}}
	if err := Generate(ctx, sb, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Runs) != 2 {
		t.Fatalf("manifest lists %d runs, want 2: %+v", len(m.Runs), m.Runs)
	}
	runs := map[string]*trace.Run{}
	for _, e := range m.Runs {
		r, err := ReadRun(out, e)
		if err != nil {
			t.Fatal(err)
		}
		runs[e.Name] = r
	}

	esc := runs["escape-go-01"]
	var syscalls []string
	for _, e := range esc.Events {
		if e.Syscall != "" {
			syscalls = append(syscalls, e.Syscall)
		}
	}
	for _, want := range []string{"mount", "unshare"} {
		if !slices.Contains(syscalls, want) {
			t.Errorf("escape run: no %s call among %d syscall events", want, len(syscalls))
		}
	}
	if esc.Image.Ref != "sandscan.corpus/escape-go-01:latest" {
		t.Errorf("escape run image ref = %q", esc.Image.Ref)
	}

	batch := runs["benign-go-batch-01"]
	if batch.Exit.Code != 0 || batch.Exit.TimedOut {
		t.Errorf("batch run exit = %+v, stdout %q", batch.Exit, batch.Stdout.Data)
	}
	if !slices.ContainsFunc(batch.Files, func(f trace.FileChange) bool { return f.Path == "/var/tmp/result.txt" }) {
		t.Errorf("batch run: /var/tmp/result.txt not in the fs diff %+v", batch.Files)
	}

	// A second generation keeps the stored runs.
	before := runs["benign-go-batch-01"].ID
	if err := Generate(ctx, sb, cfg); err != nil {
		t.Fatal(err)
	}
	again, err := ReadRun(out, m.Runs[0])
	if err != nil {
		t.Fatal(err)
	}
	if m.Runs[0].Name == "benign-go-batch-01" && again.ID != before {
		t.Error("a stored run was detonated again without -force")
	}
}
