package testservers

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestMinIOBuildPinned(t *testing.T) {
	path, err := EnsureMinIO(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !hasBuild(path) {
		t.Fatalf("%s is not minio %s", path, MinIOVersion)
	}
	// A second call reuses the binary: no build, same path.
	again, err := EnsureMinIO(t.Context())
	if err != nil || again != path {
		t.Fatalf("second ensure: %s %v", again, err)
	}
}

func TestMinIORestart(t *testing.T) {
	s := MinIO(t)
	live := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/minio/health/live", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("health: %s", resp.Status)
		}
		return nil
	}
	if err := live(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if live() == nil {
		t.Fatal("MinIO answers after Stop")
	}
	s.Start(t)
	if err := live(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
