package queuetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sandscan/sandscan/queue"
)

// Run runs the whole suite against the backend newEnv makes.
func Run(t *testing.T, newEnv NewEnv) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewEnv)
	}{
		{"EnqueueDequeueAck", testEnqueueDequeueAck},
		{"Invalid", testInvalid},
		{"Dedupe", testDedupe},
		{"Order", testOrder},
		{"NackRetries", testNackRetries},
		{"MaxDeliverDead", testMaxDeliverDead},
		{"PermanentFails", testPermanentFails},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseExpiryDead", testLeaseExpiryDead},
		{"InProgress", testInProgress},
		{"Restart", testRestart},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
		{"WorkerKilled", testWorkerKilled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newEnv) })
	}
}

// long is an ack wait no test outlasts.
const long = time.Minute

func open(t *testing.T, newEnv NewEnv, cfg queue.Config) queue.Queue {
	t.Helper()
	q := newEnv(t, cfg).Open(t)
	t.Cleanup(func() { q.Close() })
	return q
}

func mustEnqueue(t *testing.T, q queue.Queue, j queue.Job) queue.Job {
	t.Helper()
	got, existing, err := q.Enqueue(t.Context(), j)
	if err != nil {
		t.Fatalf("enqueue %s: %v", j.Digest, err)
	}
	if existing {
		t.Fatalf("enqueue %s: reported as existing", j.Digest)
	}
	return got
}

func mustDequeue(t *testing.T, q queue.Queue, within time.Duration) queue.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	l, err := q.Dequeue(ctx)
	if err != nil {
		t.Fatalf("dequeue: %v", err)
	}
	return l
}

// mustBeEmpty checks nothing is delivered within d.
func mustBeEmpty(t *testing.T, q queue.Queue, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	l, err := q.Dequeue(ctx)
	if err == nil {
		t.Fatalf("dequeue delivered %s (attempt %d), want nothing", l.Job().ID, l.Job().Attempts)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dequeue on an empty queue: %v, want the context's deadline", err)
	}
}

func mustStatus(t *testing.T, q queue.Queue, id string) queue.Status {
	t.Helper()
	s, err := q.Status(t.Context(), id)
	if err != nil {
		t.Fatalf("status %s: %v", id, err)
	}
	return s
}

func wantState(t *testing.T, q queue.Queue, id string, want queue.State) queue.Status {
	t.Helper()
	s := mustStatus(t, q, id)
	if s.State != want {
		t.Fatalf("job %s is %s (error %q), want %s", id, s.State, s.Error, want)
	}
	return s
}

func wantDepth(t *testing.T, q queue.Queue, want int) {
	t.Helper()
	n, err := q.Depth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("depth %d, want %d", n, want)
	}
}

func testEnqueueDequeueAck(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long})
	in := NewJob("basic")
	j := mustEnqueue(t, q, in)
	if queue.ValidateID(j.ID) != nil || j.Created.IsZero() || j.Digest != in.Digest {
		t.Fatalf("enqueued %+v", j)
	}
	wantState(t, q, j.ID, queue.StateQueued)
	wantDepth(t, q, 1)

	l := mustDequeue(t, q, 10*time.Second)
	got := l.Job()
	if got.ID != j.ID || got.Digest != in.Digest || got.Image != in.Image || got.Reason != in.Reason ||
		got.Mode != in.Mode || got.AnalyzerVersion != in.AnalyzerVersion || string(got.Payload) != string(in.Payload) ||
		got.Attempts != 1 || !got.Created.Equal(j.Created) {
		t.Fatalf("dequeued %+v\nenqueued %+v", got, j)
	}
	wantState(t, q, j.ID, queue.StateRunning)
	wantDepth(t, q, 1)

	result := json.RawMessage(`{"verdict":"clean"}`)
	if err := l.Ack(t.Context(), result); err != nil {
		t.Fatal(err)
	}
	s := wantState(t, q, j.ID, queue.StateDone)
	if string(s.Result) != string(result) || s.Job.Attempts != 1 || s.Updated.Before(j.Created) {
		t.Fatalf("status after ack: %+v", s)
	}
	wantDepth(t, q, 0)
	if err := l.Ack(t.Context(), nil); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("second ack: %v, want ErrLeaseLost", err)
	}
	mustBeEmpty(t, q, 300*time.Millisecond)
}

func testInvalid(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long})
	bad := []queue.Job{
		{Digest: "sha256:abc", Reason: queue.ReasonAPI, Mode: queue.ModeDetonate},
		{Digest: Digest("x"), Reason: "cron", Mode: queue.ModeDetonate},
		{Digest: Digest("x"), Reason: queue.ReasonAPI, Mode: "explode"},
		{ID: "../../etc", Digest: Digest("x"), Reason: queue.ReasonAPI, Mode: queue.ModeDetonate},
		{Digest: Digest("x"), Reason: queue.ReasonAPI, Mode: queue.ModeDetonate, Payload: []byte("{")},
	}
	for i, j := range bad {
		if _, _, err := q.Enqueue(t.Context(), j); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("bad job %d: %v, want ErrInvalid", i, err)
		}
	}
	wantDepth(t, q, 0)
	if _, err := q.Status(t.Context(), "nosuchjob"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("status of an unknown id: %v, want ErrNotFound", err)
	}
	mustEnqueue(t, q, NewJob("valid"))
	l := mustDequeue(t, q, 10*time.Second)
	if err := l.Ack(t.Context(), json.RawMessage("not json")); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("ack with a non-JSON result: %v, want ErrInvalid", err)
	}
	if err := l.Ack(t.Context(), make(json.RawMessage, queue.MaxResult+1)); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("ack with an oversized result: %v, want ErrInvalid", err)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Errorf("ack after refused acks: %v", err)
	}
}

func testDedupe(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long})
	first := mustEnqueue(t, q, NewJob("dup"))

	again := NewJob("dup")
	again.ID = "another-id"
	again.Reason = queue.ReasonWebhook
	got, existing, err := q.Enqueue(t.Context(), again)
	if err != nil || !existing || got.ID != first.ID || got.Reason != queue.ReasonAPI {
		t.Fatalf("second enqueue while queued: %+v existing=%v err=%v, want job %s", got, existing, err, first.ID)
	}
	if _, err := q.Status(t.Context(), "another-id"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("the duplicate's id exists: %v", err)
	}
	wantDepth(t, q, 1)

	l := mustDequeue(t, q, 10*time.Second)
	got, existing, err = q.Enqueue(t.Context(), NewJob("dup"))
	if err != nil || !existing || got.ID != first.ID {
		t.Fatalf("enqueue while running: %+v existing=%v err=%v", got, existing, err)
	}
	// Another digest is not a duplicate, and an id in use is a conflict.
	mustEnqueue(t, q, NewJob("other"))
	taken := NewJob("third")
	taken.ID = first.ID
	if _, _, err := q.Enqueue(t.Context(), taken); !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("enqueue with a taken id: %v, want ErrConflict", err)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// Done: the digest can run again (a rescan), as a new job.
	next, existing, err := q.Enqueue(t.Context(), NewJob("dup"))
	if err != nil || existing || next.ID == first.ID {
		t.Fatalf("enqueue after done: %+v existing=%v err=%v", next, existing, err)
	}
}

func testOrder(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long})
	var ids []string
	for i := range 5 {
		ids = append(ids, mustEnqueue(t, q, NewJob(fmt.Sprint("order", i))).ID)
	}
	for i, want := range ids {
		l := mustDequeue(t, q, 10*time.Second)
		if l.Job().ID != want {
			t.Fatalf("delivery %d: %s, want %s (first in, first out)", i, l.Job().ID, want)
		}
		if err := l.Ack(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

func testNackRetries(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long, MaxDeliver: 3, Backoff: -1})
	j := mustEnqueue(t, q, NewJob("retry"))
	l := mustDequeue(t, q, 10*time.Second)
	if err := l.Nack(t.Context(), errors.New("registry unreachable")); err != nil {
		t.Fatal(err)
	}
	s := wantState(t, q, j.ID, queue.StateQueued)
	if s.Error != "registry unreachable" {
		t.Fatalf("error kept after nack: %q", s.Error)
	}
	wantDepth(t, q, 1)
	l = mustDequeue(t, q, 10*time.Second)
	if l.Job().ID != j.ID || l.Job().Attempts != 2 {
		t.Fatalf("redelivered %s attempt %d, want %s attempt 2", l.Job().ID, l.Job().Attempts, j.ID)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if s := wantState(t, q, j.ID, queue.StateDone); s.Error != "" {
		t.Fatalf("done job keeps error %q", s.Error)
	}
}

func testMaxDeliverDead(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long, MaxDeliver: 2, Backoff: -1})
	j := mustEnqueue(t, q, NewJob("dead"))
	for i := 1; i <= 2; i++ {
		l := mustDequeue(t, q, 10*time.Second)
		if l.Job().Attempts != i {
			t.Fatalf("delivery %d has attempts %d", i, l.Job().Attempts)
		}
		if err := l.Nack(t.Context(), fmt.Errorf("sandbox crashed (%d)", i)); err != nil {
			t.Fatal(err)
		}
	}
	s := wantState(t, q, j.ID, queue.StateDead)
	if s.Error != "sandbox crashed (2)" || s.Job.Attempts != 2 {
		t.Fatalf("dead job: error %q attempts %d", s.Error, s.Job.Attempts)
	}
	wantDepth(t, q, 0)
	mustBeEmpty(t, q, 500*time.Millisecond)
	// A dead job does not hold its digest.
	if _, existing, err := q.Enqueue(t.Context(), NewJob("dead")); err != nil || existing {
		t.Fatalf("enqueue after dead: existing=%v err=%v", existing, err)
	}
}

func testPermanentFails(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long, MaxDeliver: 5, Backoff: -1})
	j := mustEnqueue(t, q, NewJob("permanent"))
	l := mustDequeue(t, q, 10*time.Second)
	cause := queue.Permanent(errors.New("not an image archive"))
	if err := l.Nack(t.Context(), fmt.Errorf("fetch: %w", cause)); err != nil {
		t.Fatal(err)
	}
	s := wantState(t, q, j.ID, queue.StateFailed)
	if s.Error != "fetch: not an image archive" {
		t.Fatalf("failed job error %q", s.Error)
	}
	wantDepth(t, q, 0)
	mustBeEmpty(t, q, 500*time.Millisecond)
}

func testLeaseExpiry(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: time.Second, MaxDeliver: 3})
	j := mustEnqueue(t, q, NewJob("expiry"))
	stale := mustDequeue(t, q, 10*time.Second)
	// Not acked: the lease runs out and the job comes back.
	l := mustDequeue(t, q, 15*time.Second)
	if l.Job().ID != j.ID || l.Job().Attempts != 2 {
		t.Fatalf("redelivered %s attempt %d, want %s attempt 2", l.Job().ID, l.Job().Attempts, j.ID)
	}
	wantState(t, q, j.ID, queue.StateRunning)
	if err := stale.Ack(t.Context(), nil); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("ack on the expired lease: %v, want ErrLeaseLost", err)
	}
	if err := stale.InProgress(t.Context()); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("in-progress on the expired lease: %v, want ErrLeaseLost", err)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	wantState(t, q, j.ID, queue.StateDone)
}

func testLeaseExpiryDead(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: time.Second, MaxDeliver: 1})
	j := mustEnqueue(t, q, NewJob("expiry-dead"))
	mustDequeue(t, q, 10*time.Second)
	// Its only delivery lapses: it must not come back, and ends dead.
	mustBeEmpty(t, q, 4*time.Second)
	s := wantState(t, q, j.ID, queue.StateDead)
	if s.Error == "" {
		t.Fatal("dead after a lapsed lease, with no error kept")
	}
	wantDepth(t, q, 0)
}

func testInProgress(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: 1500 * time.Millisecond, MaxDeliver: 3})
	j := mustEnqueue(t, q, NewJob("long-run"))
	l := mustDequeue(t, q, 10*time.Second)
	// A run of three ack waits, signalled every fifth of one: no redelivery.
	var wg sync.WaitGroup
	var inErr error
	wg.Go(func() {
		for range 15 {
			time.Sleep(300 * time.Millisecond)
			if err := l.InProgress(t.Context()); err != nil {
				inErr = err
				return
			}
		}
	})
	mustBeEmpty(t, q, 4*time.Second)
	wg.Wait()
	if inErr != nil {
		t.Fatalf("in progress: %v", inErr)
	}
	if err := l.Ack(t.Context(), nil); err != nil {
		t.Fatalf("ack after a long run: %v", err)
	}
	if s := wantState(t, q, j.ID, queue.StateDone); s.Job.Attempts != 1 {
		t.Fatalf("attempts %d, want 1", s.Job.Attempts)
	}
}

func testRestart(t *testing.T, newEnv NewEnv) {
	env := newEnv(t, queue.Config{AckWait: 2 * time.Second, MaxDeliver: 3})
	q := env.Open(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, mustEnqueue(t, q, NewJob(fmt.Sprint("restart", i))).ID)
	}
	mustDequeue(t, q, 10*time.Second) // held by a worker when everything stops
	q.Close()
	env.Restart(t)

	q = env.Open(t)
	defer q.Close()
	wantState(t, q, ids[1], queue.StateQueued)
	wantDepth(t, q, 3)
	if _, existing, err := q.Enqueue(t.Context(), NewJob("restart1")); err != nil || !existing {
		t.Fatalf("dedupe after restart: existing=%v err=%v", existing, err)
	}
	seen := map[string]int{}
	for range 3 {
		l := mustDequeue(t, q, 20*time.Second)
		seen[l.Job().ID] = l.Job().Attempts
		if err := l.Ack(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 3 || seen[ids[0]] != 2 || seen[ids[1]] != 1 || seen[ids[2]] != 1 {
		t.Fatalf("after restart delivered %v (id: attempts), want %v each once and %s twice in all", seen, ids, ids[0])
	}
	wantDepth(t, q, 0)
}

func testConcurrent(t *testing.T, newEnv NewEnv) {
	q := open(t, newEnv, queue.Config{AckWait: long})
	const jobs, workers = 40, 4
	for i := range jobs {
		mustEnqueue(t, q, NewJob(fmt.Sprint("concurrent", i)))
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				done := len(seen) == jobs
				mu.Unlock()
				if done {
					return
				}
				c, stop := context.WithTimeout(ctx, time.Second)
				l, err := q.Dequeue(c)
				stop()
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					continue
				}
				mu.Lock()
				seen[l.Job().ID]++
				mu.Unlock()
				if err := l.Ack(ctx, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != jobs {
		t.Fatalf("%d distinct jobs delivered, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %s delivered %d times", id, n)
		}
	}
	wantDepth(t, q, 0)
}

func testClose(t *testing.T, newEnv NewEnv) {
	q := newEnv(t, queue.Config{AckWait: long}).Open(t)
	errc := make(chan error, 1)
	go func() {
		_, err := q.Dequeue(t.Context())
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, queue.ErrClosed) {
			t.Fatalf("dequeue ended by close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("close left dequeue blocked")
	}
	if _, _, err := q.Enqueue(t.Context(), NewJob("late")); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("enqueue after close: %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
