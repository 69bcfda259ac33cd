package eval

import (
	"archive/tar"
	"context"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/archive"
)

// fakeRootfs stands in for a debootstrap tree.
func fakeRootfs(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "root"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/debian_version"), []byte("12.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// layoutImage opens the one image of an OCI layout the way the sandbox
// will: through the archive inspector first.
func layoutImage(t *testing.T, src sandbox.Source) v1.Image {
	t.Helper()
	if src.Kind != sandbox.OCIDir {
		t.Fatalf("source kind %s", src.Kind)
	}
	info, err := archive.InspectDir(src.Path, src.Ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", src.Path, err)
	}
	p, err := layout.FromPath(src.Path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1.NewHash(info.ManifestDigest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// layerFiles reads one layer's regular files and symlinks.
func layerFiles(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestDebianImages(t *testing.T) {
	ctx := context.Background()
	im := NewImages(t.TempDir(), "/bin/busybox", nil)
	root := fakeRootfs(t)
	base, err := im.DebianBase(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Layers) != 1 {
		t.Fatalf("base has %d layers", len(base.Layers))
	}
	again, err := im.DebianBase(ctx, root)
	if err != nil || again.Layout != base.Layout {
		t.Fatalf("second DebianBase = %v, %v; want the cached %s", again, err, base.Layout)
	}

	test := Test{ID: "A07", Kind: KindAtomic, Shell: "bash", Rootfs: RootfsDebian, Command: "crontab /tmp/x"}
	src, err := im.TestImage(ctx, test, base, DefaultKeepAlive)
	if err != nil {
		t.Fatal(err)
	}
	img := layoutImage(t, src)
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("%d layers, %v; want base + test", len(layers), err)
	}
	bd, _ := base.Layers[0].Digest()
	if d, _ := layers[0].Digest(); d != bd {
		t.Errorf("first layer %s, want the base's %s", d, bd)
	}
	// The big blob is shared with the base layout, not copied.
	blob := filepath.Join("blobs", bd.Algorithm, bd.Hex)
	if inode(t, filepath.Join(src.Path, blob)) != inode(t, filepath.Join(base.Layout, blob)) {
		t.Error("base blob copied into the test layout, not linked")
	}
	// The diff id handed out for the base without reading it must be the
	// one its content has.
	raw, err := layout.FromPath(base.Layout)
	if err != nil {
		t.Fatal(err)
	}
	rawIdx, _ := raw.ImageIndex()
	rawMan, _ := rawIdx.IndexManifest()
	rawImg, err := raw.Image(rawMan.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rawLayers, _ := rawImg.Layers()
	wantDiff, err := rawLayers[0].DiffID()
	if err != nil {
		t.Fatal(err)
	}
	if cf, err := img.ConfigFile(); err != nil || cf.RootFS.DiffIDs[0] != wantDiff {
		t.Errorf("test image diff ids %v, %v; base layer's is %s", cf.RootFS.DiffIDs, err, wantDiff)
	}
	files := layerFiles(t, layers[1])
	h := files["opt/sandscan/test.sh"]
	if h == nil || h.Mode&0o111 == 0 {
		t.Fatalf("test layer: %v", files)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if ep := cf.Config.Entrypoint; len(ep) != 3 || ep[2] != "/bin/bash "+ScriptPath+"; sleep 3" || cf.Config.WorkingDir != "/root" {
		t.Errorf("config %+v", cf.Config)
	}

	if err := im.Remove(test); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src.Path); !os.IsNotExist(err) {
		t.Errorf("layout still there after Remove: %v", err)
	}
	if _, err := im.TestImage(ctx, test, nil, 0); err == nil {
		t.Error("Debian test without a base: no error")
	}
}

// TestBusyboxImageWithGoBuild builds a busybox control whose program is
// compiled from the corpus's source: a static binary, every applet linked.
func TestBusyboxImageWithGoBuild(t *testing.T) {
	ctx := context.Background()
	im := NewImages(t.TempDir(), "/bin/busybox", nil)
	test := Test{ID: "B06", Kind: KindControl, Shell: "sh", Rootfs: RootfsBusybox, Command: "/usr/local/bin/hello",
		Build: &GoBuild{Output: "/usr/local/bin/hello", Module: "example.invalid/hello",
			Sources: map[string]string{"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hi\\n\") }\n"}}}
	src, err := im.TestImage(ctx, test, nil, DefaultKeepAlive)
	if err != nil {
		t.Fatal(err)
	}
	img := layoutImage(t, src)
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	files := layerFiles(t, layers[0])
	for _, p := range []string{"bin/busybox", "bin/sh", "usr/bin/wget", "usr/sbin/httpd", "opt/sandscan/test.sh", "usr/local/bin/hello"} {
		if files[p] == nil {
			t.Errorf("image lacks %s", p)
		}
	}

	// The same build on its own, to look at the binary.
	bin := filepath.Join(t.TempDir(), "hello")
	if err := BuildGo(ctx, test.Build, bin); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has an ELF interpreter: not static")
		}
	}
	bad := &GoBuild{Output: "/x", Module: "example.invalid/bad", Sources: map[string]string{"main.go": "package main\nimport \"example.com/nowhere\"\n"}}
	if err := BuildGo(ctx, bad, filepath.Join(t.TempDir(), "bad")); err == nil {
		t.Error("a build that needs a download succeeded offline")
	}
}

func TestRefName(t *testing.T) {
	for in, want := range map[string]string{"A07": "a07", "B01": "b01", "ee72b37d-b8f5": "ee72b37d-b8f5", "../x y": "x-y", "": "test"} {
		if got := refName(in); got != want {
			t.Errorf("refName(%q) = %q, want %q", in, got, want)
		}
	}
}
