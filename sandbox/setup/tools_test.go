package setup

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// realTools is the machine's tools dir, where Ensure keeps the pinned
// binaries that these tests read.
func realTools(t *testing.T) *Env {
	t.Helper()
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestBuiltAs(t *testing.T) {
	env := realTools(t)
	if env.Containerd == debianContainerd {
		t.Fatal("containerd is Debian's fallback: the pinned build is missing")
	}
	tests := []struct {
		path string
		t    tool
		want bool
	}{
		{env.Containerd, containerdTool, true},
		{env.Shim, shimTool, true},
		{env.Runsc, runscTool, true},
		{env.Runsc, containerdTool, false},
		{env.Containerd, runscTool, false},
		{env.Runsc, tool{Package: runscTool.Package, Version: "v0.0.0-20250101000000-000000000000"}, false},
		// The containerd binary here was built with cgo: it is not the
		// CGO_ENABLED=0 build a tool may ask for.
		{env.Containerd, tool{Package: containerdTool.Package, Version: ContainerdPin, NoCgo: true}, false},
		{"/bin/sh", runscTool, false},
		{"/nonexistent", runscTool, false},
	}
	for _, tt := range tests {
		if got := builtAs(tt.path, tt.t); got != tt.want {
			t.Errorf("builtAs(%s, %s@%s nocgo=%v) = %v", tt.path, tt.t.Package, tt.t.Version, tt.t.NoCgo, got)
		}
	}
}

// TestCurrent covers the decisions that avoid or force a rebuild, on a
// copy of the real runsc in a scratch tools dir.
func TestCurrent(t *testing.T) {
	env := realTools(t)
	tools := t.TempDir()
	bin := filepath.Join(tools, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	runsc := filepath.Join(bin, "runsc")
	if err := exec.Command("cp", env.Runsc, runsc).Run(); err != nil {
		t.Fatal(err)
	}
	s := &installer{cfg: Config{Exec: (*exec.Cmd).Run}, env: &Env{ToolsDir: tools}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// Unstamped but identified by its build info: adopted.
	st, ok := s.current(t.Context(), stampFile{}, runscTool)
	if !ok || st.Source != sourceAdopted || st.Version != RunscPin || st.Path != runsc {
		t.Fatalf("adoption: %+v %v", st, ok)
	}
	stamps := stampFile{Tools: map[string]stamp{"runsc": st}}
	// Stamped and untouched: current, no build info read needed.
	if got, ok := s.current(t.Context(), stamps, runscTool); !ok || got != st {
		t.Errorf("stamped: %+v %v", got, ok)
	}
	// A new pin makes the stamp stale, and the binary's build info does not
	// match the new pin either: rebuild.
	newPin := runscTool
	newPin.Version = "v0.0.0-20270101000000-000000000000"
	if _, ok := s.current(t.Context(), stamps, newPin); ok {
		t.Error("a changed pin did not ask for a rebuild")
	}
	// A binary replaced by something else: rebuild.
	if err := os.WriteFile(runsc, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.current(t.Context(), stamps, runscTool); ok {
		t.Error("a replaced binary was trusted")
	}
	// A missing binary: rebuild.
	os.Remove(runsc)
	if _, ok := s.current(t.Context(), stamps, runscTool); ok {
		t.Error("a missing binary was trusted")
	}
}

func TestStampUnchanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(p, []byte("12345"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := newStamp(runscTool, RunscPin, sourceGo, p)
	if err != nil {
		t.Fatal(err)
	}
	if !st.unchanged() {
		t.Fatal("fresh stamp reads as changed")
	}
	later := st.ModTime.Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if st.unchanged() {
		t.Error("new mtime not noticed")
	}
	st, _ = newStamp(runscTool, RunscPin, sourceGo, p)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if st.unchanged() {
		t.Error("non-executable binary trusted")
	}
}

func TestStampsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := stampPath(dir)
	st, err := readStamps(path)
	if err != nil || len(st.Tools) != 0 {
		t.Fatalf("missing file: %+v %v", st, err)
	}
	want := stampFile{Tools: map[string]stamp{"runsc": {Wanted: RunscPin, Version: RunscPin, Source: sourceGo, Path: "/x", Size: 3, ModTime: time.Unix(5, 6).UTC()}}}
	if err := writeStamps(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readStamps(path)
	if err != nil || got.Tools["runsc"] != want.Tools["runsc"] {
		t.Errorf("round trip: %+v %v", got, err)
	}
	// A damaged file means "nothing stamped", not a failed setup.
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = readStamps(path)
	if err != nil || got.Tools == nil || len(got.Tools) != 0 {
		t.Errorf("damaged file: %+v %v", got, err)
	}
}
