package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestSelectImages(t *testing.T) {
	all, err := selectImages(nil)
	if err != nil || len(all) != len(images) {
		t.Fatalf("selectImages(nil) = %d images, %v; want all %d", len(all), err, len(images))
	}
	some, err := selectImages([]string{"miner", "dropper"})
	if err != nil || len(some) != 2 || some[0].Name != "miner" || some[1].Name != "dropper" {
		t.Errorf("selectImages(miner, dropper) = %+v, %v", some, err)
	}
	if _, err := selectImages([]string{"no-such-image"}); err == nil {
		t.Error("unknown name accepted")
	}
}

// TestImageTable keeps the table honest: a source for every image, unique
// names, verdicts from the report's vocabulary.
func TestImageTable(t *testing.T) {
	seen := map[string]bool{}
	for _, img := range images {
		if seen[img.Name] {
			t.Errorf("%s listed twice", img.Name)
		}
		seen[img.Name] = true
		src := filepath.Join("..", "behaviours", img.Name, "main.go")
		if img.script != "" {
			src = filepath.Join("..", "behaviours", img.Name, img.script)
		}
		if _, err := os.Stat(src); err != nil {
			t.Errorf("%s: %v", img.Name, err)
		}
		switch img.Verdict {
		case "clean", "suspicious", "malicious":
		default:
			t.Errorf("%s: verdict %q", img.Name, img.Verdict)
		}
		if img.Verdict == "clean" && len(img.Techniques) > 0 {
			t.Errorf("%s: clean but expects techniques %v", img.Name, img.Techniques)
		}
	}
}

var testImages = []string{"benign-batch", "busybox-script"}

func TestBuildDeterministicAndStamped(t *testing.T) {
	ctx := context.Background()
	dir1, dir2 := t.TempDir(), t.TempDir()
	if err := run(ctx, options{out: dir1, busybox: "/bin/busybox", names: testImages}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, options{out: dir2, busybox: "/bin/busybox", names: testImages, force: true}); err != nil {
		t.Fatal(err)
	}
	files := []string{"benign-batch.tar", "benign-batch.docker.tar", "busybox-script.tar", "images.json"}
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(dir1, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir2, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds", f)
		}
	}

	// A second run with unchanged inputs must leave the archive alone...
	archive := filepath.Join(dir1, "benign-batch.tar")
	old := time.Unix(1_000_000, 0)
	if err := os.Chtimes(archive, old, old); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, options{out: dir1, busybox: "/bin/busybox", names: testImages}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(archive); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("up-to-date archive was rewritten (%v)", err)
	}
	// ...and a stale stamp must rebuild it.
	if err := os.WriteFile(filepath.Join(dir1, "benign-batch.stamp"), []byte("stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, options{out: dir1, busybox: "/bin/busybox", names: testImages}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(archive); err != nil || fi.ModTime().Equal(old) {
		t.Errorf("stale archive was not rebuilt (%v)", err)
	}

	var index []map[string]any
	b, err := os.ReadFile(filepath.Join(dir1, "images.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil || len(index) != len(images) {
		t.Fatalf("images.json: %d entries, %v", len(index), err)
	}
	if index[0]["name"] != "benign-batch" || index[0]["ref"] != "sandscan.test/benign-batch:latest" {
		t.Errorf("images.json first entry %v", index[0])
	}
}

// TestImagesRunInGVisor builds every image, unpacks it and runs its
// entrypoint under runsc (network none) with the image's environment,
// checking that each behaviour does what it claims. Programs that never
// exit are cut off after a moment and must have been running.
func TestImagesRunInGVisor(t *testing.T) {
	runsc := os.Getenv("SANDSCAN_RUNSC")
	if runsc == "" {
		runsc = "/var/lib/sandscan/tools/bin/runsc"
	}
	out := t.TempDir()
	if err := run(context.Background(), options{out: out, busybox: "/bin/busybox"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		exit  int // -1: killed at the deadline
		wait  time.Duration
		wants []string
	}{
		{"benign-web", 0, 20 * time.Second, []string{`GET /healthz -> 200 "ok\n"`, "benign-web: done"}},
		{"benign-batch", 0, 20 * time.Second, []string{"wrote /var/tmp/result.txt: host=sandscan primes_below=2000000 count=148933"}},
		{"miner", 0, 20 * time.Second, []string{"pool pool.minexmr.example:3333 failed", "pool 203.0.113.10:3333 failed", "hashes on"}},
		{"revshell", 1, 20 * time.Second, []string{"round 2: dial tcp 198.51.100.23:4444", "giving up"}},
		{"credtheft", 0, 20 * time.Second, []string{"took /etc/shadow", "took /root/.ssh/id_rsa", "took /root/.kube/config", "took 3 secret variables", `Post "http://exfil.example/upload"`}},
		{"persistence", 0, 20 * time.Second, []string{"wrote /etc/cron.d/sysupdate", "wrote /root/.ssh/authorized_keys", "wrote /etc/ld.so.preload", "wrote /root/.bashrc"}},
		{"dropper", 0, 20 * time.Second, []string{`Get "http://dl.example/x"`, "second stage running", "second stage finished: <nil>"}},
		{"escape", 0, 20 * time.Second, []string{"docker socket:", "ptrace pid 1:", "init_module:", "core_pattern:", "release_agent under /sys/fs/cgroup:"}},
		{"recon", 0, 20 * time.Second, []string{"/etc/passwd: 4 lines", "process 1:", "interface lo", "127.0.0.1:6379 closed"}},
		{"busybox-script", 0, 20 * time.Second, []string{"download failed", "* * * * * /tmp/p.sh", "4 /tmp/.s", "busybox-script: done"}},
		{"forkbomb", -1, 1500 * time.Millisecond, []string{"forkbomb: starting"}},
		{"membomb", -1, 1500 * time.Millisecond, []string{"MiB resident"}},
		{"outputflood", -1, 1500 * time.Millisecond, []string{"outputflood: the quick brown fox"}},
		{"sleeper", -1, 1500 * time.Millisecond, []string{"sleeper: sleeping"}},
	}
	if len(tests) != len(images) {
		t.Errorf("%d images but %d run cases", len(images), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rootfs := t.TempDir()
			cfg := unpack(t, filepath.Join(out, tt.name+".tar"), rootfs)
			ctx, cancel := context.WithTimeout(context.Background(), tt.wait)
			defer cancel()
			args := append([]string{"--root=" + t.TempDir(), "--network=none", "do", "--root=" + rootfs, "--cwd=" + cfg.WorkingDir, "--"}, cfg.Entrypoint...)
			cmd := exec.CommandContext(ctx, runsc, args...)
			cmd.Env = cfg.Env
			var output limitedBuffer
			cmd.Stdout, cmd.Stderr = &output, &output
			err := cmd.Run()
			got := output.String()
			switch {
			case tt.exit < 0 && ctx.Err() == nil:
				t.Errorf("exited early (%v); it should run until stopped", err)
			case tt.exit >= 0 && ctx.Err() != nil:
				t.Errorf("still running after %v", tt.wait)
			case tt.exit >= 0:
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != tt.exit {
					t.Errorf("exit status %d, want %d", code, tt.exit)
				}
			}
			for _, w := range tt.wants {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// unpack flattens the image in an OCI archive into dir and returns its
// config.
func unpack(t *testing.T, archive, dir string) v1.Config {
	t.Helper()
	layoutDir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	extract(t, f, layoutDir)
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	extract(t, rc, dir)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.Config
}

// extract writes a tar stream of our own making under dir (names were
// cleaned by imagebuild and again by mutate.Extract).
func extract(t *testing.T, r io.Reader, dir string) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("tar entry %q leaves %s", h.Name, dir)
		}
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
			if err == nil {
				err = os.Chmod(p, mode)
			}
		case tar.TypeReg:
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm()); err == nil {
				_, err = io.Copy(f, tr)
				f.Close()
			}
			if err == nil {
				err = os.Chmod(p, mode)
			}
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		}
		if err == nil {
			err = os.Lchown(p, h.Uid, h.Gid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// limitedBuffer keeps the first 64 KiB of output: outputflood writes
// gigabytes.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
