package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/queue/queuetest"
)

func openEmbedded(t *testing.T, cfg queue.Config) queue.Queue {
	q, err := embedded.Open(filepath.Join(t.TempDir(), "q.db"), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestHeartbeatKeepsLease(t *testing.T) {
	q := openEmbedded(t, queue.Config{AckWait: time.Second})
	if _, _, err := q.Enqueue(t.Context(), queuetest.NewJob("hb")); err != nil {
		t.Fatal(err)
	}
	l, err := q.Dequeue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stop := queue.Heartbeat(t.Context(), l, 250*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	if other, err := q.Dequeue(ctx); err == nil {
		t.Fatalf("job redelivered (attempt %d) while its heartbeat ran", other.Job().Attempts)
	}
	if err := stop(); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestHeartbeatReportsLostLease(t *testing.T) {
	q := openEmbedded(t, queue.Config{AckWait: 500 * time.Millisecond})
	if _, _, err := q.Enqueue(t.Context(), queuetest.NewJob("hb-lost")); err != nil {
		t.Fatal(err)
	}
	l, err := q.Dequeue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Beating slower than the ack wait: another worker takes the job.
	stop := queue.Heartbeat(t.Context(), l, 2*time.Second)
	l2, err := q.Dequeue(t.Context())
	if err != nil || l2.Job().Attempts != 2 {
		t.Fatalf("redelivery: %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	if err := stop(); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("heartbeat after losing the lease: %v, want ErrLeaseLost", err)
	}
}
