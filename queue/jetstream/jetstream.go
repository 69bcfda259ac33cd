package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sandscan/sandscan/queue"
)

// Queue is a queue.Queue on NATS JetStream.
type Queue struct {
	cfg    Config
	nc     *nats.Conn
	ownsNC bool
	js     jetstream.JetStream
	stream jetstream.Stream
	cons   jetstream.Consumer
	kv     jetstream.KeyValue
	log    *slog.Logger

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
}

var _ queue.Queue = (*Queue)(nil)

// Connect dials url and opens the queue on that connection, which Close
// then closes. It keeps reconnecting through server restarts.
func Connect(ctx context.Context, url string, cfg Config, log *slog.Logger) (*Queue, error) {
	nc, err := nats.Connect(url,
		nats.Name("sandscan-queue"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect %s: %w", url, err)
	}
	q, err := Open(ctx, nc, cfg, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	q.ownsNC = true
	return q, nil
}

// Open creates or updates the streams, bucket and consumer the queue
// uses on nc and returns the queue. log may be nil.
func Open(ctx context.Context, nc *nats.Conn, cfg Config, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Sandscan analysis jobs",
		Subjects:    []string{cfg.jobSubject("*")},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Stream, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.deadStream(),
		Description: "Sandscan jobs out of deliveries, with their last error",
		Subjects:    []string{cfg.deadSubject("*")},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.deadStream(), err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Sandscan job status and digest claims",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: bucket %s: %w", cfg.Bucket, err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       cfg.Consumer,
		Description:   "Sandscan workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		FilterSubject: cfg.jobSubject("*"),
		// Unlimited on the server: Dequeue counts deliveries itself and
		// dead-letters the one past MaxDeliver, so the last error is kept
		// and the job's status is updated even when every worker that
		// took it died.
		MaxDeliver:    -1,
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: consumer %s: %w", cfg.Consumer, err)
	}
	qctx, cancel := context.WithCancel(context.Background())
	return &Queue{
		cfg: cfg, nc: nc, js: js, stream: stream, cons: cons, kv: kv,
		log: log.With("queue", "jetstream"), ctx: qctx, cancel: cancel,
	}, nil
}

// Close stops blocked Dequeue calls and, after Connect, closes the connection.
func (q *Queue) Close() error {
	q.cancel()
	if q.ownsNC {
		q.nc.Close()
	}
	return nil
}

func (q *Queue) open() error {
	if q.ctx.Err() != nil {
		return queue.ErrClosed
	}
	return nil
}

// Enqueue implements queue.Queue. The digest is claimed first with a
// create-only key, so of two submitters only one queues a job.
func (q *Queue) Enqueue(ctx context.Context, job queue.Job) (queue.Job, bool, error) {
	job, err := queue.Prepare(job, time.Now())
	if err != nil {
		return queue.Job{}, false, err
	}
	if err := q.open(); err != nil {
		return queue.Job{}, false, err
	}
	dkey := digestKey(job.Digest)
	for range 5 {
		rev, err := q.kv.Create(ctx, dkey, []byte(job.ID))
		if err == nil {
			if err := q.queueNew(ctx, job); err != nil {
				q.kv.Delete(context.WithoutCancel(ctx), dkey, jetstream.LastRevision(rev))
				return queue.Job{}, false, err
			}
			q.log.DebugContext(ctx, "enqueued", "job", job.ID, "digest", job.Digest)
			return job, false, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return queue.Job{}, false, fmt.Errorf("jetstream: claim digest: %w", err)
		}
		existing, ok, err := q.claimHolder(ctx, dkey)
		if err != nil {
			return queue.Job{}, false, err
		}
		if ok {
			return existing, true, nil
		}
		// The claim was stale and is gone now: try again.
	}
	return queue.Job{}, false, fmt.Errorf("%w: digest %s keeps changing hands", queue.ErrConflict, job.Digest)
}

// queueNew stores the job's status, then publishes it.
func (q *Queue) queueNew(ctx context.Context, job queue.Job) error {
	st := queue.Status{Job: job, State: queue.StateQueued, Updated: job.Created}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if _, err := q.kv.Create(ctx, jobKey(job.ID), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("%w: job id %q is taken", queue.ErrConflict, job.ID)
		}
		return fmt.Errorf("jetstream: store status: %w", err)
	}
	if err := q.publish(ctx, job); err != nil {
		q.kv.Delete(context.WithoutCancel(ctx), jobKey(job.ID))
		return err
	}
	return nil
}

// publish sends the job with its id as message id: the server drops a
// second publish of it within its duplicate window.
func (q *Queue) publish(ctx context.Context, job queue.Job) error {
	b, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if _, err := q.js.Publish(ctx, q.cfg.jobSubject(job.ID), b, jetstream.WithMsgID(job.ID)); err != nil {
		return fmt.Errorf("jetstream: publish job %s: %w", job.ID, err)
	}
	return nil
}

// claimHolder returns the active job holding digest key dkey. A claim left
// by a finished job is deleted (ok false). A queued job whose message is
// missing (its submitter died between status and publish) is published
// again, so a claim never blocks a digest for good.
func (q *Queue) claimHolder(ctx context.Context, dkey string) (queue.Job, bool, error) {
	e, err := q.kv.Get(ctx, dkey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return queue.Job{}, false, nil
	}
	if err != nil {
		return queue.Job{}, false, fmt.Errorf("jetstream: read claim: %w", err)
	}
	id := string(e.Value())
	st, _, err := q.status(ctx, id)
	if err == nil && st.State.Active() {
		if st.State == queue.StateQueued {
			if err := q.repair(ctx, st.Job); err != nil {
				return queue.Job{}, false, err
			}
		}
		return st.Job, true, nil
	}
	if err != nil && !errors.Is(err, queue.ErrNotFound) {
		return queue.Job{}, false, err
	}
	err = q.kv.Delete(ctx, dkey, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return queue.Job{}, false, fmt.Errorf("jetstream: drop stale claim: %w", err)
	}
	return queue.Job{}, false, nil
}

// repair publishes a queued job again when the stream holds no message
// for it.
func (q *Queue) repair(ctx context.Context, job queue.Job) error {
	_, err := q.stream.GetLastMsgForSubject(ctx, q.cfg.jobSubject(job.ID))
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("jetstream: look up job %s: %w", job.ID, err)
	}
	q.log.WarnContext(ctx, "queued job had no message, publishing it again", "job", job.ID)
	return q.publish(ctx, job)
}

// status reads a job's status and its revision.
func (q *Queue) status(ctx context.Context, id string) (queue.Status, uint64, error) {
	e, err := q.kv.Get(ctx, jobKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return queue.Status{}, 0, fmt.Errorf("%w: job %q", queue.ErrNotFound, id)
	}
	if err != nil {
		return queue.Status{}, 0, fmt.Errorf("jetstream: status of %s: %w", id, err)
	}
	var st queue.Status
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return queue.Status{}, 0, fmt.Errorf("jetstream: status of %s: %w", id, err)
	}
	return st, e.Revision(), nil
}

// errUnchanged from a modify func leaves the status as it is.
var errUnchanged = errors.New("unchanged")

// modify applies fn to a job's status with compare-and-set, again on a
// concurrent change, and returns the status written (or read, when fn
// returned errUnchanged).
func (q *Queue) modify(ctx context.Context, id string, fn func(*queue.Status) error) (queue.Status, error) {
	for {
		st, rev, err := q.status(ctx, id)
		if err != nil {
			return st, err
		}
		if err := fn(&st); err != nil {
			if errors.Is(err, errUnchanged) {
				return st, nil
			}
			return st, err
		}
		st.Updated = time.Now().UTC()
		b, err := json.Marshal(st)
		if err != nil {
			return st, err
		}
		_, err = q.kv.Update(ctx, jobKey(id), b, rev)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return st, fmt.Errorf("jetstream: update status of %s: %w", id, err)
		}
	}
}

// release frees a finished job's digest claim, if the job still holds it.
func (q *Queue) release(ctx context.Context, job queue.Job) {
	dkey := digestKey(job.Digest)
	e, err := q.kv.Get(ctx, dkey)
	if err != nil || string(e.Value()) != job.ID {
		return
	}
	if err := q.kv.Delete(ctx, dkey, jetstream.LastRevision(e.Revision())); err != nil {
		// Harmless: the next Enqueue of the digest drops a stale claim.
		q.log.WarnContext(ctx, "release digest claim", "job", job.ID, "error", err)
	}
}

// deadLetter is what the dead-letter subject carries.
type deadLetter struct {
	Job   queue.Job `json:"job"`
	Error string    `json:"error"`
	Time  time.Time `json:"time"`
}

func (q *Queue) publishDead(ctx context.Context, st queue.Status) error {
	b, err := json.Marshal(deadLetter{Job: st.Job, Error: st.Error, Time: st.Updated})
	if err != nil {
		return err
	}
	// The message id makes a retried dead-lettering publish once.
	_, err = q.js.Publish(ctx, q.cfg.deadSubject(st.Job.ID), b, jetstream.WithMsgID("dead-"+st.Job.ID))
	if err != nil {
		return fmt.Errorf("jetstream: dead letter for %s: %w", st.Job.ID, err)
	}
	return nil
}

// Status implements queue.Queue.
func (q *Queue) Status(ctx context.Context, id string) (queue.Status, error) {
	if err := queue.ValidateID(id); err != nil {
		return queue.Status{}, err
	}
	if err := q.open(); err != nil {
		return queue.Status{}, err
	}
	st, _, err := q.status(ctx, id)
	return st, err
}

// Depth implements queue.Queue: messages not yet delivered plus those
// delivered and not yet acked, as the consumer counts them.
func (q *Queue) Depth(ctx context.Context) (int, error) {
	if err := q.open(); err != nil {
		return 0, err
	}
	info, err := q.cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("jetstream: consumer info: %w", err)
	}
	return int(info.NumPending) + info.NumAckPending, nil
}
