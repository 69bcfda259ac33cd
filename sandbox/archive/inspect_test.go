package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func inspectBytes(b []byte, opts ...Option) (*Info, error) {
	return Inspect(bytes.NewReader(b), int64(len(b)), opts...)
}

// must is for building test inputs, where an error is the test's bug.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// imageSize is what Info.Size should say of an image.
func imageSize(t testing.TB, img v1.Image) int64 {
	m := must(img.Manifest())
	raw := must(img.RawManifest())
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

func TestInspectOCI(t *testing.T) {
	img := testImage(t, "amd64", 2, 300, true)
	b := tarDir(t, ociLayout(t, layoutEntry{img: img, ref: "app:v1"}), nil)
	info, err := inspectBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Info{
		Format:                 FormatOCI,
		Refs:                   []string{"app:v1"},
		Ref:                    "app:v1",
		ManifestDigest:         must(img.Digest()).String(),
		PlatformManifestDigest: must(img.Digest()).String(),
		ConfigDigest:           must(img.ConfigName()).String(),
		Platform:               "linux/amd64",
		Config: Config{
			Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo amd64"}, Env: []string{"PATH=/bin", "ARCH=amd64"},
			User: "1000:1000", WorkingDir: "/work", OS: "linux", Architecture: "amd64",
		},
		Layers: 2,
		Size:   imageSize(t, img),
	}
	if g, w := mustJSON(t, info), mustJSON(t, want); g != w {
		t.Errorf("info:\n got %s\nwant %s", g, w)
	}
}

func TestInspectMultiPlatform(t *testing.T) {
	amd := testImage(t, "amd64", 1, 100, true)
	arm := testImage(t, "arm64", 1, 100, true)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	// An index inside the index, as some tools write.
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx})
	for _, tt := range []struct {
		name  string
		entry layoutEntry
		want  string
	}{
		{"index", layoutEntry{idx: idx, ref: "multi"}, must(idx.Digest()).String()},
		{"nested index", layoutEntry{idx: outer, ref: "multi"}, must(outer.Digest()).String()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tarDir(t, ociLayout(t, tt.entry), nil)
			info, err := inspectBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if info.ManifestDigest != tt.want || info.PlatformManifestDigest != must(amd.Digest()).String() ||
				info.Platform != "linux/amd64" || info.Config.Cmd[0] != "echo amd64" {
				t.Errorf("info = %+v", info)
			}
			info, err = inspectBytes(b, WithPlatform("linux", "arm64", ""))
			if err != nil || info.PlatformManifestDigest != must(arm.Digest()).String() {
				t.Errorf("arm64: %+v %v", info, err)
			}
			_, err = inspectBytes(b, WithPlatform("linux", "s390x", ""))
			if !errors.Is(err, ErrPlatform) || !strings.Contains(err.Error(), "linux/arm64, linux/amd64") {
				t.Errorf("s390x: err = %v", err)
			}
			_, err = inspectBytes(b, WithLimits(Limits{MaxDepth: 1}))
			if tt.name == "nested index" && !errors.Is(err, ErrTooLarge) {
				t.Errorf("depth 1: err = %v", err)
			}
		})
	}
}

func TestInspectTags(t *testing.T) {
	a := testImage(t, "amd64", 1, 100, true)
	b := testImage(t, "amd64", 2, 100, true)
	dir := ociLayout(t, layoutEntry{img: a, ref: "docker.io/library/app:v1"}, layoutEntry{img: b, ref: "v2"})
	ar := tarDir(t, dir, nil)
	for _, tt := range []struct {
		tag  string
		want v1.Image
		ref  string
	}{
		{"", a, "docker.io/library/app:v1"},
		{"v1", a, "docker.io/library/app:v1"},
		{"docker.io/library/app:v1", a, "docker.io/library/app:v1"},
		{"v2", b, "v2"},
	} {
		for how, info := range map[string]func() (*Info, error){
			"archive": func() (*Info, error) { return inspectBytes(ar, WithTag(tt.tag)) },
			"dir":     func() (*Info, error) { return InspectDir(dir, tt.tag) },
		} {
			got, err := info()
			if err != nil {
				t.Fatalf("%s %q: %v", how, tt.tag, err)
			}
			if got.ManifestDigest != must(tt.want.Digest()).String() || got.Ref != tt.ref ||
				!slices.Equal(got.Refs, []string{"docker.io/library/app:v1", "v2"}) {
				t.Errorf("%s %q: %+v", how, tt.tag, got)
			}
		}
	}
	for _, tag := range []string{"v3", "app", "library/app:v1x"} {
		if _, err := inspectBytes(ar, WithTag(tag)); !errors.Is(err, ErrNotFound) {
			t.Errorf("tag %q: err = %v", tag, err)
		}
	}
}

func TestInspectDocker(t *testing.T) {
	img := testImage(t, "amd64", 3, 200, false)
	for _, tt := range []struct {
		name string
		b    []byte
		refs []string
	}{
		{"go-containerregistry tarball", dockerArchive(t, "registry.test/app:v1", img), []string{"registry.test/app:v1"}},
		{"legacy docker save", legacySave(t, []string{"app:latest", "app:v1"}, img), []string{"app:latest", "app:v1"}},
		{"legacy docker save, shared layer symlink", legacySave(t, []string{"app:dup"},
			must(mutate.AppendLayers(img, must(img.Layers())[0]))), []string{"app:dup"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := inspectBytes(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != FormatDocker || !slices.Equal(info.Refs, tt.refs) || info.Ref != tt.refs[0] ||
				!strings.HasPrefix(info.ManifestDigest, "sha256:") || info.ManifestDigest != info.PlatformManifestDigest ||
				info.Config.WorkingDir != "/work" || info.Platform != "linux/amd64" {
				t.Errorf("info = %+v", info)
			}
			if tt.name != "legacy docker save, shared layer symlink" {
				if info.ConfigDigest != must(img.ConfigName()).String() || info.Layers != 3 {
					t.Errorf("config %s layers %d", info.ConfigDigest, info.Layers)
				}
			} else if info.Layers != 4 {
				t.Errorf("layers %d", info.Layers)
			}
		})
	}
}

func TestInspectFileAndDir(t *testing.T) {
	img := testImage(t, "amd64", 1, 100, true)
	dir := ociLayout(t, layoutEntry{img: img})
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := os.WriteFile(p, tarDir(t, dir, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, err := InspectFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := InspectDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, fromFile) != mustJSON(t, fromDir) || fromDir.ManifestDigest != must(img.Digest()).String() {
		t.Errorf("file %+v\ndir %+v", fromFile, fromDir)
	}
	if _, err := InspectFile(dir); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("a directory as a file: err = %v", err)
	}

	// A layout directory whose blobs are a symlink to elsewhere.
	evil := ociLayout(t, layoutEntry{img: img})
	moved := t.TempDir()
	if err := os.Rename(filepath.Join(evil, "blobs"), filepath.Join(moved, "blobs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(moved, "blobs"), filepath.Join(evil, "blobs")); err != nil {
		t.Fatal(err)
	}
	if _, err := InspectDir(evil, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("symlinked blobs: err = %v", err)
	}
	// The same, inside the layout.
	if err := os.Remove(filepath.Join(evil, "blobs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(moved, "blobs"), filepath.Join(evil, "real")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(evil, "blobs")); err != nil {
		t.Fatal(err)
	}
	if _, err := InspectDir(evil, ""); !errors.Is(err, ErrUnsafe) {
		t.Errorf("symlinked blobs inside: err = %v", err)
	}
	if _, err := InspectDir(t.TempDir(), ""); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty dir: err = %v", err)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	return string(must(json.Marshal(v)))
}

// editJSON rewrites a JSON document through a generic map.
func editJSON(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return must(json.Marshal(m))
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 0x20
	return c
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestInspectRejects(t *testing.T) {
	img := testImage(t, "amd64", 2, 200, true)
	man := "blobs/sha256/" + must(img.Digest()).Hex
	cfg := "blobs/sha256/" + must(img.ConfigName()).Hex
	lay := "blobs/sha256/" + must(img.Manifest()).Layers[0].Digest.Hex
	dir := ociLayout(t, layoutEntry{img: img, ref: "app"})
	good := tarDir(t, dir, nil)
	edit := func(target string, f func([]byte) []byte) []byte {
		return tarDir(t, dir, func(n string, b []byte) []byte {
			if n == target {
				return f(b)
			}
			return b
		})
	}
	index := func(f func(m map[string]any)) []byte {
		return edit("index.json", func(b []byte) []byte { return editJSON(t, b, f) })
	}
	desc0 := func(f func(d map[string]any)) []byte {
		return index(func(m map[string]any) { f(m["manifests"].([]any)[0].(map[string]any)) })
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	idxJSON := func(t testing.TB) []byte { return must(os.ReadFile(filepath.Join(dir, "index.json"))) }

	dockerImg := testImage(t, "amd64", 2, 200, false)
	dockerGood := legacySave(t, []string{"app:v1"}, dockerImg)
	dockerEdit := func(f func(ents []tarEnt) []tarEnt) []byte {
		return makeTar(t, f(readTar(t, dockerGood))...)
	}
	otherMedia := tarDir(t, ociLayout(t, layoutEntry{img: mutate.ConfigMediaType(img, "application/vnd.example.thing+json")}), nil)
	oddLayer := must(mutate.AppendLayers(empty.Image, must(random.Layer(10, "application/x-strange"))))
	cf := must(oddLayer.ConfigFile()).DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	oddLayer = must(mutate.ConfigFile(oddLayer, cf))
	arm := testImage(t, "arm64", 1, 100, true)
	armOnly := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})

	tests := []struct {
		name string
		b    []byte
		opts []Option
		want error
	}{
		{"not a tar", []byte(strings.Repeat("not a tar archive ", 100)), nil, ErrMalformed},
		{"empty", nil, nil, ErrMalformed},
		{"truncated", good[:len(good)/2], nil, ErrMalformed},
		{"gzip-compressed", gz(t, good), nil, ErrUnsupported},
		{"absolute path", makeTar(t, tarEnt{name: "/etc/passwd", body: []byte("x")}), nil, ErrUnsafe},
		{"dot-dot path", makeTar(t, tarEnt{name: "blobs/../../x", body: []byte("x")}), nil, ErrUnsafe},
		{"duplicate names", makeTar(t, tarEnt{name: "oci-layout", body: layout}, tarEnt{name: "./oci-layout", body: layout}), nil, ErrMalformed},
		{"file below a file", makeTar(t, tarEnt{name: "a", body: []byte("x")}, tarEnt{name: "a/b", body: []byte("x")}), nil, ErrMalformed},
		{"hard link", makeTar(t, tarEnt{name: "oci-layout", body: layout}, tarEnt{name: "index.json", typ: tar.TypeLink, link: "oci-layout"}), nil, ErrUnsafe},
		{"symlink in an OCI archive", makeTar(t, tarEnt{name: "oci-layout", body: layout}, tarEnt{name: "index.json", typ: tar.TypeSymlink, link: "/etc/passwd"}), nil, ErrUnsafe},
		{"fifo", makeTar(t, tarEnt{name: "p", typ: tar.TypeFifo}), nil, ErrUnsafe},
		{"char device", makeTar(t, tarEnt{name: "c", typ: tar.TypeChar}), nil, ErrUnsafe},
		{"too many entries", good, []Option{WithLimits(Limits{MaxEntries: 3})}, ErrTooLarge},
		{"too many bytes", good, []Option{WithLimits(Limits{MaxSize: 300})}, ErrTooLarge},
		{"index.json over the JSON cap", good, []Option{WithLimits(Limits{MaxJSON: 100})}, ErrTooLarge},
		{"too many layers", good, []Option{WithLimits(Limits{MaxLayers: 1})}, ErrTooLarge},
		{"long name", makeTar(t, tarEnt{name: strings.Repeat("n", 2000), body: []byte("x")}), nil, ErrTooLarge},
		{"neither layout", makeTar(t, tarEnt{name: "readme", body: []byte("x")}), nil, ErrMalformed},
		{"layout version", edit("oci-layout", func([]byte) []byte { return []byte(`{"imageLayoutVersion":"2.0.0"}`) }), nil, ErrUnsupported},
		{"index.json not JSON", edit("index.json", func([]byte) []byte { return []byte("{") }), nil, ErrMalformed},
		{"index.json empty", edit("index.json", func([]byte) []byte { return []byte(`{"schemaVersion":2,"manifests":[]}`) }), nil, ErrMalformed},
		{"index.json schema 1", index(func(m map[string]any) { m["schemaVersion"] = 1 }), nil, ErrUnsupported},
		{"index.json missing", tarDir(t, dir, func(n string, b []byte) []byte {
			if n == "index.json" {
				return nil
			}
			return b
		}), nil, ErrMalformed},
		{"manifest blob missing", edit(man, func([]byte) []byte { return nil }), nil, ErrMalformed},
		{"manifest altered", edit(man, flipLast), nil, ErrDigest},
		{"manifest longer", edit(man, func(b []byte) []byte { return append(b, ' ') }), nil, ErrDigest},
		{"config altered", edit(cfg, flipLast), nil, ErrDigest},
		{"config missing", edit(cfg, func([]byte) []byte { return nil }), nil, ErrMalformed},
		{"layer altered", edit(lay, flipLast), nil, ErrDigest},
		{"layer missing", edit(lay, func([]byte) []byte { return nil }), nil, ErrMalformed},
		{"layer shorter", edit(lay, func(b []byte) []byte { return b[:len(b)-1] }), []Option{SkipLayerDigests()}, ErrDigest},
		{"digest algorithm", desc0(func(d map[string]any) { d["digest"] = "md5:d41d8cd98f00b204e9800998ecf8427e" }), nil, ErrUnsupported},
		{"digest with a path", desc0(func(d map[string]any) { d["digest"] = "sha256:../../../etc/passwd" }), nil, ErrMalformed},
		{"descriptor media type", desc0(func(d map[string]any) { d["mediaType"] = "application/x-unknown" }), nil, ErrUnsupported},
		{"config media type", otherMedia, nil, ErrUnsupported},
		{"layer media type", tarDir(t, ociLayout(t, layoutEntry{img: oddLayer}), nil), nil, ErrUnsupported},
		{"image for another platform", tarDir(t, ociLayout(t, layoutEntry{img: arm}), nil), nil, ErrPlatform},
		{"index without the platform", tarDir(t, ociLayout(t, layoutEntry{idx: armOnly}), nil), nil, ErrPlatform},
		{"docker: not JSON", dockerEdit(func(e []tarEnt) []tarEnt { return setEnt(e, "manifest.json", []byte("[")) }), nil, ErrMalformed},
		{"docker: no image", dockerEdit(func(e []tarEnt) []tarEnt { return setEnt(e, "manifest.json", []byte("[]")) }), nil, ErrMalformed},
		{"docker: missing layer", dockerEdit(func(e []tarEnt) []tarEnt { return dropEnt(e, "0001/layer.tar") }), nil, ErrMalformed},
		{"docker: layer not its diff id", dockerEdit(func(e []tarEnt) []tarEnt {
			return setEnt(e, "0001/layer.tar", flipLast(getEnt(e, "0001/layer.tar")))
		}), nil, ErrDigest},
		{"docker: config not its name", dockerEdit(func(e []tarEnt) []tarEnt {
			n := must(dockerImg.ConfigName()).Hex + ".json"
			return setEnt(e, n, flipLast(getEnt(e, n)))
		}), nil, ErrDigest},
		{"docker: unclean layer path", dockerEdit(func(e []tarEnt) []tarEnt {
			return setEnt(e, "manifest.json", bytes.Replace(getEnt(e, "manifest.json"), []byte(`"0000/`), []byte(`"./0000/`), 1))
		}), nil, ErrMalformed},
		{"docker: symlink out of the archive", dockerEdit(func(e []tarEnt) []tarEnt {
			return append(dropEnt(e, "0001/layer.tar"), tarEnt{name: "0001/layer.tar", typ: tar.TypeSymlink, link: "../../etc/shadow"})
		}), nil, ErrUnsafe},
		{"docker: absolute symlink", dockerEdit(func(e []tarEnt) []tarEnt {
			return append(dropEnt(e, "0001/layer.tar"), tarEnt{name: "0001/layer.tar", typ: tar.TypeSymlink, link: "/etc/shadow"})
		}), nil, ErrUnsafe},
		{"docker: symlink to a symlink", dockerEdit(func(e []tarEnt) []tarEnt {
			return append(dropEnt(e, "0001/layer.tar"), tarEnt{name: "0001/layer.tar", typ: tar.TypeSymlink, link: "../x"},
				tarEnt{name: "x", typ: tar.TypeSymlink, link: "0000/layer.tar"})
		}), nil, ErrUnsafe},
		{"docker: diff ids and layers disagree", dockerEdit(func(e []tarEnt) []tarEnt {
			n := must(dockerImg.ConfigName()).Hex
			return setEnt(e, "manifest.json", manifestJSON(t, n+".json", nil, []string{"0000/layer.tar"}))
		}), nil, ErrMalformed},
		{"docker: tag", dockerGood, []Option{WithTag("v2")}, ErrNotFound},
	}
	if _, err := inspectBytes(good); err != nil {
		t.Fatalf("the unedited archive: %v", err)
	}
	if _, err := inspectBytes(dockerGood); err != nil {
		t.Fatalf("the unedited docker archive: %v", err)
	}
	_ = idxJSON
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := inspectBytes(tt.b, tt.opts...)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v (info %+v), want %v", err, info, tt.want)
			}
			t.Log(err)
		})
	}
}

func readTar(t testing.TB, b []byte) []tarEnt {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []tarEnt
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		e := tarEnt{name: hdr.Name, typ: hdr.Typeflag, link: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg {
			var buf bytes.Buffer
			buf.ReadFrom(tr)
			e.body = buf.Bytes()
		}
		out = append(out, e)
	}
	return out
}

func getEnt(ents []tarEnt, name string) []byte {
	for _, e := range ents {
		if e.name == name {
			return e.body
		}
	}
	return nil
}

func setEnt(ents []tarEnt, name string, body []byte) []tarEnt {
	for i := range ents {
		if ents[i].name == name {
			ents[i].body = body
		}
	}
	return ents
}

func dropEnt(ents []tarEnt, name string) []tarEnt {
	return slices.DeleteFunc(ents, func(e tarEnt) bool { return e.name == name })
}
