package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func buildAndWrite(t *testing.T, spec Spec, dir string) (oci, docker string) {
	t.Helper()
	img, err := Build(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	oci, docker = filepath.Join(dir, "img.tar"), filepath.Join(dir, "img.docker.tar")
	if err := WriteOCIArchive(oci, img, spec.Ref); err != nil {
		t.Fatal(err)
	}
	if err := WriteDockerArchive(docker, img, spec.Ref); err != nil {
		t.Fatal(err)
	}
	return oci, docker
}

func TestArchivesDeterministic(t *testing.T) {
	spec := testSpec(t)
	a1, d1 := buildAndWrite(t, spec, t.TempDir())
	a2, d2 := buildAndWrite(t, spec, t.TempDir())
	for _, pair := range [][2]string{{a1, a2}, {d1, d2}} {
		b1, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		b2, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s and %s differ: the same spec must give the same bytes", pair[0], pair[1])
		}
	}
	spec.Config.Env = append(spec.Config.Env, "EXTRA=1")
	a3, _ := buildAndWrite(t, spec, t.TempDir())
	b1, _ := os.ReadFile(a1)
	b3, _ := os.ReadFile(a3)
	if bytes.Equal(b1, b3) {
		t.Error("a different config gave the same archive")
	}
}

func TestOCIArchiveLayout(t *testing.T) {
	spec := testSpec(t)
	oci, _ := buildAndWrite(t, spec, t.TempDir())

	// The tar's own structure: sorted names, fixed times, root owner.
	f, err := os.Open(oci)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, _ := readTar(t, f)
	f.Close()
	var prev string
	for _, h := range hdrs {
		if h.Name <= prev || !h.ModTime.Equal(epoch) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("entry %s (after %s): mtime %v uid %d gid %d", h.Name, prev, h.ModTime, h.Uid, h.Gid)
		}
		prev = h.Name
	}

	// Read it back with go-containerregistry's layout reader.
	dir := t.TempDir()
	untar(t, oci, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	if d.Annotations[AnnotationRefName] != spec.Ref || d.Annotations[AnnotationContainerdName] != spec.Ref {
		t.Errorf("annotations %v, want both names %s", d.Annotations, spec.Ref)
	}
	if d.Platform == nil || d.Platform.OS != "linux" {
		t.Errorf("platform %+v", d.Platform)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Entrypoint[0] != "/usr/local/bin/demo" || cf.Config.WorkingDir != "/root" {
		t.Errorf("config %+v", cf.Config)
	}
	checkFilesystem(t, img)
}

// checkFilesystem flattens an image and checks files from both layers.
func checkFilesystem(t *testing.T, img v1.Image) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	hdrs, data := readTar(t, rc)
	byName := map[string]*tar.Header{}
	for _, h := range hdrs {
		byName[h.Name] = h
	}
	if data["usr/local/bin/demo"] != "#!/bin/sh\necho hi\n" || byName["usr/local/bin/demo"].Mode != 0o755 {
		t.Errorf("usr/local/bin/demo missing or wrong: %+v", byName["usr/local/bin/demo"])
	}
	if data["etc/os-release"] != "ID=test\n" {
		t.Errorf("etc/os-release = %q", data["etc/os-release"])
	}
	// mutate.Extract drops relative links that climb out of the root
	// (etc/rel-link); absolute ones resolve inside the container.
	if h := byName["etc/abs-link"]; h == nil || h.Typeflag != tar.TypeSymlink || !filepath.IsAbs(h.Linkname) {
		t.Errorf("etc/abs-link = %+v", h)
	}
}

func TestDockerArchiveReadBack(t *testing.T) {
	spec := testSpec(t)
	_, docker := buildAndWrite(t, spec, t.TempDir())
	tag, err := name.NewTag(spec.Ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(docker, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Config.Env) != 2 || cf.Config.User != "root" {
		t.Errorf("config %+v", cf.Config)
	}
	checkFilesystem(t, img)
}

// TestContainerdImport feeds both archives through containerd's own
// importer (what client.Import runs) into a real local content store and
// resolves the image the way containerd does before unpacking it.
func TestContainerdImport(t *testing.T) {
	spec := testSpec(t)
	oci, docker := buildAndWrite(t, spec, t.TempDir())
	for _, path := range []string{oci, docker} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx := context.Background()
			store, err := local.NewStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			desc, err := archive.ImportIndex(ctx, store, f)
			if err != nil {
				t.Fatal(err)
			}
			var idx ocispec.Index
			if err := readJSON(ctx, store, desc, &idx); err != nil {
				t.Fatal(err)
			}
			if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[images.AnnotationImageName] != spec.Ref {
				t.Fatalf("index manifests %+v; want one named %s", idx.Manifests, spec.Ref)
			}
			m, err := images.Manifest(ctx, store, desc, platforms.Default())
			if err != nil {
				t.Fatal(err)
			}
			diffIDs, err := images.RootFS(ctx, store, m.Config)
			if err != nil {
				t.Fatal(err)
			}
			if len(diffIDs) != 2 || len(m.Layers) != 2 {
				t.Errorf("%d diff ids, %d layers; want 2", len(diffIDs), len(m.Layers))
			}
			for _, l := range m.Layers {
				if _, err := store.Info(ctx, l.Digest); err != nil {
					t.Errorf("layer %s not in the store: %v", l.Digest, err)
				}
			}
		})
	}
}

func readJSON(ctx context.Context, store content.Provider, desc ocispec.Descriptor, v any) error {
	b, err := content.ReadBlob(ctx, store, desc)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func untar(t *testing.T, archivePath, dir string) {
	t.Helper()
	f, err := os.Open(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWriteArchiveErrors(t *testing.T) {
	img, err := Build(context.Background(), Spec{Name: "x", Files: []File{{Path: "/a", Content: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteOCIArchive(filepath.Join(dir, "a.tar"), img, "Not A Ref"); err == nil {
		t.Error("OCI archive accepted a bad reference")
	}
	if err := WriteDockerArchive(filepath.Join(dir, "b.tar"), img, "sandscan.test/x@sha256:"+string(bytes.Repeat([]byte("0"), 64))); err == nil {
		t.Error("docker archive accepted a digest reference")
	}
	if err := WriteOCIArchive(filepath.Join(dir, "missing", "c.tar"), img, "sandscan.test/x:latest"); err == nil {
		t.Error("wrote into a missing directory")
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("failed writes left files behind: %v", left)
	}
}
