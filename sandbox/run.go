package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandscan/sandscan/sandbox/sink"
	"github.com/sandscan/sandscan/trace"
)

// RunOption changes one run.
type RunOption func(*runConfig)

type runConfig struct {
	id      string
	limits  Limits
	network string
}

// WithLimits replaces the default limits; zero fields keep their default.
func WithLimits(l Limits) RunOption {
	return func(c *runConfig) {
		d := &c.limits
		if l.Timeout > 0 {
			d.Timeout = l.Timeout
		}
		if l.MemoryBytes > 0 {
			d.MemoryBytes = l.MemoryBytes
		}
		if l.Pids > 0 {
			d.Pids = l.Pids
		}
		if l.CPUs > 0 {
			d.CPUs = l.CPUs
		}
		if l.OutputBytes > 0 {
			d.OutputBytes = l.OutputBytes
		}
	}
}

// WithRunID sets the run's id, which is also its container's id.
func WithRunID(id string) RunOption { return func(c *runConfig) { c.id = id } }

// ErrSandbox wraps failures of the sandbox itself (as opposed to the
// image): containerd or runsc refusing, a run that could not be cleaned.
var ErrSandbox = errors.New("sandbox")

// Run detonates img and returns what it did. The returned Run is complete
// even when the workload timed out or crashed; an error means the sandbox
// failed or ctx was cancelled.
func (s *Sandbox) Run(ctx context.Context, img *Image, opts ...RunOption) (*trace.Run, error) {
	cfg := runConfig{limits: DefaultLimits, network: NetworkSinkhole}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkNetwork(cfg.network); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSandbox, err)
	}
	if cfg.id == "" {
		cfg.id = newRunID()
	}
	ctx = s.withNamespace(ctx)
	r := &runner{s: s, cfg: cfg, id: cfg.id}
	defer r.undo.run(ctx)
	return r.run(ctx, img)
}

// runner holds the state of one run so its steps read in order.
type runner struct {
	s    *Sandbox
	cfg  runConfig
	id   string
	dir  string
	undo cleanup

	container containerd.Container
	task      containerd.Task
	rec       *sink.Recorder
	stdout    *cappedBuffer
	stderr    *cappedBuffer
	stats     statsSampler
	net       *runNetwork
}

func (r *runner) run(ctx context.Context, img *Image) (*trace.Run, error) {
	s, l := r.s, r.cfg.limits
	run := &trace.Run{
		Schema:  trace.RunSchema,
		ID:      r.id,
		Image:   img.Info,
		Started: time.Now().UTC(),
		Sandbox: trace.Sandbox{
			Runtime:           "runsc",
			RuntimeVersion:    s.rt.RunscVersion,
			ContainerdVersion: s.rt.ContainerdVersion,
			Platform:          s.rt.Platform,
			Network:           r.cfg.network,
			Limits: trace.Limits{
				Timeout: trace.Duration(l.Timeout), MemoryBytes: l.MemoryBytes,
				Pids: l.Pids, CPUs: l.CPUs,
			},
		},
	}

	// The lease keeps containerd's garbage collector away from what this
	// run creates until the run is over, then lets it take all of it.
	ctx, done, err := s.client.WithLease(ctx, leases.WithRandomID(), leases.WithExpiration(2*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("%w: lease: %w", ErrSandbox, err)
	}
	r.undo.add("lease", done)

	t := time.Now()
	if err := r.prepare(ctx); err != nil {
		return nil, fmt.Errorf("%w: prepare: %w", ErrSandbox, err)
	}
	if err := r.create(ctx, img); err != nil {
		return nil, fmt.Errorf("%w: create: %w", ErrSandbox, err)
	}
	run.Timings.Create = trace.Duration(time.Since(t))

	t = time.Now()
	// The exit watch must outlive ctx: on cancellation the task is still
	// to be killed and waited for.
	exitCh, err := r.task.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: wait: %w", ErrSandbox, err)
	}
	if err := r.task.Start(ctx); err != nil {
		return nil, fmt.Errorf("%w: start: %w", ErrSandbox, err)
	}
	run.Timings.Start = trace.Duration(time.Since(t))

	t = time.Now()
	run.Exit, err = r.wait(ctx, exitCh)
	run.Timings.Run = trace.Duration(time.Since(t))
	if err != nil {
		return nil, err
	}
	r.stats.sample(ctx, r.task)

	// The diff needs the snapshot, which teardown removes.
	r.diff(ctx, run)

	t = time.Now()
	if err := r.undo.run(ctx); err != nil {
		run.Errors = append(run.Errors, "teardown: "+err.Error())
	}
	run.Timings.Teardown = trace.Duration(time.Since(t))

	// runsc closes its sink connection when the sandbox is gone, so
	// after teardown Finish returns at once; the bound is for safety.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	res := r.rec.Finish(fctx)
	cancel()
	run.Events, run.EventsTotal, run.Dropped = res.Events, res.Total, res.Dropped
	if res.Malformed > 0 {
		run.Errors = append(run.Errors, fmt.Sprintf("trace: %d malformed messages skipped", res.Malformed))
	}
	run.Processes = trace.BuildProcesses(run.Events)
	r.recordNetwork(run)

	run.Stdout, run.Stderr = r.stdout.output(), r.stderr.output()
	run.Resources = r.stats.resources()
	run.Resources.Processes = len(run.Processes)
	run.Resources.OutputBytes = run.Stdout.Size + run.Stderr.Size
	run.Exit.OOM = run.Exit.OOM || r.stats.oom
	run.Ended = time.Now().UTC()
	run.Timings.Total = trace.Duration(run.Ended.Sub(run.Started))
	return run, nil
}

// prepare makes the per-run directory: scratch dirs mounted over /tmp and
// /dev/shm (gVisor would otherwise keep them in its own memory, where the
// diff cannot see what droppers leave), name files, the trace config.
func (r *runner) prepare(ctx context.Context) error {
	s := r.s
	r.dir = filepath.Join(s.rt.WorkDir, r.id)
	for _, d := range []string{"scratch/tmp", "scratch/shm"} {
		p := filepath.Join(r.dir, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		// Sticky and world-writable, as /tmp is everywhere.
		if err := os.Chmod(p, 0o1777); err != nil {
			return err
		}
	}
	r.undo.add("run dir", func(context.Context) error { return os.RemoveAll(r.dir) })
	if err := r.startNetwork(ctx); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	files := map[string]string{
		"resolv.conf": "nameserver " + r.nameserver() + "\n",
		"hosts":       "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost\n",
		"hostname":    "sandbox\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	cfg, err := sink.PodInitConfig(s.sink.Path())
	if err != nil {
		return err
	}
	podInit := filepath.Join(r.dir, "pod-init.json")
	if err := os.WriteFile(podInit, cfg, 0o600); err != nil {
		return err
	}
	flags := []string{r.runscNetworkFlag(), "--pod-init-config=" + podInit}
	if err := writeRunscFlags(s.rt.FlagsDir, r.id, flags); err != nil {
		return err
	}
	r.undo.add("runsc flags", func(context.Context) error {
		return os.Remove(filepath.Join(s.rt.FlagsDir, r.id))
	})
	// Watch before the container exists so no early event is missed.
	r.rec = s.sink.Watch(r.id)
	return nil
}

func (r *runner) create(ctx context.Context, img *Image) error {
	s, l := r.s, r.cfg.limits
	bind := func(dst, src string, ro bool) specs.Mount {
		opt := "rw"
		if ro {
			opt = "ro"
		}
		return specs.Mount{Destination: dst, Type: "bind", Source: filepath.Join(r.dir, src), Options: []string{"rbind", opt}}
	}
	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img.image),
		oci.WithHostname("sandbox"),
		oci.WithMemoryLimit(uint64(l.MemoryBytes)),
		oci.WithPidsLimit(l.Pids),
		oci.WithCPUCFS(int64(l.CPUs*100_000), 100_000),
		oci.WithoutMounts("/dev/shm"),
		oci.WithMounts([]specs.Mount{
			bind("/tmp", "scratch/tmp", false),
			bind("/dev/shm", "scratch/shm", false),
			bind("/etc/resolv.conf", "resolv.conf", true),
			bind("/etc/hosts", "hosts", true),
			bind("/etc/hostname", "hostname", true),
		}),
	}
	for _, ns := range r.networkSpec() {
		specOpts = append(specOpts, oci.WithLinuxNamespace(ns))
	}
	c, err := s.client.NewContainer(ctx, r.id,
		containerd.WithImage(img.image),
		containerd.WithSnapshotter(snapshotter),
		containerd.WithNewSnapshot(r.id, img.image),
		containerd.WithRuntime("io.containerd.runc.v2", &options.Options{BinaryName: s.rt.Wrapper, Root: s.rt.RunscRoot}),
		containerd.WithNewSpec(specOpts...),
		containerd.WithContainerLabels(map[string]string{ownerLabel: selfOwner}),
	)
	if err != nil {
		return err
	}
	r.container = c
	r.undo.add("container", func(ctx context.Context) error {
		return c.Delete(ctx, containerd.WithSnapshotCleanup)
	})

	r.stdout, r.stderr = newCappedBuffer(l.OutputBytes), newCappedBuffer(l.OutputBytes)
	task, err := c.NewTask(ctx, cio.NewCreator(
		cio.WithStreams(nil, r.stdout, r.stderr),
		cio.WithFIFODir(s.rt.FIFODir),
	))
	if err != nil {
		return err
	}
	r.task = task
	r.undo.add("task", func(ctx context.Context) error { return deleteTask(ctx, task) })
	return nil
}

// wait lets the workload run until it exits, the time limit passes or ctx
// is cancelled, sampling its resource use on the way.
func (r *runner) wait(ctx context.Context, exitCh <-chan containerd.ExitStatus) (trace.Exit, error) {
	timer := time.NewTimer(r.cfg.limits.Timeout)
	defer timer.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case st := <-exitCh:
			if err := st.Error(); err != nil {
				return trace.Exit{}, fmt.Errorf("%w: wait: %w", ErrSandbox, err)
			}
			return trace.Exit{Code: int(st.ExitCode()), Reason: trace.EndExited}, nil
		case <-tick.C:
			r.stats.sample(ctx, r.task)
		case <-timer.C:
			code, err := r.kill(ctx, exitCh)
			return trace.Exit{Code: code, Reason: trace.EndTimeout, TimedOut: true}, err
		case <-ctx.Done():
			r.kill(context.WithoutCancel(ctx), exitCh)
			return trace.Exit{Reason: trace.EndKilled}, ctx.Err()
		}
	}
}

func (r *runner) kill(ctx context.Context, exitCh <-chan containerd.ExitStatus) (int, error) {
	r.stats.sample(ctx, r.task)
	if err := r.task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil {
		return -1, fmt.Errorf("%w: kill: %w", ErrSandbox, err)
	}
	select {
	case st := <-exitCh:
		return int(st.ExitCode()), nil
	case <-time.After(15 * time.Second):
		return -1, fmt.Errorf("%w: task did not exit after SIGKILL", ErrSandbox)
	}
}

// deleteTask removes a task, killing it first if it still runs. (runsc
// refuses to kill a sandbox that has already stopped, so containerd's
// WithProcessKill fails on the common path of a task that exited.)
func deleteTask(ctx context.Context, task containerd.Task) error {
	_, err := task.Delete(ctx)
	if err == nil || errdefs.IsNotFound(err) {
		return nil
	}
	if !errdefs.IsFailedPrecondition(err) {
		return err
	}
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return err
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	select {
	case <-exitCh:
	case <-ctx.Done():
		return ctx.Err()
	}
	_, err = task.Delete(ctx)
	return err
}

// writeRunscFlags leaves the flags the wrapper adds to runsc for one
// container, one per line.
func writeRunscFlags(dir, id string, flags []string) error {
	var b []byte
	for _, f := range flags {
		b = append(b, f...)
		b = append(b, '\n')
	}
	return os.WriteFile(filepath.Join(dir, id), b, 0o600)
}

func newRunID() string {
	var b [6]byte
	rand.Read(b[:])
	return "ss-" + hex.EncodeToString(b[:])
}

// cleanup is a stack of undo steps, run once in reverse order.
type cleanup struct {
	steps []step
}

type step struct {
	name string
	fn   func(context.Context) error
}

func (c *cleanup) add(name string, fn func(context.Context) error) {
	c.steps = append(c.steps, step{name, fn})
}

// run undoes every step even when ctx is cancelled: leftovers would be
// containers and mounts on the host.
func (c *cleanup) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	for i := len(c.steps) - 1; i >= 0; i-- {
		st := c.steps[i]
		if err := st.fn(ctx); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: %w", st.name, err))
		}
	}
	c.steps = nil
	return errors.Join(errs...)
}
