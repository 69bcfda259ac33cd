package sandbox_test

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/trace"
)

// TestImportLayoutDir runs an image from an OCI layout directory picked
// by tag, the oci:DIR:TAG form.
func TestImportLayoutDir(t *testing.T) {
	sb := newSandbox(t)
	dir := t.TempDir()
	src := sampleImage(t, "benign-batch.tar")
	if out, err := exec.Command("tar", "-xf", src.Path, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v: %s", err, out)
	}
	layout, err := sandbox.ParseSource("oci:" + dir + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	run := detonate(t, sb, layout)
	if !inDiff(run, "/var/tmp/result.txt", trace.FileCreated) || run.Image.Digest == "" {
		t.Errorf("layout run: files %+v, digest %q", run.Files, run.Image.Digest)
	}
	if _, err := sb.Import(context.Background(), sandbox.Source{Kind: sandbox.OCIDir, Path: dir, Ref: "no-such-tag"}); !errors.Is(err, sandbox.ErrImage) {
		t.Errorf("unknown tag: err = %v", err)
	}
}

// TestImportHostileArchive feeds an archive whose entry climbs out of
// the root: it never reaches containerd.
func TestImportHostileArchive(t *testing.T) {
	sb := newSandbox(t)
	p := filepath.Join(t.TempDir(), "evil.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, name := range []string{"oci-layout", "../../etc/evil"} {
		body := []byte(`{"imageLayoutVersion":"1.0.0"}`)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	f.Close()
	_, err = sb.Import(context.Background(), sandbox.Source{Kind: sandbox.OCIArchive, Path: p})
	if !errors.Is(err, sandbox.ErrImage) || !errors.Is(err, archive.ErrUnsafe) {
		t.Errorf("err = %v, want ErrImage and archive.ErrUnsafe", err)
	}
}
