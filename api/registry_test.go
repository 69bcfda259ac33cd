package api

import (
	"net"
	"os/exec"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/sandscan/sandscan/internal/testservers"
)

// pushArchive pushes the image of an OCI archive to ref with
// go-containerregistry and returns its digest.
func pushArchive(t testing.TB, archive, ref string) string {
	t.Helper()
	dir := t.TempDir()
	if err := exec.Command("tar", "-xf", archive, "-C", dir).Run(); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		t.Fatalf("index of %s: %v", archive, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return testservers.Push(t, ref, img)
}

func startListener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
