package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sandscan/sandscan/queue"
)

// pollWait is one pull request's life: short enough that a Dequeue notices
// a lost server, long enough to cost little when idle.
const pollWait = 5 * time.Second

// Dequeue implements queue.Queue.
func (q *Queue) Dequeue(ctx context.Context) (queue.Lease, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unhook := context.AfterFunc(q.ctx, stop) // Close ends the wait
	defer unhook()
	failures := 0
	for {
		if err := q.open(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		msg, err := q.next(ctx)
		if err != nil {
			if q.open() != nil {
				return nil, queue.ErrClosed
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				// Server away (restart, network): wait and pull again,
				// logging the first failure and then every twentieth.
				if failures%20 == 0 {
					q.log.WarnContext(ctx, "pull failed", "error", err, "failures", failures+1)
				}
				failures++
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
			continue
		}
		failures = 0
		l, err := q.take(ctx, msg)
		if err != nil {
			if q.open() != nil {
				return nil, queue.ErrClosed
			}
			// The message stays unacked and comes back after the ack wait.
			q.log.WarnContext(ctx, "taking a delivered job", "subject", msg.Subject(), "error", err)
			continue
		}
		if l != nil {
			return l, nil
		}
	}
}

// next pulls one message, waiting at most pollWait or until ctx ends.
func (q *Queue) next(ctx context.Context) (jetstream.Msg, error) {
	wait := pollWait
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if wait < 50*time.Millisecond {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return q.cons.Next(jetstream.FetchContext(fctx))
}

// take turns a delivery into a lease, or settles it and returns nil: a
// job already finished (its ack was lost), or one past MaxDeliver (dead).
func (q *Queue) take(ctx context.Context, msg jetstream.Msg) (*lease, error) {
	md, err := msg.Metadata()
	if err != nil {
		return nil, err
	}
	var job queue.Job
	if err := json.Unmarshal(msg.Data(), &job); err != nil || queue.ValidateID(job.ID) != nil {
		// Not ours: nobody can ever run it.
		q.log.ErrorContext(ctx, "dropping a malformed job message", "subject", msg.Subject(), "error", err)
		return nil, msg.Term()
	}
	attempts := int(md.NumDelivered)
	var dead bool
	st, err := q.modify(ctx, job.ID, func(st *queue.Status) error {
		dead = false
		switch {
		case !st.State.Active():
			return errUnchanged
		case attempts > q.cfg.MaxDeliver:
			st.State, dead = queue.StateDead, true
			st.Error = fmt.Sprintf("lease expired on delivery %d: the worker stopped without ack or nack", attempts-1)
			return nil
		}
		st.State = queue.StateRunning
		st.Job.Attempts = attempts
		return nil
	})
	if errors.Is(err, queue.ErrNotFound) {
		// Status lost (bucket purged): the message alone still says what to run.
		q.log.WarnContext(ctx, "job without status, running it", "job", job.ID)
		st = queue.Status{Job: job, State: queue.StateRunning}
		st.Job.Attempts = attempts
		b, _ := json.Marshal(st)
		_, err = q.kv.Put(ctx, jobKey(job.ID), b)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case dead:
		q.log.WarnContext(ctx, "job dead", "job", job.ID, "error", st.Error)
		if err := q.publishDead(ctx, st); err != nil {
			return nil, err
		}
		q.release(ctx, st.Job)
		return nil, msg.DoubleAck(ctx)
	case st.State != queue.StateRunning:
		// Finished before, but the ack never reached the server.
		return nil, msg.DoubleAck(ctx)
	}
	return &lease{q: q, msg: msg, job: st.Job}, nil
}

// lease is one delivery. Its attempt number tells it apart from a later
// delivery of the same job after it expired.
type lease struct {
	q   *Queue
	msg jetstream.Msg
	job queue.Job
}

func (l *lease) Job() queue.Job { return l.job }

// check fails unless the status still shows this delivery running.
func (l *lease) check(st *queue.Status) error {
	if st.State != queue.StateRunning || st.Job.Attempts != l.job.Attempts {
		return fmt.Errorf("%w: job %s is %s on delivery %d", queue.ErrLeaseLost, l.job.ID, st.State, st.Job.Attempts)
	}
	return nil
}

func (l *lease) Ack(ctx context.Context, result json.RawMessage) error {
	if len(result) > queue.MaxResult || len(result) > 0 && !json.Valid(result) {
		return fmt.Errorf("%w: result of %d bytes must be JSON of at most %d", queue.ErrInvalid, len(result), queue.MaxResult)
	}
	if err := l.q.open(); err != nil {
		return err
	}
	st, err := l.q.modify(ctx, l.job.ID, func(st *queue.Status) error {
		if err := l.check(st); err != nil {
			return err
		}
		st.State, st.Result, st.Error = queue.StateDone, result, ""
		return nil
	})
	if err != nil {
		return err
	}
	l.q.release(ctx, st.Job)
	// Status first: if this ack is lost, the redelivery finds the job
	// done and only acks it.
	if err := l.msg.DoubleAck(ctx); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		l.q.log.WarnContext(ctx, "ack", "job", l.job.ID, "error", err)
	}
	return nil
}

func (l *lease) Nack(ctx context.Context, cause error) error {
	if err := l.q.open(); err != nil {
		return err
	}
	st, err := l.q.modify(ctx, l.job.ID, func(st *queue.Status) error {
		if err := l.check(st); err != nil {
			return err
		}
		st.Error = queue.ErrorText(cause)
		switch {
		case queue.IsPermanent(cause):
			st.State = queue.StateFailed
		case st.Job.Attempts >= l.q.cfg.MaxDeliver:
			st.State = queue.StateDead
		default:
			st.State = queue.StateQueued
		}
		return nil
	})
	if err != nil {
		return err
	}
	if st.State == queue.StateQueued {
		return l.msg.NakWithDelay(l.q.cfg.RetryDelay(st.Job.Attempts))
	}
	if st.State == queue.StateDead {
		l.q.log.WarnContext(ctx, "job dead", "job", l.job.ID, "error", st.Error)
		if err := l.q.publishDead(ctx, st); err != nil {
			return err
		}
	}
	l.q.release(ctx, st.Job)
	return l.msg.DoubleAck(ctx)
}

func (l *lease) InProgress(ctx context.Context) error {
	if err := l.q.open(); err != nil {
		return err
	}
	if _, err := l.q.modify(ctx, l.job.ID, func(st *queue.Status) error {
		if err := l.check(st); err != nil {
			return err
		}
		return errUnchanged
	}); err != nil {
		return err
	}
	return l.msg.InProgress()
}
