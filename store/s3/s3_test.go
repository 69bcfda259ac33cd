package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/storetest"
)

var buckets atomic.Int64

func config(srv *testservers.MinIOServer) Config {
	return Config{
		Endpoint:  srv.Endpoint,
		Bucket:    fmt.Sprintf("sandscan-test-%d", buckets.Add(1)),
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
	}
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite on one MinIO, a new bucket per test.
func TestConformance(t *testing.T) {
	srv := testservers.MinIO(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, config(srv)) })
}

// TestOutage: MinIO stops in the middle of a run; the worker's Put waits
// and lands once MinIO is back, and nothing stored before is lost.
func TestOutage(t *testing.T) {
	srv := testservers.MinIO(t)
	s := open(t, config(srv))
	before := []byte(`{"verdict":"clean"}`)
	if err := s.Put(t.Context(), "analyses/a1/report.json", bytes.NewReader(before), int64(len(before))); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	report := bytes.Repeat([]byte("r"), 3<<20)
	done := make(chan error, 1)
	go func() {
		// An unsized, non-seekable body: the retry must not lose it.
		done <- s.Put(t.Context(), "analyses/a2/report.json", io.MultiReader(bytes.NewReader(report)), -1)
	}()
	select {
	case err := <-done:
		t.Fatalf("put returned while MinIO was down: %v", err)
	case <-time.After(2 * time.Second):
	}
	srv.Start(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("put after MinIO came back: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("put still waiting a minute after MinIO came back")
	}
	for key, want := range map[string][]byte{"analyses/a1/report.json": before, "analyses/a2/report.json": report} {
		rc, _, err := s.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes (%v), want %d", key, len(got), err, len(want))
		}
	}
}

// TestOutageGivesUpWithContext: with MinIO down, an operation ends when
// its context does, with an error saying so.
func TestOutageGivesUpWithContext(t *testing.T) {
	srv := testservers.MinIO(t)
	s := open(t, config(srv))
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := s.Stat(ctx, "anything")
	if err == nil || ctx.Err() == nil {
		t.Fatalf("stat with MinIO down: %v", err)
	}
	if !errorsIs(err, context.DeadlineExceeded) {
		t.Fatalf("stat error %v does not say the deadline passed", err)
	}
}

// TestOpenWaitsForService: Open with MinIO down retries until it is up,
// then creates the bucket; a second Open finds it.
func TestOpenWaitsForService(t *testing.T) {
	srv := testservers.MinIO(t)
	cfg := config(srv)
	srv.Stop()
	opened := make(chan *Store, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		s, err := Open(ctx, cfg, testLog(t))
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	time.Sleep(1500 * time.Millisecond)
	select {
	case <-opened:
		t.Fatal("open returned while MinIO was down")
	default:
	}
	srv.Start(t)
	s := <-opened
	if s == nil {
		t.FailNow()
	}
	if err := s.Put(t.Context(), "x", bytes.NewReader([]byte("1")), 1); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, cfg)
	if info, err := s2.Stat(t.Context(), "x"); err != nil || info.Size != 1 {
		t.Fatalf("second open: %+v %v", info, err)
	}
}

func TestTLS(t *testing.T) {
	srv := testservers.MinIOTLS(t)
	cfg := config(srv)
	cfg.TLS = true
	cfg.CAFile = srv.CAFile
	s := open(t, cfg)
	data := []byte(`{"over":"https"}`)
	if err := s.Put(t.Context(), "analyses/tls/report.json", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Get(t.Context(), "analyses/tls/report.json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("got %q", got)
	}
	// Without the CA the server's certificate is refused, at once.
	cfg.CAFile = ""
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := Open(ctx, cfg, testLog(t)); err == nil || ctx.Err() != nil {
		t.Fatalf("open trusting only the system's CAs: %v (context %v)", err, ctx.Err())
	}
	// Plain http to an https-only server fails too.
	cfg.TLS, cfg.CAFile = false, srv.CAFile
	if _, err := Open(ctx, cfg, testLog(t)); err == nil || ctx.Err() != nil {
		t.Fatalf("open over http: %v (context %v)", err, ctx.Err())
	}
}

func TestWrongCredentials(t *testing.T) {
	srv := testservers.MinIO(t)
	cfg := config(srv)
	cfg.SecretKey = "wrong-secret-key"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// Refused credentials are no outage: fail at once, not at the deadline.
	if _, err := Open(ctx, cfg, testLog(t)); err == nil || ctx.Err() != nil {
		t.Fatalf("open with a wrong secret: %v (context %v)", err, ctx.Err())
	}
}

func BenchmarkPutGet1MiB(b *testing.B) {
	srv := testservers.MinIO(b)
	s, err := Open(b.Context(), config(srv), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchPutGet(b, s)
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
