package imagebuild

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func testSpec(t *testing.T) Spec {
	t.Helper()
	root, _ := makeRootfs(t)
	return Spec{
		Name:  "demo",
		Ref:   "sandscan.test/demo:latest",
		Dirs:  []string{root},
		Files: []File{{Path: "/usr/local/bin/demo", Content: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755}},
		Config: Config{
			Entrypoint: []string{"/usr/local/bin/demo"},
			Cmd:        []string{"--fast"},
			Env:        []string{"PATH=/usr/local/bin:/bin", "AWS_SECRET_ACCESS_KEY=example"},
			WorkingDir: "/root",
			User:       "root",
			Labels:     map[string]string{"sandscan.behaviour": "demo"},
		},
	}
}

func TestBuildConfig(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, spec.Config.Entrypoint) || !slices.Equal(c.Cmd, spec.Config.Cmd) ||
		!slices.Equal(c.Env, spec.Config.Env) || c.WorkingDir != "/root" || c.User != "root" ||
		c.Labels["sandscan.behaviour"] != "demo" {
		t.Errorf("config = %+v, want the spec's", c)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH || !cf.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("os/arch/created = %s/%s/%v", cf.OS, cf.Architecture, cf.Created.Time)
	}
	if len(cf.RootFS.DiffIDs) != 2 || len(cf.History) != 2 || cf.History[1].CreatedBy != "sandscan imagebuild: files" {
		t.Errorf("rootfs %v history %+v; want 2 layers: directory then files", cf.RootFS.DiffIDs, cf.History)
	}
	mt, err := img.MediaType()
	if err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, %v", mt, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("config media type %s", m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer media type %s", l.MediaType)
		}
	}
}

// TestBuildPrebuiltLayers stacks a finished image's layers under new files:
// the shared layers must come through unchanged, so a runtime stores them once.
func TestBuildPrebuiltLayers(t *testing.T) {
	base, err := Build(context.Background(), testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	baseLayers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	img, err := Build(context.Background(), Spec{
		Name:   "on-base",
		Layers: baseLayers,
		Files:  []File{{Path: "/opt/run.sh", Content: []byte("echo on base\n"), Mode: 0o755}},
	})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != len(baseLayers)+1 {
		t.Fatalf("%d layers, want %d", len(layers), len(baseLayers)+1)
	}
	for i, l := range baseLayers {
		want, _ := l.Digest()
		got, err := layers[i].Digest()
		if err != nil || got != want {
			t.Errorf("layer %d = %v, %v; want the prebuilt %v", i, got, err, want)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.History) != 3 || cf.History[0].CreatedBy != "sandscan imagebuild: prebuilt layer" {
		t.Errorf("history %+v", cf.History)
	}
	if _, err := Build(context.Background(), Spec{Name: "nil", Layers: []v1.Layer{nil}}); err == nil {
		t.Error("nil layer: no error")
	}
}

func TestBuildErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		spec Spec
	}{
		{"empty spec", context.Background(), Spec{Name: "x"}},
		{"cancelled", cancelled, Spec{Name: "x", Files: []File{{Path: "/a", Content: []byte("a")}}}},
		{"missing dir", context.Background(), Spec{Name: "x", Dirs: []string{"/nonexistent/sandscan-test"}}},
		{"bad file", context.Background(), Spec{Name: "x", Files: []File{{Path: "/", Dir: true}}}},
	}
	for _, tt := range tests {
		if _, err := Build(tt.ctx, tt.spec); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
