package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sandscan/sandscan/queue"
)

// lockTimeout bounds the wait for another process's lock on the file.
const lockTimeout = 3 * time.Second

// Queue is a queue.Queue in one bbolt file.
type Queue struct {
	db     *bolt.DB
	cfg    queue.Config
	log    *slog.Logger
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a job becomes ready
}

var _ queue.Queue = (*Queue)(nil)

// Open opens (creating if needed) the queue file at path. log may be nil.
func Open(path string, cfg queue.Config, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("embedded: %s is locked by another process: %w", path, err)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketReady, bucketLeases, bucketDigests} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: init %s: %w", path, err)
	}
	return &Queue{
		db:      db,
		cfg:     cfg.WithDefaults(),
		log:     log.With("queue", "embedded"),
		closed:  make(chan struct{}),
		changed: make(chan struct{}),
	}, nil
}

// Close closes the file; blocked Dequeue calls return queue.ErrClosed.
func (q *Queue) Close() error {
	err := queue.ErrClosed
	q.once.Do(func() {
		close(q.closed)
		err = q.db.Close()
	})
	if errors.Is(err, queue.ErrClosed) {
		return nil
	}
	return err
}

func (q *Queue) signal() {
	q.mu.Lock()
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

func (q *Queue) waitChan() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed
}

func (q *Queue) update(fn func(*bolt.Tx) error) error {
	select {
	case <-q.closed:
		return queue.ErrClosed
	default:
	}
	return q.db.Update(fn)
}

// Enqueue implements queue.Queue.
func (q *Queue) Enqueue(ctx context.Context, job queue.Job) (queue.Job, bool, error) {
	now := time.Now()
	job, err := queue.Prepare(job, now)
	if err != nil {
		return queue.Job{}, false, err
	}
	var existing bool
	err = q.update(func(tx *bolt.Tx) error {
		if id := tx.Bucket(bucketDigests).Get([]byte(job.Digest)); id != nil {
			r, err := getRecord(tx, string(id))
			if err != nil {
				return err
			}
			job, existing = r.Status.Job, true
			return nil
		}
		if tx.Bucket(bucketJobs).Get([]byte(job.ID)) != nil {
			return fmt.Errorf("%w: job id %q is taken", queue.ErrConflict, job.ID)
		}
		r := &record{Status: queue.Status{Job: job, Updated: job.Created}}
		if err := makeReady(tx, r, now); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDigests).Put([]byte(job.Digest), []byte(job.ID)); err != nil {
			return err
		}
		return putRecord(tx, r)
	})
	if err != nil {
		return queue.Job{}, false, err
	}
	if !existing {
		q.signal()
		q.log.DebugContext(ctx, "enqueued", "job", job.ID, "digest", job.Digest)
	}
	return job, existing, nil
}

// Dequeue implements queue.Queue.
func (q *Queue) Dequeue(ctx context.Context) (queue.Lease, error) {
	for {
		wake := q.waitChan() // before looking, so a signal in between is not lost
		l, wait, err := q.tryDequeue(ctx)
		if err != nil || l != nil {
			return l, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-q.closed:
			t.Stop()
			return nil, queue.ErrClosed
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// idleWait bounds a Dequeue's sleep when nothing is due: new jobs wake it
// at once, but a due time is only known from the file.
const idleWait = time.Minute

// tryDequeue expires overdue leases, then leases the first ready job. With
// none ready it returns how long to wait for the next due time.
func (q *Queue) tryDequeue(ctx context.Context) (*lease, time.Duration, error) {
	var l *lease
	wait := idleWait
	requeued := false
	err := q.update(func(tx *bolt.Tx) error {
		now := time.Now()
		n, err := q.expire(ctx, tx, now)
		if err != nil {
			return err
		}
		requeued = n > 0
		c := tx.Bucket(bucketReady).Cursor()
		k, id := c.First()
		if k == nil {
			if lk, _ := tx.Bucket(bucketLeases).Cursor().First(); lk != nil {
				wait = min(wait, keyTime(lk).Sub(now))
			}
			return nil
		}
		if at := keyTime(k); at.After(now) {
			wait = at.Sub(now)
			if lk, _ := tx.Bucket(bucketLeases).Cursor().First(); lk != nil {
				wait = min(wait, keyTime(lk).Sub(now))
			}
			return nil
		}
		r, err := getRecord(tx, string(id))
		if err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
		r.ReadyKey = nil
		r.Status.State = queue.StateRunning
		r.Status.Job.Attempts++
		r.Status.Updated = now.UTC()
		r.Token = newToken()
		if err := setLease(tx, r, now.Add(q.cfg.AckWait)); err != nil {
			return err
		}
		if err := putRecord(tx, r); err != nil {
			return err
		}
		l = &lease{q: q, job: r.Status.Job, token: r.Token}
		return nil
	})
	if requeued {
		q.signal() // other waiters may take the rest
	}
	if err != nil {
		return nil, 0, err
	}
	return l, max(wait, time.Millisecond), nil
}

// expire ends every lease past its deadline: the job is ready again, or
// dead when its deliveries are used up. It returns how many were requeued.
func (q *Queue) expire(ctx context.Context, tx *bolt.Tx, now time.Time) (int, error) {
	c := tx.Bucket(bucketLeases).Cursor()
	n := 0
	for k, id := c.First(); k != nil && !keyTime(k).After(now); k, id = c.First() {
		r, err := getRecord(tx, string(id))
		if err != nil {
			return n, err
		}
		if err := dropLease(tx, r); err != nil {
			return n, err
		}
		msg := fmt.Sprintf("lease expired on delivery %d: the worker stopped without ack or nack", r.Status.Job.Attempts)
		if r.Status.Job.Attempts >= q.cfg.MaxDeliver {
			r.Status.Error = msg
			q.log.WarnContext(ctx, "job dead", "job", r.Status.Job.ID, "error", msg)
			if err := finish(tx, r, queue.StateDead, now); err != nil {
				return n, err
			}
			continue
		}
		q.log.InfoContext(ctx, "lease expired, redelivering", "job", r.Status.Job.ID, "attempts", r.Status.Job.Attempts)
		r.Status.Updated = now.UTC()
		if err := makeReady(tx, r, now); err != nil {
			return n, err
		}
		if err := putRecord(tx, r); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Status implements queue.Queue.
func (q *Queue) Status(ctx context.Context, id string) (queue.Status, error) {
	if err := queue.ValidateID(id); err != nil {
		return queue.Status{}, err
	}
	var s queue.Status
	err := q.db.View(func(tx *bolt.Tx) error {
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		s = r.Status
		return nil
	})
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		err = queue.ErrClosed
	}
	return s, err
}

// Depth implements queue.Queue: the jobs holding a digest are the active ones.
func (q *Queue) Depth(ctx context.Context) (int, error) {
	n := 0
	err := q.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketDigests).Stats().KeyN
		return nil
	})
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		err = queue.ErrClosed
	}
	return n, err
}

func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lease is one delivery; token tells it apart from a later delivery of
// the same job after this one expired.
type lease struct {
	q     *Queue
	job   queue.Job
	token string
}

func (l *lease) Job() queue.Job { return l.job }

// current loads the job's record and checks this lease still holds it.
func (l *lease) current(tx *bolt.Tx) (*record, error) {
	r, err := getRecord(tx, l.job.ID)
	if err != nil {
		return nil, err
	}
	if r.Status.State != queue.StateRunning || r.Token != l.token {
		return nil, fmt.Errorf("%w: job %s is %s", queue.ErrLeaseLost, l.job.ID, r.Status.State)
	}
	return r, nil
}

func (l *lease) Ack(ctx context.Context, result json.RawMessage) error {
	if len(result) > queue.MaxResult || len(result) > 0 && !json.Valid(result) {
		return fmt.Errorf("%w: result of %d bytes must be JSON of at most %d", queue.ErrInvalid, len(result), queue.MaxResult)
	}
	return l.q.update(func(tx *bolt.Tx) error {
		r, err := l.current(tx)
		if err != nil {
			return err
		}
		r.Status.Result = result
		r.Status.Error = ""
		return finish(tx, r, queue.StateDone, time.Now())
	})
}

func (l *lease) Nack(ctx context.Context, cause error) error {
	requeued := false
	err := l.q.update(func(tx *bolt.Tx) error {
		r, err := l.current(tx)
		if err != nil {
			return err
		}
		now := time.Now()
		r.Status.Error = queue.ErrorText(cause)
		switch {
		case queue.IsPermanent(cause):
			return finish(tx, r, queue.StateFailed, now)
		case r.Status.Job.Attempts >= l.q.cfg.MaxDeliver:
			l.q.log.WarnContext(ctx, "job dead", "job", l.job.ID, "error", r.Status.Error)
			return finish(tx, r, queue.StateDead, now)
		}
		if err := dropLease(tx, r); err != nil {
			return err
		}
		r.Status.Updated = now.UTC()
		if err := makeReady(tx, r, now.Add(l.q.cfg.RetryDelay(r.Status.Job.Attempts))); err != nil {
			return err
		}
		requeued = true
		return putRecord(tx, r)
	})
	if requeued {
		l.q.signal()
	}
	return err
}

func (l *lease) InProgress(ctx context.Context) error {
	return l.q.update(func(tx *bolt.Tx) error {
		r, err := l.current(tx)
		if err != nil {
			return err
		}
		if err := setLease(tx, r, time.Now().Add(l.q.cfg.AckWait)); err != nil {
			return err
		}
		return putRecord(tx, r)
	})
}
