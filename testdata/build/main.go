// Command build writes the behaviour images: it compiles the programs
// under testdata/behaviours as static binaries, puts each on a small
// busybox base and writes testdata/images/<name>.tar (OCI layout) plus a
// docker-archive variant for a few. An image whose inputs did not change
// since its stamp was written is left alone.
//
//	go run ./testdata/build -out testdata/images [names...]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// builderVersion changes whenever the builder's output changes in a way
// its sources alone do not show.
const builderVersion = "1"

// RefPrefix names every image: sandscan.test/<name>:latest.
const RefPrefix = "sandscan.test/"

type options struct {
	out     string
	busybox string
	force   bool
	names   []string
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "testdata/images", "directory for the archives")
	flag.StringVar(&o.busybox, "busybox", "/bin/busybox", "static busybox binary for the image base")
	flag.BoolVar(&o.force, "force", false, "rebuild even when the stamps say nothing changed")
	flag.Parse()
	o.names = flag.Args()
	if err := run(context.Background(), o); err != nil {
		slog.Error("build images", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	selected, err := selectImages(o.names)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	common, err := commonInputs(ctx, root, o.busybox)
	if err != nil {
		return err
	}

	var stale []image
	stamps := map[string]string{}
	for _, img := range selected {
		stamp, err := inputHash(common, root, img)
		if err != nil {
			return err
		}
		stamps[img.Name] = stamp
		if !o.force && upToDate(o.out, img, stamp) {
			slog.Debug("up to date", "image", img.Name)
			continue
		}
		stale = append(stale, img)
	}
	if len(stale) > 0 {
		bin, err := os.MkdirTemp("", "sandscan-behaviours-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(bin)
		if err := compile(ctx, root, bin, stale); err != nil {
			return err
		}
		for _, img := range stale {
			if err := write(ctx, root, bin, o, img, stamps[img.Name]); err != nil {
				return err
			}
		}
	}
	slog.Info("behaviour images", "dir", o.out, "built", len(stale), "up to date", len(selected)-len(stale))
	return writeIndex(o.out)
}

func selectImages(names []string) ([]image, error) {
	if len(names) == 0 {
		return images, nil
	}
	var out []image
	for _, n := range names {
		i := slices.IndexFunc(images, func(img image) bool { return img.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("no behaviour image named %q", n)
		}
		out = append(out, images[i])
	}
	return out, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run this inside the sandscan module")
	}
	return filepath.Dir(gomod), nil
}

// commonInputs hashes what every image depends on: the builder and
// imagebuild sources, the module's dependency pins, the Go toolchain, the
// shared guard package and busybox.
func commonInputs(ctx context.Context, root, busybox string) ([]byte, error) {
	gover, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "builder %s\ngo %s\narch %s\n", builderVersion, bytes.TrimSpace(gover), runtime.GOARCH)
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w", err)
	}
	fmt.Fprintf(h, "busybox %x\n", sha256.Sum256(bb))
	for _, p := range []string{"go.mod", "go.sum", "testdata/build", "internal/imagebuild", "testdata/behaviours/internal"} {
		if err := hashTree(h, root, p); err != nil {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}

func inputHash(common []byte, root string, img image) (string, error) {
	h := sha256.New()
	h.Write(common)
	fmt.Fprintf(h, "image %s\n", img.Name)
	if err := hashTree(h, root, filepath.Join("testdata/behaviours", img.Name)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree feeds the names, modes and contents of the files under rel
// (or the file rel) to h, in a fixed order; tests and fuzz corpora are
// left out since they do not change the images.
func hashTree(h io.Writer, root, rel string) error {
	return filepath.WalkDir(filepath.Join(root, rel), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s %o %x\n", filepath.ToSlash(r), info.Mode().Perm()&0o100, sha256.Sum256(data))
		return nil
	})
}

func stampPath(out string, img image) string { return filepath.Join(out, img.Name+".stamp") }

func archivePaths(out string, img image) []string {
	paths := []string{filepath.Join(out, img.Name+".tar")}
	if img.Docker {
		paths = append(paths, filepath.Join(out, img.Name+".docker.tar"))
	}
	return paths
}

func upToDate(out string, img image, stamp string) bool {
	b, err := os.ReadFile(stampPath(out, img))
	if err != nil || strings.TrimSpace(string(b)) != stamp {
		return false
	}
	for _, p := range archivePaths(out, img) {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// compile builds every Go behaviour program among imgs in one go build,
// with the flags that make the binaries reproducible: no cgo, no paths,
// no build id, no VCS stamp.
func compile(ctx context.Context, root, bin string, imgs []image) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-mod=readonly", "-ldflags=-s -w -buildid=", "-o", bin + string(filepath.Separator)}
	n := 0
	for _, img := range imgs {
		if img.script == "" {
			args = append(args, "./testdata/behaviours/"+img.Name)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build behaviours: %w", err)
	}
	return nil
}

// specFor is the image for one behaviour: the busybox base, the program
// (or script) at /usr/local/bin, and the config that starts it.
func specFor(root, bin, busybox string, img image) imagebuild.Spec {
	files := imagebuild.BusyboxBase(busybox)
	entry := "/usr/local/bin/" + img.Name
	if img.script != "" {
		entry = "/usr/local/bin/" + img.script
		files = append(files, imagebuild.File{Path: entry, Mode: 0o755, Source: filepath.Join(root, "testdata/behaviours", img.Name, img.script)})
	} else {
		files = append(files, imagebuild.File{Path: entry, Mode: 0o755, Source: filepath.Join(bin, img.Name)})
	}
	files = append(files, img.files...)
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, img.env...)
	return imagebuild.Spec{
		Name:  img.Name,
		Ref:   RefPrefix + img.Name + ":latest",
		Files: files,
		Config: imagebuild.Config{
			Entrypoint: []string{entry},
			Env:        env,
			WorkingDir: "/",
			User:       "root",
			Labels:     map[string]string{"org.opencontainers.image.title": img.Name},
		},
	}
}

func write(ctx context.Context, root, bin string, o options, img image, stamp string) error {
	spec := specFor(root, bin, o.busybox, img)
	built, err := imagebuild.Build(ctx, spec)
	if err != nil {
		return err
	}
	paths := archivePaths(o.out, img)
	if err := imagebuild.WriteOCIArchive(paths[0], built, spec.Ref); err != nil {
		return err
	}
	if img.Docker {
		if err := imagebuild.WriteDockerArchive(paths[1], built, spec.Ref); err != nil {
			return err
		}
	}
	digest, err := built.Digest()
	if err != nil {
		return err
	}
	slog.Info("built", "image", spec.Ref, "archive", paths[0], "digest", digest)
	// The stamp goes last: an interrupted build is redone next time.
	return os.WriteFile(stampPath(o.out, img), []byte(stamp+"\n"), 0o644)
}

// indexEntry is one line of images.json, which tells tests and the
// evaluation harness what each archive should be found to do.
type indexEntry struct {
	image
	Ref           string `json:"ref"`
	Archive       string `json:"archive"`
	DockerArchive string `json:"docker_archive,omitempty"`
}

func writeIndex(out string) error {
	var entries []indexEntry
	for _, img := range images {
		e := indexEntry{image: img, Ref: RefPrefix + img.Name + ":latest", Archive: img.Name + ".tar"}
		if img.Docker {
			e.DockerArchive = img.Name + ".docker.tar"
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "images.json"), append(b, '\n'), 0o644)
}
