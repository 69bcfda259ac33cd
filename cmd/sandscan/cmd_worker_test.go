package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
)

// localBackends are an embedded queue file and an fs store in a temp dir,
// named by flags, so the commands use the machine's runtime but not its
// state dir's queue and store.
type localBackends struct {
	queuePath, storePath string
}

func newLocalBackends(t *testing.T) localBackends {
	dir := t.TempDir()
	return localBackends{filepath.Join(dir, "queue.db"), filepath.Join(dir, "store")}
}

func (b localBackends) flags() []string {
	return []string{"--queue-path", b.queuePath, "--store-path", b.storePath}
}

func (b localBackends) store(t *testing.T) store.Store {
	st, err := fs.Open(b.storePath)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (b localBackends) queue(t *testing.T) *embedded.Queue {
	q, err := embedded.Open(b.queuePath, queue.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// storeSample puts a sample image archive into st under its digest.
func storeSample(t *testing.T, st store.Store, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "testdata", "images", name)
	info, err := archive.InspectFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	key, _ := store.ImageKey(info.ManifestDigest)
	if err := st.Put(context.Background(), key, f, -1); err != nil {
		t.Fatal(err)
	}
	return info.ManifestDigest
}

// TestWorkerCommand runs `sandscan worker` on a queued job until the
// verdict is stored, scrapes its metrics, and stops it as SIGTERM would.
func TestWorkerCommand(t *testing.T) {
	b := newLocalBackends(t)
	st := b.store(t)
	digest := storeSample(t, st, "miner.tar")
	q := b.queue(t)
	p, _ := analysis.Request{Source: analysis.FromStore, Format: analysis.FormatOCI, Ref: "miner"}.Encode()
	job, _, err := q.Enqueue(t.Context(), queue.Job{Digest: digest, Reason: queue.ReasonAPI, Mode: queue.ModeDetonate, Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr syncWriter
	go func() {
		args := append([]string{"worker", "--workers", "1", "--metrics-listen", metricsAddr}, b.flags()...)
		done <- run(ctx, args, io.Discard, &stderr)
	}()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := store.LatestVerdict(t.Context(), st, digest)
		if err == nil {
			if v.Analysis != job.ID || v.Verdict != "malicious" {
				t.Errorf("verdict %+v, want malicious by %s", v, job.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verdict after 2 minutes: %v\n%s", err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The verdict is written before the ack: wait for the metrics to count it.
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		metrics = scrape(t, "http://"+metricsAddr+"/metrics")
		if strings.Contains(metrics, `sandscan_analyses_total{mode="detonate",verdict="malicious"} 1`) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(metrics, `sandscan_analyses_total{mode="detonate",verdict="malicious"} 1`) ||
		!strings.Contains(metrics, "sandscan_analysis_duration_seconds_bucket") {
		t.Errorf("metrics:\n%s", metrics)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("worker exited %d: %s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("worker did not stop")
	}
	q = b.queue(t)
	defer q.Close()
	if s, err := q.Status(t.Context(), job.ID); err != nil || s.State != queue.StateDone {
		t.Errorf("job after the worker stopped: %+v %v", s, err)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWorkerCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"worker", "--workers", "0"},
		{"worker", "--network", "host"},
		{"worker", "--queue", "kafka"},
		{"worker", "--queue", "nats"}, // no --nats-url
		{"worker", "extra"},
	} {
		if code, _, stderr := sandscan(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, ExitUsage)
		}
	}
}

// syncWriter lets a test read what a command writes from another goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
