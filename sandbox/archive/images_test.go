package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testImage builds a small image of layers random layers for a platform,
// with a config the tests can recognise. oci picks OCI media types.
func testImage(t testing.TB, arch string, layers int, layerSize int64, oci bool) v1.Image {
	t.Helper()
	src := rand.NewSource(int64(layers)*7919 + layerSize + int64(len(arch)))
	mt := types.DockerLayer
	if oci {
		mt = types.OCILayer
	}
	img := empty.Image
	for range layers {
		l, err := random.Layer(layerSize, mt, random.WithSource(src))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Entrypoint = []string{"/bin/sh", "-c"}
	cf.Config.Cmd = []string{"echo " + arch}
	cf.Config.Env = []string{"PATH=/bin", "ARCH=" + arch}
	cf.Config.User = "1000:1000"
	cf.Config.WorkingDir = "/work"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if oci {
		img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	return img
}

// layoutEntry is one thing to put in an OCI layout's index.json.
type layoutEntry struct {
	img  v1.Image
	idx  v1.ImageIndex
	ref  string
	plat *v1.Platform
}

// ociLayout writes an OCI layout directory.
func ociLayout(t testing.TB, entries ...layoutEntry) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var opts []layout.Option
		if e.ref != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": e.ref}))
		}
		if e.plat != nil {
			opts = append(opts, layout.WithPlatform(*e.plat))
		}
		if e.img != nil {
			err = p.AppendImage(e.img, opts...)
		} else {
			err = p.AppendIndex(e.idx, opts...)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tarDir makes an OCI archive of a layout directory, entries in name
// order; edit, if not nil, may change or drop (nil) each file's content.
func tarDir(t testing.TB, dir string, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var ents []tarEnt
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			if data = edit(n, data); data == nil {
				continue
			}
		}
		ents = append(ents, tarEnt{name: n, body: data})
	}
	return makeTar(t, ents...)
}

// tarEnt is an entry of a hand-made tar; typ 0 is a regular file.
type tarEnt struct {
	name string
	typ  byte
	body []byte
	link string
}

func makeTar(t testing.TB, ents ...tarEnt) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.link, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dockerArchive writes what go-containerregistry's tarball writes: a
// docker archive with compressed layers named by digest.
func dockerArchive(t testing.TB, tag string, img v1.Image) []byte {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.Write(ref, img, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// legacySave writes an image as `docker save` did before Docker 25:
// <hex>.json config, <id>/layer.tar uncompressed layers, and a layer seen
// a second time as a symlink to its first copy.
func legacySave(t testing.TB, tags []string, img v1.Image) []byte {
	t.Helper()
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cname, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	ents := []tarEnt{{name: cname.Hex + ".json", body: cfg}}
	var paths []string
	seen := map[v1.Hash]string{}
	for i, l := range ls {
		dir := fmt.Sprintf("%04x", i)
		p := dir + "/layer.tar"
		ents = append(ents, tarEnt{name: dir + "/", typ: tar.TypeDir})
		paths = append(paths, p)
		diffID, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		if first, ok := seen[diffID]; ok {
			ents = append(ents, tarEnt{name: p, typ: tar.TypeSymlink, link: "../" + first})
			continue
		}
		seen[diffID] = p
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, tarEnt{name: p, body: b})
	}
	ents = append(ents, tarEnt{name: "manifest.json", body: manifestJSON(t, cname.Hex+".json", tags, paths)})
	return makeTar(t, ents...)
}

func manifestJSON(t testing.TB, config string, tags, layers []string) []byte {
	t.Helper()
	b, err := json.Marshal([]map[string]any{{"Config": config, "RepoTags": tags, "Layers": layers}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
