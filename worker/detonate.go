package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/trace"
)

// process does one job and returns what to ack it with.
func (w *worker) process(ctx context.Context, job queue.Job, log *slog.Logger) (*result, error) {
	req, err := analysis.DecodeRequest(job)
	if err != nil {
		return nil, err
	}
	if job.Mode == queue.ModeReclassify {
		return w.reclassify(ctx, job, req, log)
	}
	return w.detonate(ctx, job, req, log)
}

func (w *worker) detonate(ctx context.Context, job queue.Job, req analysis.Request, log *slog.Logger) (*result, error) {
	network := w.cfg.Network
	if req.Network != "" {
		if !slices.Contains(sandbox.NetworkModes, req.Network) {
			return nil, fmt.Errorf("%w: network mode %q (have %v)", errPermanent, req.Network, sandbox.NetworkModes)
		}
		network = req.Network
	}
	limits := w.cfg.Limits
	if req.Timeout > 0 {
		limits.Timeout = min(req.Timeout, w.cfg.MaxTimeout)
	}
	if job.Attempts > 1 {
		// An earlier delivery may have died mid-run and left its container.
		if ids, err := w.cfg.Sandbox.Reap(ctx); err != nil {
			log.Warn("reap failed", "err", err)
		} else if len(ids) > 0 {
			log.Info("removed containers of dead runs", "ids", ids)
		}
	}

	ctx, release, err := w.holdContent(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	t := time.Now()
	img, err := w.image(ctx, job, req, log)
	if err != nil {
		return nil, err
	}
	imported := time.Since(t)
	digest := img.Info.Digest
	res := &result{Digest: digest}
	if digest != job.Digest {
		// Only a registry pull gets here (stored archives are checked): the
		// tag moved between the submission and the pull. What ran is what
		// the verdict is about.
		res.RequestedDigest = job.Digest
		log.Warn("the pulled image is not the job's digest: analysing what was pulled", "ref", req.Ref, "pulled", digest)
	}

	opts := []sandbox.RunOption{sandbox.WithLimits(limits)}
	if network != "" {
		opts = append(opts, sandbox.WithNetwork(network))
	}
	run, err := w.cfg.Sandbox.Run(ctx, img, opts...)
	if err != nil {
		if ctx.Err() == nil {
			w.m.sandbox.Inc()
		}
		return nil, fmt.Errorf("worker: run %s: %w", digest, err)
	}
	// The analysis id names the run everywhere outside the sandbox.
	run.ID = job.ID
	run.Image.Ref = displayRef(job, req, digest)
	run.Timings.Import = trace.Duration(imported)
	run.Timings.Total += trace.Duration(imported)
	if res.RequestedDigest != "" {
		run.Errors = append(run.Errors, fmt.Sprintf("the job named %s but %s resolved to %s", job.Digest, req.Ref, digest))
	}

	rep, err := w.cfg.Analyzer.Analyze(run)
	if err != nil {
		// Analyze is a pure function of the run: a retry would fail the same way.
		return nil, fmt.Errorf("%w: analyze: %w", errPermanent, err)
	}
	keys, err := writeAnalysis(ctx, w.cfg.Store, job.ID, run, rep, true)
	if err != nil {
		return nil, err
	}
	if err := putVerdict(ctx, w.cfg.Store, digest, job.ID, rep); err != nil {
		return nil, err
	}
	digests := [2]string{res.Digest, res.RequestedDigest}
	*res = resultOf(rep, job.ID, keys)
	res.Digest, res.RequestedDigest = digests[0], digests[1]
	return res, nil
}

// holdContent puts a containerd lease in ctx for the job: what its
// import, unpack and run create or reuse stays until release. containerd
// keeps one image record per name, so a concurrent import of another
// image under the same name (a tag pushed again, two uploads of
// app:latest) replaces this job's record, and without the lease the
// garbage collector may take its content before it has run.
func (w *worker) holdContent(ctx context.Context) (context.Context, func(), error) {
	sb := w.cfg.Sandbox
	ctx = namespaces.WithNamespace(ctx, sb.Runtime().Namespace)
	lctx, done, err := sb.Client().WithLease(ctx, leases.WithRandomID(), leases.WithExpiration(jobLease))
	if err != nil {
		return ctx, nil, fmt.Errorf("worker: %w: lease: %w", sandbox.ErrSandbox, err)
	}
	return lctx, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		defer cancel()
		if err := done(dctx); err != nil {
			w.log.Warn("could not release the job's lease; it expires on its own", "err", err)
		}
	}, nil
}

// jobLease bounds a lease whose worker died: its content is collected then.
const jobLease = 2 * time.Hour

// image gets the job's image into containerd: from the store, or from a
// registry, keeping a copy of the pulled archive in the store.
func (w *worker) image(ctx context.Context, job queue.Job, req analysis.Request, log *slog.Logger) (*sandbox.Image, error) {
	switch req.Source {
	case analysis.FromStore:
		return w.storedImage(ctx, job, req)
	case analysis.FromRegistry:
		return w.pulledImage(ctx, job, req, log)
	}
	return nil, fmt.Errorf("%w: source %q", errPermanent, req.Source)
}

func (w *worker) storedImage(ctx context.Context, job queue.Job, req analysis.Request) (*sandbox.Image, error) {
	key, err := store.ImageKey(job.Digest)
	if err != nil {
		return nil, err
	}
	path, cleanup, err := fetchToFile(ctx, w.cfg.Store, key, w.cfg.TempDir)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no stored image %s", errPermanent, job.Digest)
	}
	if err != nil {
		return nil, err
	}
	defer cleanup()
	kind := sandbox.OCIArchive
	if req.Format == analysis.FormatDocker {
		kind = sandbox.DockerArchive
	}
	img, err := w.cfg.Sandbox.Import(ctx, sandbox.Source{Kind: kind, Path: path})
	if err != nil {
		return nil, fmt.Errorf("stored image %s: %w", job.Digest, err)
	}
	if img.Info.Digest != job.Digest {
		return nil, fmt.Errorf("%w: the archive stored under %s holds %s", errPermanent, job.Digest, img.Info.Digest)
	}
	w.keepMeta(ctx, ImageMeta{Digest: job.Digest, Format: req.Format, Ref: displayRef(job, req, job.Digest), Repository: req.Repository}, false)
	return img, nil
}

func (w *worker) pulledImage(ctx context.Context, job queue.Job, req analysis.Request, log *slog.Logger) (*sandbox.Image, error) {
	src, err := sandbox.ParseSource(req.Ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPermanent, err)
	}
	if src.Kind != sandbox.Registry {
		// A path here would read the worker's own files.
		return nil, fmt.Errorf("%w: %q is not a registry reference", errPermanent, req.Ref)
	}
	opts := slices.Clone(w.cfg.PullOptions)
	if c := req.Credentials; c != nil {
		opts = append(opts, sandbox.WithCredentials(sandbox.Credentials{Username: c.Username, Password: c.Password}))
	}
	img, err := w.cfg.Sandbox.Import(ctx, src, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errRegistry, err)
	}
	repo := req.Repository
	if repo == "" {
		repo = repositoryOf(src.Ref)
	}
	if err := w.keepArchive(ctx, img, log); err != nil {
		return nil, err
	}
	w.keepMeta(ctx, ImageMeta{Digest: img.Info.Digest, Format: analysis.FormatOCI, Ref: src.Ref, Repository: repo}, true)
	return img, nil
}

// keepArchive exports a pulled image into the store, unless an archive of
// that digest is there already. An export the sandbox fails is logged
// and the analysis goes on: the verdict matters more than the copy. A
// store that fails is an error (the job is retried).
func (w *worker) keepArchive(ctx context.Context, img *sandbox.Image, log *slog.Logger) error {
	key, err := store.ImageKey(img.Info.Digest)
	if err != nil {
		return err
	}
	if _, err := w.cfg.Store.Stat(ctx, key); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("worker: stat %s: %w", key, err)
	}
	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		err := w.cfg.Sandbox.Export(ctx, img, pw)
		exported <- err
		pw.CloseWithError(err)
	}()
	err = w.cfg.Store.Put(ctx, key, pr, -1)
	pr.CloseWithError(io.ErrClosedPipe) // stops the exporter if Put gave up early
	if xerr := <-exported; xerr != nil && !errors.Is(xerr, io.ErrClosedPipe) {
		log.Error("could not keep a copy of the pulled image", "err", xerr)
		return nil
	}
	if err != nil {
		return fmt.Errorf("worker: keep image %s: %w", img.Info.Digest, err)
	}
	return nil
}

// keepMeta writes an image's metadata beside its archive; replace says
// whether newer facts (a registry pull's ref) replace what is there. It
// only helps rescans, so a failure is logged, not fatal.
func (w *worker) keepMeta(ctx context.Context, m ImageMeta, replace bool) {
	key, err := ImageMetaKey(m.Digest)
	if err != nil {
		return
	}
	if !replace {
		if _, err := w.cfg.Store.Stat(ctx, key); err == nil {
			return
		}
	}
	m.Stored = time.Now().UTC()
	if err := store.PutJSON(ctx, w.cfg.Store, key, m); err != nil {
		w.log.Warn("could not write image metadata", "key", key, "err", err)
	}
}

// displayRef is the image's name in reports: the reference it was
// submitted by, else the digest.
func displayRef(job queue.Job, req analysis.Request, digest string) string {
	switch {
	case req.Ref != "":
		return req.Ref
	case job.Image != "":
		return job.Image
	}
	return digest
}

// repositoryOf cuts the tag or digest off a normalized reference:
// registry/name.
func repositoryOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
