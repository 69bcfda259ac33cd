package queue

import (
	"context"
	"encoding/json"
	"time"
)

// Queue holds jobs durably and hands each to one worker at a time.
type Queue interface {
	// Enqueue adds job, filling in ID and Created when empty. When a job
	// for the same digest is already queued or running, it returns that
	// job and existing=true instead of queueing a second one.
	Enqueue(ctx context.Context, job Job) (queued Job, existing bool, err error)
	// Dequeue blocks until a job is ready or ctx ends, and leases it to
	// the caller for the queue's ack wait.
	Dequeue(ctx context.Context) (Lease, error)
	// Status reports a job's state by id (ErrNotFound when unknown).
	Status(ctx context.Context, id string) (Status, error)
	// Depth counts jobs queued or running, for metrics and back-pressure.
	Depth(ctx context.Context) (int, error)
	// Close releases the queue; blocked Dequeue calls return ErrClosed.
	Close() error
}

// Lease is one delivery of a job. Exactly one of Ack or Nack ends it; a
// lease neither acked nor extended in time expires and the job is
// delivered again.
type Lease interface {
	Job() Job
	// Ack marks the job done and keeps result (a small JSON document,
	// at most MaxResult bytes, may be nil) in its status.
	Ack(ctx context.Context, result json.RawMessage) error
	// Nack records cause and queues the job again, or parks it as dead
	// when it has been delivered MaxDeliver times. A cause wrapped with
	// Permanent fails the job at once: no retry can help it.
	Nack(ctx context.Context, cause error) error
	// InProgress extends the lease by the ack wait: call it during long
	// runs, well within the ack wait.
	InProgress(ctx context.Context) error
}

// Status is what a queue knows of one job.
type Status struct {
	Job     Job             `json:"job"`
	State   State           `json:"state"`
	Error   string          `json:"error,omitempty"`  // last failure, kept through retries
	Result  json.RawMessage `json:"result,omitempty"` // from Ack
	Updated time.Time       `json:"updated"`
}

// Config tunes delivery; the zero value takes the defaults.
type Config struct {
	// AckWait is a lease's length: a worker that neither acks nor calls
	// InProgress within it is taken for dead.
	AckWait time.Duration
	// MaxDeliver bounds deliveries; the job is dead after the last one fails.
	MaxDeliver int
	// Backoff delays a Nacked job's next delivery by Backoff times the
	// attempts so far, so a failing dependency gets time to come back.
	Backoff time.Duration
}

// Defaults for Config fields left zero.
const (
	DefaultAckWait    = 2 * time.Minute
	DefaultMaxDeliver = 5
	DefaultBackoff    = 5 * time.Second
	// MaxResult bounds an Ack result: it is a summary, the report itself
	// goes to the store.
	MaxResult = 64 << 10
)

// WithDefaults returns c with zero fields set to the defaults. A negative
// Backoff means no delay.
func (c Config) WithDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.Backoff == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Backoff < 0 {
		c.Backoff = 0
	}
	return c
}

// RetryDelay is how long a job Nacked after attempts deliveries waits.
func (c Config) RetryDelay(attempts int) time.Duration {
	return c.Backoff * time.Duration(max(attempts, 1))
}
