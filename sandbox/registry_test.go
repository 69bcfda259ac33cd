package sandbox_test

import (
	"context"
	"github.com/sandscan/sandscan/internal/testservers"
	"testing"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// TestPullFromRegistry pushes an image to a loopback registry and
// detonates it by reference, as a registry webhook would name it.
func TestPullFromRegistry(t *testing.T) {
	sb := newSandbox(t)
	addr := testservers.Registry(t)
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
		Name:  "pulled",
		Files: imagebuild.BusyboxBase("/bin/busybox"),
		Config: imagebuild.Config{
			Entrypoint: []string{"/bin/sh", "-c", "echo pulled > /var/tmp/marker"},
			Env:        []string{"PATH=/bin"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	digest := testservers.Push(t, addr+"/team/pulled:v1", img)

	src, err := sandbox.ParseSource("docker://" + addr + "/team/pulled:v1")
	if err != nil {
		t.Fatal(err)
	}
	run := detonate(t, sb, src)
	if run.Image.Digest != digest {
		t.Errorf("digest %s, pushed %s", run.Image.Digest, digest)
	}
	if !inDiff(run, "/var/tmp/marker", trace.FileCreated) {
		t.Errorf("the pulled image did not run: %+v", run.Files)
	}
	_, err = sb.Import(context.Background(), sandbox.Source{Kind: sandbox.Registry, Ref: addr + "/team/missing:v1"})
	if err == nil {
		t.Error("pulling a missing image succeeded")
	}
}
