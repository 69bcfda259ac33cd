package testservers

import (
	"context"
	"crypto/tls"
	"debug/buildinfo"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// MinIO's module and the version tests run (RUNTIME.md: it builds with
// Go 1.26; upstream no longer maintains it). AGPLv3: a separate test
// server binary, never linked into the product.
const (
	minioModule  = "github.com/minio/minio"
	MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// minioBuildTimeout covers a cold build on a busy two-core machine.
const minioBuildTimeout = 20 * time.Minute

// MinIOServer is a MinIO on loopback with one data directory.
type MinIOServer struct {
	// Endpoint is host:port, as minio-go takes it; the same across restarts.
	Endpoint  string
	AccessKey string
	SecretKey string
	// CAFile, from MinIOTLS, is the PEM certificate the server presents
	// (self-signed, for 127.0.0.1); empty for plain http.
	CAFile string
	p      *process
}

var minioBuild struct {
	once sync.Once
	path string
	err  error
}

// hasBuild reports whether path is minio built at the pinned version.
func hasBuild(path string) bool {
	info, err := buildinfo.ReadFile(path)
	return err == nil && info.Main.Path == minioModule && info.Main.Version == MinIOVersion
}

// EnsureMinIO returns the path of a MinIO binary at MinIOVersion in the
// tools directory: already there, or built with `go install`.
func EnsureMinIO(ctx context.Context) (string, error) {
	minioBuild.once.Do(func() {
		minioBuild.path, minioBuild.err = ensureMinIO(ctx)
	})
	return minioBuild.path, minioBuild.err
}

func ensureMinIO(ctx context.Context) (string, error) {
	bin := filepath.Join(ToolsDir(), "bin")
	target := filepath.Join(bin, "minio")
	unlock, err := lockFile(filepath.Join(ToolsDir(), "minio.lock"))
	if err != nil {
		return "", fmt.Errorf("lock tools dir: %w", err)
	}
	defer unlock()
	if hasBuild(target) {
		return target, nil
	}
	ctx, cancel := context.WithTimeout(ctx, minioBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", minioModule+"@"+MinIOVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install minio: %w\n%s", err, tail(out))
	}
	if !hasBuild(target) {
		return "", fmt.Errorf("go install left no minio %s at %s", MinIOVersion, target)
	}
	return target, nil
}

// MinIO starts a MinIO server for t (building it first if needed) on a
// free loopback port with a fresh data directory, and stops it when t ends.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	return startMinIO(t, false)
}

// MinIOTLS is MinIO serving https only, with a fresh self-signed
// certificate for 127.0.0.1 in CAFile.
func MinIOTLS(t testing.TB) *MinIOServer {
	t.Helper()
	return startMinIO(t, true)
}

func startMinIO(t testing.TB, useTLS bool) *MinIOServer {
	t.Helper()
	path, err := EnsureMinIO(t.Context())
	if err != nil {
		t.Fatalf("testservers: %v", err)
	}
	dir := t.TempDir()
	port := freePort(t)
	s := &MinIOServer{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "sandscan-test",
		SecretKey: "sandscan-test-secret",
	}
	client := http.DefaultClient
	scheme := "http"
	if useTLS {
		certs := filepath.Join(dir, "certs")
		pool, err := selfSigned(certs)
		if err != nil {
			t.Fatalf("testservers: %v", err)
		}
		s.CAFile = filepath.Join(certs, "public.crt")
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		scheme = "https"
	}
	s.p = &process{
		name: "minio",
		args: []string{path, "server", "--quiet", "--address", s.Endpoint,
			"--console-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			"--certs-dir", filepath.Join(dir, "certs"), filepath.Join(dir, "data")},
		env: []string{"MINIO_ROOT_USER=" + s.AccessKey, "MINIO_ROOT_PASSWORD=" + s.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "HOME=" + dir},
		log: filepath.Join(dir, "minio.log"),
		ready: func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+s.Endpoint+"/minio/health/ready", nil)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health: %s", resp.Status)
			}
			return nil
		},
	}
	t.Cleanup(s.Stop)
	s.Start(t)
	return s
}

// Start starts MinIO again on the same port and data.
func (s *MinIOServer) Start(t testing.TB) {
	t.Helper()
	if err := s.p.start(t.Context()); err != nil {
		t.Fatalf("testservers: %v", err)
	}
}

// Stop kills MinIO, as an outage would; its data stays for Start.
func (s *MinIOServer) Stop() { s.p.stop() }
