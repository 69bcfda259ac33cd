package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/queuetest"
)

func connect(t *testing.T, srv *testservers.NATSServer, cfg queue.Config) *Queue {
	t.Helper()
	q, err := Connect(t.Context(), srv.URL, Config{Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func dequeue(t *testing.T, q queue.Queue) queue.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := q.Dequeue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// readDead returns the dead letter published for id.
func readDead(t *testing.T, q *Queue, id string) deadLetter {
	t.Helper()
	s, err := q.js.Stream(t.Context(), q.cfg.deadStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(t.Context(), q.cfg.deadSubject(id))
	if err != nil {
		t.Fatalf("no dead letter for %s: %v", id, err)
	}
	var d deadLetter
	if err := json.Unmarshal(m.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeadLetterKeepsError(t *testing.T) {
	q := connect(t, testservers.NATS(t), queue.Config{AckWait: time.Minute, MaxDeliver: 2, Backoff: -1})
	j, _, err := q.Enqueue(t.Context(), queuetest.NewJob("dead-letter"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cause := range []string{"first failure", "last failure"} {
		if err := dequeue(t, q).Nack(t.Context(), errors.New(cause)); err != nil {
			t.Fatal(err)
		}
	}
	d := readDead(t, q, j.ID)
	if d.Error != "last failure" || d.Job.ID != j.ID || d.Job.Digest != j.Digest || d.Job.Attempts != 2 {
		t.Fatalf("dead letter %+v", d)
	}
	// The work-queue stream no longer holds it.
	if _, err := q.stream.GetLastMsgForSubject(t.Context(), q.cfg.jobSubject(j.ID)); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("job message still in the stream: %v", err)
	}
}

func TestDeadLetterAfterLapsedLeases(t *testing.T) {
	q := connect(t, testservers.NATS(t), queue.Config{AckWait: time.Second, MaxDeliver: 2})
	j, _, err := q.Enqueue(t.Context(), queuetest.NewJob("lapsed"))
	if err != nil {
		t.Fatal(err)
	}
	dequeue(t, q)
	dequeue(t, q) // the first lease lapsed; this one will too
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if l, err := q.Dequeue(ctx); err == nil {
		t.Fatalf("delivered %s a third time with MaxDeliver 2", l.Job().ID)
	}
	if d := readDead(t, q, j.ID); d.Error == "" || d.Job.Attempts != 2 {
		t.Fatalf("dead letter %+v", d)
	}
}

// A submitter that died between storing the status and publishing leaves
// a claim; the next Enqueue of the digest publishes the job again.
func TestRepairUnpublishedJob(t *testing.T) {
	q := connect(t, testservers.NATS(t), queue.Config{AckWait: time.Minute})
	job, err := queue.Prepare(queuetest.NewJob("orphan"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, _ := json.Marshal(queue.Status{Job: job, State: queue.StateQueued, Updated: job.Created})
	if _, err := q.kv.Create(t.Context(), digestKey(job.Digest), []byte(job.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.kv.Create(t.Context(), jobKey(job.ID), st); err != nil {
		t.Fatal(err)
	}
	got, existing, err := q.Enqueue(t.Context(), queuetest.NewJob("orphan"))
	if err != nil || !existing || got.ID != job.ID {
		t.Fatalf("enqueue: %+v existing=%v err=%v", got, existing, err)
	}
	l := dequeue(t, q)
	if l.Job().ID != job.ID {
		t.Fatalf("dequeued %s, want the repaired %s", l.Job().ID, job.ID)
	}
	// A second duplicate submission must not publish it once more.
	if _, existing, err := q.Enqueue(t.Context(), queuetest.NewJob("orphan")); err != nil || !existing {
		t.Fatalf("enqueue while running: existing=%v err=%v", existing, err)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Depth(t.Context()); err != nil || n != 0 {
		t.Fatalf("depth %d err %v after the only job was acked", n, err)
	}
}

// A claim whose job finished without releasing it does not block the digest.
func TestStaleClaim(t *testing.T) {
	q := connect(t, testservers.NATS(t), queue.Config{AckWait: time.Minute})
	j, _, err := q.Enqueue(t.Context(), queuetest.NewJob("stale"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.modify(t.Context(), j.ID, func(st *queue.Status) error {
		st.State = queue.StateDone
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	next, existing, err := q.Enqueue(t.Context(), queuetest.NewJob("stale"))
	if err != nil || existing || next.ID == j.ID {
		t.Fatalf("enqueue over a stale claim: %+v existing=%v err=%v", next, existing, err)
	}
}

func TestMalformedMessageDropped(t *testing.T) {
	q := connect(t, testservers.NATS(t), queue.Config{AckWait: time.Minute})
	if _, err := q.js.Publish(t.Context(), q.cfg.jobSubject("junk"), []byte("not a job")); err != nil {
		t.Fatal(err)
	}
	j, _, err := q.Enqueue(t.Context(), queuetest.NewJob("after-junk"))
	if err != nil {
		t.Fatal(err)
	}
	if l := dequeue(t, q); l.Job().ID != j.ID {
		t.Fatalf("dequeued %s, want %s", l.Job().ID, j.ID)
	}
}

// Workers on two connections share the consumer: each job goes to one.
func TestTwoWorkers(t *testing.T) {
	srv := testservers.NATS(t)
	a := connect(t, srv, queue.Config{AckWait: time.Minute})
	b := connect(t, srv, queue.Config{AckWait: time.Minute})
	ja, _, err := a.Enqueue(t.Context(), queuetest.NewJob("w1"))
	if err != nil {
		t.Fatal(err)
	}
	jb, existing, err := b.Enqueue(t.Context(), queuetest.NewJob("w2"))
	if err != nil || existing {
		t.Fatal(err, existing)
	}
	if _, existing, _ := b.Enqueue(t.Context(), queuetest.NewJob("w1")); !existing {
		t.Fatal("dedupe does not hold across connections")
	}
	la, lb := dequeue(t, a), dequeue(t, b)
	got := map[string]bool{la.Job().ID: true, lb.Job().ID: true}
	if !got[ja.ID] || !got[jb.ID] {
		t.Fatalf("workers got %v, want %s and %s", got, ja.ID, jb.ID)
	}
	// One worker's lease is checked by the other's queue too.
	if err := la.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Status(t.Context(), la.Job().ID); err != nil || st.State != queue.StateDone {
		t.Fatalf("status seen by the other worker: %+v %v", st, err)
	}
}

func BenchmarkEnqueueDequeueAck(b *testing.B) {
	srv := testservers.NATS(b)
	q, err := Connect(b.Context(), srv.URL, Config{Config: queue.Config{AckWait: time.Minute}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	queuetest.Bench(b, q)
}
