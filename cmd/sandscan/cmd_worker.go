package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/worker"
)

// defaultWorkers is the worker count when --workers is not given. On the
// project's 2-core machines BenchmarkThroughput (package worker) measured
// 52-73 small-image analyses a minute with 1 worker, 100-144 with 2 and
// 114-130 with 3: a run waits on containerd, runsc start-up and the
// network as much as it computes, but a third run at once no longer pays.
// Bigger machines set --workers (about one per core).
const defaultWorkers = 2

// workerFlags are the flags of the worker pool, shared by `worker` and
// `serve` (which runs the same pool beside the API).
type workerFlags struct {
	workers   int
	timeout   time.Duration
	memoryMB  int64
	pids      int64
	cpus      float64
	network   string
	heartbeat time.Duration
	grace     time.Duration
}

// register adds the pool's flags to fs; SANDSCAN_WORKERS and
// SANDSCAN_NETWORK give their defaults.
func (f *workerFlags) register(fs *flag.FlagSet) {
	n, err := strconv.Atoi(envOr("SANDSCAN_WORKERS", ""))
	if err != nil || n <= 0 {
		n = defaultWorkers
	}
	fs.IntVar(&f.workers, "workers", n, "concurrent analyses (env SANDSCAN_WORKERS)")
	fs.DurationVar(&f.timeout, "timeout", sandbox.DefaultLimits.Timeout, "default time limit of a run (a job may ask for less or more, up to 10m)")
	fs.Int64Var(&f.memoryMB, "memory", sandbox.DefaultLimits.MemoryBytes>>20, "memory limit of a run in MiB")
	fs.Int64Var(&f.pids, "pids", sandbox.DefaultLimits.Pids, "process limit of a run")
	fs.Float64Var(&f.cpus, "cpus", sandbox.DefaultLimits.CPUs, "CPU limit of a run")
	fs.StringVar(&f.network, "network", envOr("SANDSCAN_NETWORK", sandbox.NetworkSinkhole), "default network mode: sinkhole or none (env SANDSCAN_NETWORK)")
	fs.DurationVar(&f.heartbeat, "heartbeat", 0, "how often a running job's lease is extended (default a quarter of --ack-wait)")
	fs.DurationVar(&f.grace, "grace", 20*time.Second, "on SIGTERM, how long jobs in hand may finish before they are handed back")
}

func (f *workerFlags) check() error {
	if f.workers <= 0 {
		return fmt.Errorf("--workers %d: want at least 1", f.workers)
	}
	if !slices.Contains(sandbox.NetworkModes, f.network) {
		return fmt.Errorf("unknown network mode %q (have %v)", f.network, sandbox.NetworkModes)
	}
	return nil
}

// runWorkers sets up the runtime and runs the pool on q and st until ctx
// ends. reg, when not nil, receives the pool's metrics.
func (g *globals) runWorkers(ctx context.Context, f *workerFlags, qcfg queue.Config, q queue.Queue, st store.Store, reg *prometheus.Registry) error {
	rt, err := g.ensureRuntime(ctx)
	if err != nil {
		return err
	}
	sb, err := sandbox.New(ctx, rt, sandbox.WithLogger(g.log))
	if err != nil {
		return withCode(ExitSandbox, err)
	}
	defer sb.Close()
	hb := f.heartbeat
	if hb <= 0 {
		hb = qcfg.WithDefaults().AckWait / 4
	}
	g.log.Info("workers starting", "workers", f.workers, "network", f.network)
	return worker.Run(ctx, worker.Config{
		Queue:    q,
		Store:    st,
		Sandbox:  sb,
		Analyzer: newAnalyzer(),
		Workers:  f.workers,
		Limits: sandbox.Limits{
			Timeout: f.timeout, MemoryBytes: f.memoryMB << 20, Pids: f.pids, CPUs: f.cpus,
		},
		Network:   f.network,
		Heartbeat: hb,
		Grace:     f.grace,
		Registry:  reg,
		Log:       g.log,
	})
}

// registerDeliveryFlags tunes delivery on either queue backend.
func registerDeliveryFlags(fs *flag.FlagSet, c *queue.Config) {
	fs.DurationVar(&c.AckWait, "ack-wait", queue.DefaultAckWait, "lease of a job: a worker silent this long is taken for dead")
	fs.IntVar(&c.MaxDeliver, "max-deliver", queue.DefaultMaxDeliver, "deliveries before a failing job is dead")
}

func runWorker(ctx context.Context, g *globals, args []string) error {
	bc, err := worker.BackendConfigFromEnv(g.stateDir, nil)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	var wf workerFlags
	var metricsAddr string
	fs := newFlagSet("worker")
	bc.RegisterFlags(fs)
	registerDeliveryFlags(fs, &bc.QueueConfig)
	wf.register(fs)
	fs.StringVar(&metricsAddr, "metrics-listen", envOr("SANDSCAN_METRICS_LISTEN", ""), "serve Prometheus metrics at http://`ADDR`/metrics (env SANDSCAN_METRICS_LISTEN)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(rest) > 0 {
		return withCode(ExitUsage, fmt.Errorf("worker: unexpected arguments %q", rest))
	}
	if err := wf.check(); err != nil {
		return withCode(ExitUsage, fmt.Errorf("worker: %w", err))
	}
	if err := bc.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	bc.Log = g.log
	q, st, closeFn, err := worker.OpenBackends(ctx, bc)
	if err != nil {
		return err
	}
	defer closeFn()

	var reg *prometheus.Registry
	if metricsAddr != "" {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		stop, err := workerMetricsServer(ctx, g, metricsAddr, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	err = g.runWorkers(ctx, &wf, bc.QueueConfig, q, st, reg)
	if err == nil && ctx.Err() != nil {
		g.log.Info("workers stopped")
	}
	return err
}

// workerMetricsServer serves reg at addr/metrics until stop.
func workerMetricsServer(ctx context.Context, g *globals, addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("--metrics-listen: %w", err))
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("metrics server", "err", err)
		}
	}()
	g.log.Info("metrics", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}
