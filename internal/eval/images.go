package eval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/sandbox"
)

// baseRecipe changes whenever the way a base layout is made changes, so
// stale cached layouts are not reused.
const baseRecipe = "1"

// Images builds the images of a corpus's tests. A Debian test's image is
// the cached base layout's layers plus one small layer of its own, written
// as an OCI layout whose base blobs are hard links to the cached ones: no
// big blob is copied per test, and containerd stores and unpacks the base
// once.
type Images struct {
	dir     string
	busybox string
	log     *slog.Logger

	once    sync.Once
	bbFiles []imagebuild.File
	bbErr   error
}

// NewImages keeps its layouts under dir; busybox is the host's static
// busybox, copied into busybox images (and asked for its applet list).
func NewImages(dir, busybox string, log *slog.Logger) *Images {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Images{dir: dir, busybox: busybox, log: log}
}

// Base is a base image held in an OCI layout directory.
type Base struct {
	Layout string
	Ref    string
	Layers []v1.Layer
}

// Source is what the sandbox imports to hold the base image.
func (b *Base) Source() sandbox.Source {
	return sandbox.Source{Kind: sandbox.OCIDir, Path: b.Layout, Ref: b.Ref}
}

// DebianBase returns the base image of a Debian root filesystem tree,
// building its layout the first time. The cache key covers the tree's
// path and modification time: a rebuilt tree gets a new layout.
func (im *Images) DebianBase(ctx context.Context, rootfs string) (*Base, error) {
	abs, err := filepath.Abs(rootfs)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("eval base: %w", err)
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%d", baseRecipe, abs, st.ModTime().UnixNano()))
	key := hex.EncodeToString(h[:6])
	dir := filepath.Join(im.dir, "base", "debian-"+key)
	ref := "sandscan.eval/base:debian-" + key
	if b, err := openBase(dir, ref); err == nil {
		return b, nil
	}
	im.log.Info("building the base image", "rootfs", abs, "layout", dir)
	t := time.Now()
	img, err := imagebuild.Build(ctx, imagebuild.Spec{
		Name:   "eval-base",
		Dirs:   []string{abs},
		Config: imagebuild.Config{Env: Env, WorkingDir: "/root"},
	})
	if err != nil {
		return nil, fmt.Errorf("eval base: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".building-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := writeLayout(tmp, img, ref, nil); err != nil {
		return nil, fmt.Errorf("eval base: %w", err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	im.log.Info("base image built", "took", time.Since(t).Round(time.Second))
	return openBase(dir, ref)
}

func openBase(dir, ref string) (*Base, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s: %d images, want 1", dir, len(m.Manifests))
	}
	img, err := p.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if len(cf.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("%s: %d layers but %d diff ids", dir, len(layers), len(cf.RootFS.DiffIDs))
	}
	for i, l := range layers {
		layers[i] = knownDiffID{l, cf.RootFS.DiffIDs[i]}
	}
	return &Base{Layout: dir, Ref: ref, Layers: layers}, nil
}

// knownDiffID hands out the diff id the base's config already holds: a
// layout's layer would otherwise decompress itself (seconds for a Debian
// tree) every time an image is built on it.
type knownDiffID struct {
	v1.Layer
	diffID v1.Hash
}

func (l knownDiffID) DiffID() (v1.Hash, error) { return l.diffID, nil }

// writeLayout writes img as the only image of a new OCI layout at dir.
// The blobs of shared layers are hard-linked from the base's layout first,
// which the layout writer then finds present and skips.
func writeLayout(dir string, img v1.Image, ref string, base *Base) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if base != nil {
		for _, l := range base.Layers {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			rel := filepath.Join("blobs", d.Algorithm, d.Hex)
			if err := os.MkdirAll(filepath.Join(dir, "blobs", d.Algorithm), 0o755); err != nil {
				return err
			}
			if err := linkOrCopy(filepath.Join(base.Layout, rel), filepath.Join(dir, rel)); err != nil {
				return err
			}
		}
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{
		imagebuild.AnnotationRefName:        ref,
		imagebuild.AnnotationContainerdName: ref,
	}))
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestImage writes the image of one test as an OCI layout and returns the
// source to import. base is needed for Debian tests only.
func (im *Images) TestImage(ctx context.Context, t Test, base *Base, keepAlive time.Duration) (sandbox.Source, error) {
	script, err := Script(t)
	if err != nil {
		return sandbox.Source{}, err
	}
	cfg, err := ImageConfig(t, keepAlive)
	if err != nil {
		return sandbox.Source{}, err
	}
	dir := filepath.Join(im.dir, "tests", refName(t.ID))
	if err := os.RemoveAll(dir); err != nil {
		return sandbox.Source{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sandbox.Source{}, err
	}
	files := []imagebuild.File{{Path: ScriptPath, Content: script, Mode: 0o755}}
	if t.Build != nil {
		bin := filepath.Join(dir, "build.out")
		if err := BuildGo(ctx, t.Build, bin); err != nil {
			return sandbox.Source{}, fmt.Errorf("test %s: %w", t.ID, err)
		}
		files = append(files, imagebuild.File{Path: t.Build.Output, Source: bin, Mode: 0o755})
	}
	spec := imagebuild.Spec{Name: "eval-" + t.ID, Config: cfg}
	switch t.Rootfs {
	case RootfsDebian:
		if base == nil {
			return sandbox.Source{}, fmt.Errorf("test %s: no Debian base image", t.ID)
		}
		spec.Layers, spec.Files = base.Layers, files
	case RootfsBusybox:
		bb, err := im.busyboxFiles(ctx)
		if err != nil {
			return sandbox.Source{}, err
		}
		spec.Files = append(slices.Clone(bb), files...)
		base = nil
	default:
		return sandbox.Source{}, fmt.Errorf("test %s: unknown rootfs %q", t.ID, t.Rootfs)
	}
	img, err := imagebuild.Build(ctx, spec)
	if err != nil {
		return sandbox.Source{}, err
	}
	ref := "sandscan.eval/" + refName(t.ID) + ":latest"
	out := filepath.Join(dir, "layout")
	if err := writeLayout(out, img, ref, base); err != nil {
		return sandbox.Source{}, fmt.Errorf("test %s: write layout: %w", t.ID, err)
	}
	return sandbox.Source{Kind: sandbox.OCIDir, Path: out, Ref: ref}, nil
}

// Remove deletes a test's layout once it has been imported.
func (im *Images) Remove(t Test) error {
	return os.RemoveAll(filepath.Join(im.dir, "tests", refName(t.ID)))
}

var notRefChar = regexp.MustCompile(`[^a-z0-9._-]+`)

func refName(id string) string {
	s := strings.Trim(notRefChar.ReplaceAllString(strings.ToLower(id), "-"), "-._")
	if s == "" {
		s = "test"
	}
	return s
}

// busyboxFiles is BusyboxBase with every applet the binary has linked where
// `busybox --install -s` would put it.
func (im *Images) busyboxFiles(ctx context.Context) ([]imagebuild.File, error) {
	im.once.Do(func() { im.bbFiles, im.bbErr = BusyboxFiles(ctx, im.busybox) })
	return im.bbFiles, im.bbErr
}

// BusyboxFiles returns a busybox root filesystem's files: the base of
// imagebuild plus a link for every applet of the binary at path.
func BusyboxFiles(ctx context.Context, path string) ([]imagebuild.File, error) {
	files := imagebuild.BusyboxBase(path)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "--list-full")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("busybox applets: %w", err)
	}
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Clean(f.Path)] = true
	}
	for _, line := range strings.Split(out.String(), "\n") {
		p := filepath.Clean("/" + strings.TrimSpace(line))
		if p == "/" || have[p] || strings.Contains(line, "..") {
			continue
		}
		have[p] = true
		files = append(files, imagebuild.File{Path: p, Link: "/bin/busybox"})
	}
	return files, nil
}

// BuildGo compiles a corpus program on the host into out: statically
// (CGO_ENABLED=0), offline (no module downloads), with the local toolchain.
// Compiling runs none of the program's code.
func BuildGo(ctx context.Context, b *GoBuild, out string) error {
	src, err := os.MkdirTemp("", "sandscan-eval-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	for name, content := range b.Sources {
		if name != filepath.Base(name) {
			return fmt.Errorf("go build: source name %q", name)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if _, ok := b.Sources["go.mod"]; !ok {
		mod := fmt.Sprintf("module %s\n\ngo 1.19\n", b.Module)
		if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(mod), 0o644); err != nil {
			return err
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	outAbs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", outAbs, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// errNoRun is returned by Rescore for a test that was never detonated.
var errNoRun = errors.New("no saved run")
