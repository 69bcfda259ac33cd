package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/archive"
)

// TestExport exports imported images (an OCI and a docker archive) and
// checks the copy: an OCI archive the inspector accepts, naming the same
// manifest digest, that imports again.
func TestExport(t *testing.T) {
	sb := newSandbox(t)
	ctx := context.Background()
	for _, name := range []string{"busybox-script.tar", "benign-batch.docker.tar"} {
		t.Run(name, func(t *testing.T) {
			img, err := sb.Import(ctx, sampleImage(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := sb.Export(ctx, img, &buf); err != nil {
				t.Fatal(err)
			}
			info, err := archive.Inspect(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatalf("exported archive: %v", err)
			}
			if info.Format != archive.FormatOCI || info.ManifestDigest != img.Info.Digest {
				t.Errorf("exported %s %s, imported %s", info.Format, info.ManifestDigest, img.Info.Digest)
			}
			p := filepath.Join(t.TempDir(), "copy.tar")
			if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			again, err := sb.Import(ctx, sandbox.Source{Kind: sandbox.OCIArchive, Path: p})
			if err != nil {
				t.Fatalf("import the export: %v", err)
			}
			if again.Info.Digest != img.Info.Digest {
				t.Errorf("re-imported digest %s, want %s", again.Info.Digest, img.Info.Digest)
			}
		})
	}
}
