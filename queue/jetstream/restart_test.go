package jetstream

import (
	"context"
	"testing"
	"time"

	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/queuetest"
)

// TestServerRestartUnderOpenQueue: a worker's queue stays open while
// nats-server restarts; it reconnects, and what was queued and what is
// queued afterwards both get delivered.
func TestServerRestartUnderOpenQueue(t *testing.T) {
	srv := testservers.NATS(t)
	q := connect(t, srv, queue.Config{AckWait: time.Minute})
	a, _, err := q.Enqueue(t.Context(), queuetest.NewJob("before-restart"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	got := make(chan queue.Lease, 2)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
		defer cancel()
		for range 2 {
			l, err := q.Dequeue(ctx)
			if err != nil {
				t.Error(err)
				close(got)
				return
			}
			got <- l
		}
	}()
	time.Sleep(time.Second)
	srv.Start(t)

	var b queue.Job
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Enqueue fails until the client has reconnected.
		b, _, err = q.Enqueue(t.Context(), queuetest.NewJob("after-restart"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("enqueue after the restart: %v", err)
	}
	for _, want := range []string{a.ID, b.ID} {
		l, ok := <-got
		if !ok {
			t.FailNow()
		}
		if l.Job().ID != want {
			t.Fatalf("delivered %s, want %s", l.Job().ID, want)
		}
		if err := l.Ack(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
}
