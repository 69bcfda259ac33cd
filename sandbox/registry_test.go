package sandbox_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// startRegistry runs Debian's CNCF Distribution registry on a loopback
// port and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start docker-registry (setup installs it): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("registry did not come up")
		}
	}
}

// TestPullFromRegistry pushes an image to a loopback registry and
// detonates it by reference, as a registry webhook would name it.
func TestPullFromRegistry(t *testing.T) {
	sb := newSandbox(t)
	addr := startRegistry(t)
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
	ref, err := name.ParseReference(addr+"/team/pulled:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()

	src, err := sandbox.ParseSource("docker://" + addr + "/team/pulled:v1")
	if err != nil {
		t.Fatal(err)
	}
	run := detonate(t, sb, src)
	if run.Image.Digest != digest.String() {
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
