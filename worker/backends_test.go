package worker

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store/s3"
)

func TestBackendConfigValidate(t *testing.T) {
	s3ok := s3.Config{Endpoint: "127.0.0.1:9000", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	tests := []struct {
		name string
		cfg  BackendConfig
		ok   bool
	}{
		{"defaults", BackendConfig{StateDir: "/x"}, true},
		{"explicit paths without state dir", BackendConfig{QueuePath: "/x/q.db", StorePath: "/x/s"}, true},
		{"no state dir", BackendConfig{}, false},
		{"queue path only", BackendConfig{QueuePath: "/x/q.db"}, false},
		{"nats", BackendConfig{StateDir: "/x", Queue: QueueNATS, NATSURL: "nats://127.0.0.1:4222"}, true},
		{"nats without url", BackendConfig{StateDir: "/x", Queue: QueueNATS}, false},
		{"s3", BackendConfig{StateDir: "/x", Store: StoreS3, S3: s3ok}, true},
		{"s3 without bucket", BackendConfig{StateDir: "/x", Store: StoreS3, S3: s3.Config{Endpoint: "e"}}, false},
		{"unknown queue", BackendConfig{StateDir: "/x", Queue: "kafka"}, false},
		{"unknown store", BackendConfig{StateDir: "/x", Store: "gcs"}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBackend) {
			t.Errorf("%s: %v is not ErrBackend", tt.name, err)
		}
	}
}

func TestBackendConfigEnvAndFlags(t *testing.T) {
	env := map[string]string{
		EnvQueue: QueueNATS, EnvNATSURL: "nats://127.0.0.1:1", EnvStore: StoreS3,
		s3.EnvEndpoint: "127.0.0.1:9000", s3.EnvBucket: "b", s3.EnvTLS: "false",
	}
	cfg, err := BackendConfigFromEnv("/state", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Queue != QueueNATS || cfg.NATSURL != "nats://127.0.0.1:1" || cfg.Store != StoreS3 || cfg.S3.Bucket != "b" || cfg.S3.TLS {
		t.Errorf("from env: %+v", cfg)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--queue", "embedded", "--store", "fs", "--store-path", "/elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Queue != QueueEmbedded || cfg.Store != StoreFS || cfg.StorePath != "/elsewhere" || cfg.NATSURL != "nats://127.0.0.1:1" {
		t.Errorf("flags over env: %+v", cfg)
	}
	if _, err := BackendConfigFromEnv("/state", func(k string) string {
		if k == s3.EnvTLS {
			return "maybe"
		}
		return ""
	}); err == nil {
		t.Error("a bad SANDSCAN_S3_TLS was accepted")
	}
}

// TestOpenBackendsDefaults opens the embedded defaults under a state dir,
// uses both, and opens them again after closing: the queue is durable.
func TestOpenBackendsDefaults(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	q, st, closeFn, err := OpenBackends(ctx, BackendConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := q.Enqueue(ctx, queue.Job{Digest: testDigest("a"), Reason: queue.ReasonAPI, Mode: queue.ModeDetonate})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "images/x", bytes.NewReader([]byte("hi")), 2); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{DefaultQueuePath(dir), filepath.Join(DefaultStorePath(dir), "images", "x")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("default path: %v", err)
		}
	}
	q, _, closeFn, err = OpenBackends(ctx, BackendConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if s, err := q.Status(ctx, job.ID); err != nil || s.State != queue.StateQueued {
		t.Errorf("job after reopening: %+v %v", s, err)
	}
	if _, _, _, err := OpenBackends(ctx, BackendConfig{StateDir: dir, Queue: "kafka"}); !errors.Is(err, ErrBackend) {
		t.Errorf("unknown queue: %v", err)
	}
}
