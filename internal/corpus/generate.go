package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/internal/rootfs"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// Config says how to generate a corpus.
type Config struct {
	// Out is the corpus directory.
	Out string
	// CacheDir keeps the Debian root filesystem, the base images and the
	// registry's blobs between runs.
	CacheDir string
	// Busybox is the static busybox binary of the busybox base.
	Busybox string
	// ModuleRoot is the sandscan module, to build the behave tool.
	ModuleRoot string
	// Only restricts generation to these variant names (all when empty).
	Only []string
	// Force re-runs variants whose run file exists.
	Force bool
	Log   *slog.Logger
}

// Kept of a run: the corpus stores behaviour, not the workload's output.
const (
	keepOutput   = 4 << 10
	keepArtifact = 4 << 10
)

// Generate builds every variant's image, detonates it in sb and stores the
// run under cfg.Out, then writes the manifest. Runs already on disk are
// kept (unless Force), so an interrupted generation resumes.
func Generate(ctx context.Context, sb *sandbox.Sandbox, cfg Config) error {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	variants := Variants()
	if len(cfg.Only) > 0 {
		var sel []Variant
		for _, v := range variants {
			for _, n := range cfg.Only {
				if v.Name == n || v.Group == n || v.Label == n {
					sel = append(sel, v)
					break
				}
			}
		}
		variants = sel
	}
	for _, v := range variants {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	b, err := newBuilder(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	// The images are only a way into the sandbox: remove them from
	// containerd afterwards (its GC then frees their snapshots).
	defer b.removeImages(sb)

	for i, v := range variants {
		e := entryOf(v)
		p := filepath.Join(cfg.Out, filepath.FromSlash(e.File))
		if _, err := os.Stat(p); err == nil && !cfg.Force {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		run, err := b.detonate(ctx, sb, v)
		if err != nil {
			log.Error("variant failed", "variant", v.Name, "err", err)
			continue
		}
		trim(run)
		if err := WriteRun(cfg.Out, e, run); err != nil {
			return err
		}
		log.Info("run stored", "n", i+1, "of", len(variants), "variant", v.Name, "events", len(run.Events),
			"exit", run.Exit.Code, "reason", run.Exit.Reason, "took", time.Since(t).Round(time.Millisecond))
	}
	return WriteIndex(cfg.Out)
}

// WriteIndex writes the manifest of every variant whose run is on disk.
func WriteIndex(dir string) error {
	m := &Manifest{Note: "Runs of the sandscan training corpus: `go run ./internal/tools/corpus -out DIR` regenerates them."}
	for _, v := range Variants() {
		e := entryOf(v)
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e.File))); err == nil {
			m.Runs = append(m.Runs, e)
		}
	}
	return WriteManifest(dir, m)
}

func entryOf(v Variant) Entry {
	return Entry{File: v.Label + "/" + v.Name + ".json.gz", Name: v.Name, Label: v.Label, Group: v.Group, Base: string(v.Base), Describe: v.Describe}
}

// trim drops the bulk a feature never reads: output and artifact bodies
// beyond a few KiB.
func trim(run *trace.Run) {
	for _, o := range []*trace.Output{&run.Stdout, &run.Stderr} {
		if len(o.Data) > keepOutput {
			o.Data, o.Truncated = o.Data[:keepOutput], true
		}
	}
	for i := range run.Artifacts {
		a := &run.Artifacts[i]
		if len(a.Data) > keepArtifact {
			a.Data, a.Truncated = a.Data[:keepArtifact], true
		}
	}
}

// builder turns variants into images in a registry on loopback, from which
// containerd pulls them: the Debian base layer (hundreds of MB) then
// travels once, and each variant adds a small layer.
type builder struct {
	cfg    Config
	log    *slog.Logger
	behave string
	bases  map[Base]v1.Image
	addr   string
	srv    *http.Server
	tmp    string
	pulled []string // image names in containerd
}

func (b *builder) removeImages(sb *sandbox.Sandbox) {
	ctx := namespaces.WithNamespace(context.Background(), sb.Runtime().Namespace)
	is := sb.Client().ImageService()
	for _, n := range b.pulled {
		if err := is.Delete(ctx, n); err != nil {
			b.log.Warn("could not remove corpus image", "image", n, "err", err)
		}
	}
}

func newBuilder(ctx context.Context, cfg Config, log *slog.Logger) (*builder, error) {
	b := &builder{cfg: cfg, log: log, bases: map[Base]v1.Image{}}
	tmp, err := os.MkdirTemp("", "sandscan-corpus-")
	if err != nil {
		return nil, err
	}
	b.tmp = tmp
	b.behave = filepath.Join(tmp, "behave")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", b.behave, "./internal/corpus/behave")
	cmd.Dir = cfg.ModuleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.close()
		return nil, fmt.Errorf("corpus: build behave: %w: %s", err, out)
	}
	blobs := filepath.Join(cfg.CacheDir, "registry")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		b.close()
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.close()
		return nil, err
	}
	b.addr = l.Addr().String()
	b.srv = &http.Server{Handler: registry.New(registry.Logger(log_discard()), registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)))}
	go b.srv.Serve(l)
	return b, nil
}

func log_discard() *log.Logger { return log.New(io.Discard, "", 0) }

func (b *builder) close() {
	if b.srv != nil {
		b.srv.Close()
	}
	os.RemoveAll(b.tmp)
}

// base returns the base image, built once and kept as an OCI layout under
// the cache so its layer digests need not be recomputed.
func (b *builder) base(ctx context.Context, kind Base) (v1.Image, error) {
	if img := b.bases[kind]; img != nil {
		return img, nil
	}
	var spec imagebuild.Spec
	var key string
	switch kind {
	case Busybox:
		bb, err := os.ReadFile(b.cfg.Busybox)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(bb)
		key = "busybox-" + hex.EncodeToString(sum[:6]) + "-" + hex.EncodeToString(appletsKey())
		spec = imagebuild.Spec{Name: "corpus-busybox", Files: busyboxFiles(b.cfg.Busybox)}
	case Debian:
		dir, err := rootfs.Debian(ctx, filepath.Join(b.cfg.CacheDir, "rootfs"), DebianPackages, b.log)
		if err != nil {
			return nil, err
		}
		k, _, _ := rootfs.Key(DebianPackages)
		key = k
		spec = imagebuild.Spec{Name: "corpus-debian", Dirs: []string{dir}}
	}
	dir := filepath.Join(b.cfg.CacheDir, "bases", key)
	if p, err := layout.FromPath(dir); err == nil {
		if idx, err := p.ImageIndex(); err == nil {
			if m, err := idx.IndexManifest(); err == nil && len(m.Manifests) == 1 {
				if img, err := p.Image(m.Manifests[0].Digest); err == nil {
					b.bases[kind] = img
					return img, nil
				}
			}
		}
	}
	b.log.Info("building base image (once)", "base", kind, "key", key)
	img, err := imagebuild.Build(ctx, spec)
	if err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := p.AppendImage(img); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("corpus: write base %s: %w", kind, err)
	}
	return b.base(ctx, kind)
}

func appletsKey() []byte {
	h := sha256.New()
	for _, a := range extraApplets {
		io.WriteString(h, a+"\n")
	}
	return h.Sum(nil)[:4]
}

// image assembles a variant: base, then a layer with behave, the
// entrypoint and the variant's files, then its config.
func (b *builder) image(ctx context.Context, v Variant) (v1.Image, error) {
	base, err := b.base(ctx, v.Base)
	if err != nil {
		return nil, err
	}
	files := []imagebuild.File{{Path: BehavePath, Source: b.behave, Mode: 0o755}}
	entry := []string{EntrypointPath}
	if len(v.Exec) > 0 {
		entry = v.Exec
		if v.Exec[0] != BehavePath {
			files = append(files, imagebuild.File{Path: v.Exec[0], Source: b.behave, Mode: 0o755})
		}
	} else {
		files = append(files, imagebuild.File{Path: EntrypointPath, Content: v.Entrypoint(), Mode: 0o755})
	}
	files = append(files, v.Files...)
	top, err := imagebuild.Build(ctx, imagebuild.Spec{Name: v.Name, Files: files})
	if err != nil {
		return nil, err
	}
	layers, err := top.Layers()
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layers[0], MediaType: types.OCILayer,
		History: v1.History{Created: v1.Time{Time: time.Unix(0, 0).UTC()}, CreatedBy: "sandscan corpus: " + v.Name}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{
		Entrypoint: entry,
		Env:        append(append([]string(nil), commonEnv...), v.Env...),
		WorkingDir: "/",
		User:       v.User,
		Labels:     map[string]string{"org.sandscan.corpus.label": v.Label, "org.sandscan.corpus.group": v.Group},
	}
	return mutate.ConfigFile(img, cf)
}

// detonate pushes the variant's image to the loopback registry, has the
// sandbox pull and run it, and names the run after the variant.
func (b *builder) detonate(ctx context.Context, sb *sandbox.Sandbox, v Variant) (*trace.Run, error) {
	img, err := b.image(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// One repository, a tag per variant: containerd labels the shared base
	// layer with every repository it came from, and those labels are capped.
	ref := fmt.Sprintf("%s/sandscan-corpus:%s", b.addr, v.Name)
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	src, err := sandbox.ParseSource(ref)
	if err != nil {
		return nil, err
	}
	im, err := sb.Import(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	b.pulled = append(b.pulled, im.Info.Name)
	timeout := v.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	run, err := sb.Run(ctx, im, sandbox.WithLimits(sandbox.Limits{Timeout: timeout, MemoryBytes: 1 << 30, Pids: 256, CPUs: 1}))
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	// The registry's port changes from one generation to the next; the
	// stored run names the variant instead.
	run.Image.Ref = "sandscan.corpus/" + v.Name + ":latest"
	run.Image.Name = run.Image.Ref
	if run.ID == "" {
		return nil, errors.New("run without id")
	}
	return run, nil
}
