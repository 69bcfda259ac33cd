package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/store"
)

// Config is what workers need. Queue, Store and Sandbox are required.
type Config struct {
	Queue   queue.Queue
	Store   store.Store
	Sandbox *sandbox.Sandbox
	// Analyzer makes the reports; nil is analyzer.New() (rules only).
	Analyzer *analyzer.Analyzer
	// Workers is how many jobs run at once (default 1).
	Workers int
	// Limits bound each run (zero fields: sandbox.DefaultLimits); a job's
	// Request.Timeout replaces Limits.Timeout up to MaxTimeout.
	Limits     sandbox.Limits
	MaxTimeout time.Duration
	// Network is the default network mode (empty: the sandbox's default).
	Network string
	// PullOptions apply to every registry pull (WithPlainHTTP, say); a
	// job's credentials are added to them.
	PullOptions []sandbox.PullOption
	// Heartbeat is how often a running job's lease is extended; keep it
	// well inside the queue's ack wait (default 15s, for the default
	// two-minute ack wait).
	Heartbeat time.Duration
	// Grace is how long jobs in hand may still run once Run's context
	// ends; then they are cancelled and nacked, to be delivered again.
	Grace time.Duration
	// TempDir holds image archives while they are imported (default
	// os.TempDir()).
	TempDir string
	// Registry, when not nil, receives the workers' Prometheus metrics.
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// Defaults of Config fields left zero.
const (
	DefaultHeartbeat  = 15 * time.Second
	DefaultMaxTimeout = 10 * time.Minute
	// ackTimeout bounds an Ack or Nack, which runs after the job's
	// context may have ended.
	ackTimeout = 30 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Queue == nil || c.Store == nil || c.Sandbox == nil {
		return c, errors.New("worker: Config needs a Queue, a Store and a Sandbox")
	}
	if c.Analyzer == nil {
		c.Analyzer = analyzer.New()
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = DefaultMaxTimeout
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run runs cfg.Workers workers until ctx ends, then waits for the jobs in
// hand: each finishes within cfg.Grace or is cancelled and nacked. It
// returns nil after a clean stop, or the error that stopped the queue.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return err
	}
	// Jobs run under a context that outlives ctx by the grace period.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	stopGrace := context.AfterFunc(ctx, func() {
		if cfg.Grace <= 0 {
			cancelJobs()
			return
		}
		t := time.AfterFunc(cfg.Grace, cancelJobs)
		context.AfterFunc(jobCtx, func() { t.Stop() })
	})
	defer stopGrace()

	errs := make([]error, cfg.Workers)
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		w := &worker{cfg: cfg, m: m, log: cfg.Log.With("worker", i)}
		wg.Go(func() { errs[i] = w.loop(ctx, jobCtx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

type worker struct {
	cfg Config
	m   *metrics
	log *slog.Logger
}

// loop takes jobs until ctx ends.
func (w *worker) loop(ctx, jobCtx context.Context) error {
	for ctx.Err() == nil {
		l, err := w.cfg.Queue.Dequeue(ctx)
		if err == nil {
			// A job taken as ctx ends still gets the grace period.
			w.handle(jobCtx, l)
			continue
		}
		if ctx.Err() != nil || errors.Is(err, queue.ErrClosed) {
			return nil
		}
		// The queue's server may be restarting: wait and try again.
		w.log.Warn("dequeue failed", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// handle runs one job under its lease and acks or nacks it.
func (w *worker) handle(ctx context.Context, l queue.Lease) {
	job := l.Job()
	log := w.log.With("job", job.ID, "digest", job.Digest, "mode", job.Mode, "attempt", job.Attempts)
	log.Info("job started")
	start := time.Now()
	w.m.running.Inc()
	defer w.m.running.Dec()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := w.heartbeat(ctx, l, cancel, log)
	res, err := w.process(ctx, job, log)
	stop()
	if cause := context.Cause(ctx); errors.Is(cause, queue.ErrLeaseLost) {
		// Another worker has the job now; our Ack would be refused.
		log.Warn("lease lost, job left to its new worker", "err", err)
		w.m.failed.WithLabelValues("lease_lost").Inc()
		return
	}
	if err == nil {
		w.m.observe(job.Mode, res.Verdict, time.Since(start))
		log.Info("job done", "verdict", res.Verdict, "score", res.Score, "took", time.Since(start).Round(time.Millisecond))
	}
	w.finish(ctx, l, res, err)
}

// finish acks l with res, or nacks it with err (permanently when no retry
// can help). It runs past the job's context: a job cancelled by a
// shutdown is still given back.
func (w *worker) finish(ctx context.Context, l queue.Lease, res *result, err error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	job := l.Job()
	if err == nil {
		b, merr := json.Marshal(res)
		if merr == nil && len(b) > queue.MaxResult {
			// Artifacts can be many dropped files: the store lists them.
			res.Artifacts = nil
			b, merr = json.Marshal(res)
		}
		if merr != nil {
			err = fmt.Errorf("worker: encode result: %w", merr)
		} else {
			if aerr := l.Ack(actx, b); aerr != nil {
				w.log.Error("ack failed; the job will be delivered again", "job", job.ID, "err", aerr)
			}
			return
		}
	}
	if permanent(err) {
		err = queue.Permanent(err)
		w.m.failed.WithLabelValues("permanent").Inc()
		w.log.Warn("job failed", "job", job.ID, "err", err)
	} else {
		w.m.failed.WithLabelValues("retry").Inc()
		w.log.Warn("job will be retried", "job", job.ID, "attempt", job.Attempts, "err", err)
	}
	if nerr := l.Nack(actx, err); nerr != nil {
		w.log.Error("nack failed; the lease will expire", "job", job.ID, "err", nerr)
	}
}

// heartbeat extends the lease every cfg.Heartbeat until stop is called.
// Unlike queue.Heartbeat it rides out transient errors (a NATS restart)
// and stops only when the lease is lost, cancelling the job: its result
// would be refused.
func (w *worker) heartbeat(ctx context.Context, l queue.Lease, cancel context.CancelCauseFunc, log *slog.Logger) (stop func()) {
	hctx, hcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			err := l.InProgress(hctx)
			switch {
			case err == nil || hctx.Err() != nil:
			case errors.Is(err, queue.ErrLeaseLost):
				cancel(err)
				return
			default:
				log.Warn("lease extension failed; trying again", "err", err)
			}
		}
	}()
	return func() { hcancel(); <-done }
}

// result is what a job is acked with.
type result = analysis.Result
