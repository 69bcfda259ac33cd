package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

// Rescan modes as users and the API name them.
const (
	RescanRedetonate = "redetonate"
	RescanReclassify = "reclassify"
)

// ParseRescanMode maps "redetonate" (or "detonate") and "reclassify" to
// the mode of the jobs a rescan queues.
func ParseRescanMode(s string) (queue.Mode, error) {
	switch strings.ToLower(s) {
	case "", RescanRedetonate, string(queue.ModeDetonate):
		return queue.ModeDetonate, nil
	case RescanReclassify:
		return queue.ModeReclassify, nil
	}
	return "", fmt.Errorf("%w: rescan mode %q (want redetonate or reclassify)", ErrRescan, s)
}

// ErrRescan is returned for a rescan asked for with bad options.
var ErrRescan = errors.New("worker: rescan")

// RescanFilter picks the images a rescan queues; every field set must
// match, and the zero filter takes all.
type RescanFilter struct {
	// Repository is a prefix of the image's repository (registry/name),
	// as recorded when it was stored.
	Repository string `json:"repository,omitempty"`
	// Verdict is the image's latest verdict: clean, suspicious or malicious.
	Verdict string `json:"verdict,omitempty"`
	// Digests limits the rescan to these images.
	Digests []string `json:"digests,omitempty"`
	// Before picks images whose latest verdict is older than this time
	// (or that have none).
	Before time.Time `json:"before,omitzero"`
}

// Validate checks the filter's values.
func (f RescanFilter) Validate() error {
	switch f.Verdict {
	case "", "clean", "suspicious", "malicious":
	default:
		return fmt.Errorf("%w: verdict %q", ErrRescan, f.Verdict)
	}
	for _, d := range f.Digests {
		if err := queue.ValidateDigest(d); err != nil {
			return fmt.Errorf("%w: %w", ErrRescan, err)
		}
	}
	if len(f.Repository) > queue.MaxImageLen {
		return fmt.Errorf("%w: repository of %d bytes", ErrRescan, len(f.Repository))
	}
	return nil
}

// ParseFilter reads the CLI's --filter values: repository=PREFIX,
// verdict=VERDICT, digest=sha256:... (repeatable), before=RFC3339.
func ParseFilter(args []string) (RescanFilter, error) {
	var f RescanFilter
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || v == "" {
			return f, fmt.Errorf("%w: filter %q (want key=value)", ErrRescan, a)
		}
		switch k {
		case "repository", "repo":
			f.Repository = v
		case "verdict":
			f.Verdict = v
		case "digest":
			f.Digests = append(f.Digests, v)
		case "before":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, fmt.Errorf("%w: filter before=%q: want an RFC 3339 time", ErrRescan, v)
			}
			f.Before = t
		default:
			return f, fmt.Errorf("%w: filter key %q (want repository, verdict or digest)", ErrRescan, k)
		}
	}
	return f, f.Validate()
}

// RescanOptions describe a rescan.
type RescanOptions struct {
	// Mode is queue.ModeDetonate (run every image again) or
	// queue.ModeReclassify (analyse the stored runs again, no sandbox).
	Mode   queue.Mode
	Filter RescanFilter
	// ID names the rescan (empty: a new one).
	ID string
	// TempDir holds archives inspected for their format (default os.TempDir()).
	TempDir string
	Log     *slog.Logger
}

// RescanJob is one job a rescan queued.
type RescanJob struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
	// Existing says the digest already had a job queued or running,
	// which the rescan counts instead of queueing a second.
	Existing bool        `json:"existing,omitempty"`
	State    queue.State `json:"state,omitempty"`
}

// RescanStatus is a rescan's record, kept as rescans/<id>.json, and its
// progress when read through RescanProgress.
type RescanStatus struct {
	ID      string       `json:"id"`
	Mode    queue.Mode   `json:"mode"`
	Filter  RescanFilter `json:"filter"`
	Created time.Time    `json:"created"`
	Jobs    []RescanJob  `json:"jobs"`
	// Skipped counts stored images the rescan could not queue (an
	// archive it could not read), with the first errors in Errors.
	Skipped int      `json:"skipped,omitempty"`
	Errors  []string `json:"errors,omitempty"`
	// Progress is filled by RescanProgress.
	Progress *RescanCounts `json:"progress,omitempty"`
}

// RescanCounts counts a rescan's jobs by state.
type RescanCounts struct {
	Total   int `json:"total"`
	Queued  int `json:"queued"`
	Running int `json:"running"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	Dead    int `json:"dead"`
	// Unknown are jobs the queue no longer knows.
	Unknown int `json:"unknown"`
	// Finished is true once no job is queued or running.
	Finished bool `json:"finished"`
}

// maxRescanErrors bounds the errors a record keeps.
const maxRescanErrors = 20

// RescanKey is the key of rescan id's record.
func RescanKey(id string) (string, error) {
	if err := queue.ValidateID(id); err != nil {
		return "", fmt.Errorf("%w: %w", ErrRescan, err)
	}
	return "rescans/" + id + ".json", nil
}

// Rescan queues one job per stored image that opts.Filter picks and
// stores the rescan's record. A redetonation walks the image archives
// (images/), a reclassification the latest verdicts (images with a
// stored run). Each job reads the image from the store: no registry is
// needed. An image whose digest already has a job queued or running is
// counted with that job.
func Rescan(ctx context.Context, q queue.Queue, st store.Store, opts RescanOptions) (RescanStatus, error) {
	if opts.Mode != queue.ModeDetonate && opts.Mode != queue.ModeReclassify {
		return RescanStatus{}, fmt.Errorf("%w: mode %q", ErrRescan, opts.Mode)
	}
	if err := opts.Filter.Validate(); err != nil {
		return RescanStatus{}, err
	}
	if opts.ID == "" {
		opts.ID = queue.NewID(time.Now())
	}
	key, err := RescanKey(opts.ID)
	if err != nil {
		return RescanStatus{}, err
	}
	if _, err := st.Stat(ctx, key); err == nil {
		return RescanStatus{}, fmt.Errorf("%w: rescan %s exists", ErrRescan, opts.ID)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rs := RescanStatus{ID: opts.ID, Mode: opts.Mode, Filter: opts.Filter, Created: time.Now().UTC(), Jobs: []RescanJob{}}
	digests, err := rescanDigests(ctx, st, opts.Mode, opts.Filter.Digests)
	if err != nil {
		return rs, err
	}
	for _, d := range digests {
		job, ok, err := rescanJob(ctx, st, opts, d)
		if err != nil {
			if ctx.Err() != nil {
				return rs, err
			}
			rs.Skipped++
			if len(rs.Errors) < maxRescanErrors {
				rs.Errors = append(rs.Errors, fmt.Sprintf("%s: %v", d, err))
			}
			log.Warn("rescan skips an image", "digest", d, "err", err)
			continue
		}
		if !ok {
			continue
		}
		queued, existing, err := q.Enqueue(ctx, job)
		if err != nil {
			// Store what was queued so far: those jobs run either way.
			rs.Errors = append(rs.Errors, "enqueue: "+err.Error())
			if perr := store.PutJSON(context.WithoutCancel(ctx), st, key, rs); perr != nil {
				log.Error("could not store the rescan record", "err", perr)
			}
			return rs, fmt.Errorf("worker: rescan %s: enqueue %s: %w", rs.ID, d, err)
		}
		rs.Jobs = append(rs.Jobs, RescanJob{ID: queued.ID, Digest: d, Existing: existing})
	}
	if err := store.PutJSON(ctx, st, key, rs); err != nil {
		return rs, fmt.Errorf("worker: rescan %s: %w", rs.ID, err)
	}
	log.Info("rescan queued", "rescan", rs.ID, "mode", rs.Mode, "jobs", len(rs.Jobs), "skipped", rs.Skipped)
	return rs, nil
}

// rescanDigests lists the images a rescan considers, in key order.
func rescanDigests(ctx context.Context, st store.Store, mode queue.Mode, only []string) ([]string, error) {
	if len(only) > 0 {
		ds := slices.Clone(only)
		slices.Sort(ds)
		return slices.Compact(ds), nil
	}
	prefix := "images/sha256/"
	if mode == queue.ModeReclassify {
		prefix = "verdicts/sha256/"
	}
	var ds []string
	for info, err := range store.All(ctx, st, prefix) {
		if err != nil {
			return nil, fmt.Errorf("worker: list %s: %w", prefix, err)
		}
		if mode == queue.ModeReclassify {
			h, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, prefix), "/latest.json")
			if ok && queue.ValidateDigest("sha256:"+h) == nil {
				ds = append(ds, "sha256:"+h)
			}
			continue
		}
		if d, ok := digestOfImageKey(info.Key); ok {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// rescanJob makes the job for one image, or ok=false when the filter
// leaves it out.
func rescanJob(ctx context.Context, st store.Store, opts RescanOptions, digest string) (queue.Job, bool, error) {
	f := opts.Filter
	if f.Verdict != "" || !f.Before.IsZero() {
		v, err := store.LatestVerdict(ctx, st, digest)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if f.Verdict != "" {
				return queue.Job{}, false, nil
			}
		case err != nil:
			return queue.Job{}, false, err
		case f.Verdict != "" && v.Verdict != f.Verdict:
			return queue.Job{}, false, nil
		case !f.Before.IsZero() && !v.Time.Before(f.Before):
			return queue.Job{}, false, nil
		}
	}
	req := analysis.Request{Source: analysis.FromStore, Rescan: opts.ID}
	var meta ImageMeta
	if opts.Mode == queue.ModeDetonate || f.Repository != "" {
		tmp := opts.TempDir
		if tmp == "" {
			tmp = os.TempDir()
		}
		m, err := readImageMeta(ctx, st, digest, tmp)
		switch {
		case err == nil:
			meta = m
		case opts.Mode == queue.ModeReclassify && errors.Is(err, store.ErrNotFound):
			// A run without an archive can still be reclassified, but
			// its repository is unknown.
		default:
			return queue.Job{}, false, err
		}
	}
	if f.Repository != "" && !strings.HasPrefix(meta.Repository, f.Repository) {
		return queue.Job{}, false, nil
	}
	req.Format, req.Ref, req.Repository = meta.Format, meta.Ref, meta.Repository
	payload, err := req.Encode()
	if err != nil {
		return queue.Job{}, false, err
	}
	job := queue.Job{
		Digest: digest, Image: meta.Ref, Reason: queue.ReasonRescan, Mode: opts.Mode, Payload: payload,
	}
	if err := job.Validate(); err != nil {
		return queue.Job{}, false, err
	}
	return job, true, nil
}

// RescanProgress reads rescan id's record and asks the queue where each
// of its jobs stands.
func RescanProgress(ctx context.Context, q queue.Queue, st store.Store, id string) (RescanStatus, error) {
	key, err := RescanKey(id)
	if err != nil {
		return RescanStatus{}, err
	}
	var rs RescanStatus
	if err := store.GetJSON(ctx, st, key, &rs); err != nil {
		return rs, fmt.Errorf("worker: rescan %s: %w", id, err)
	}
	c := &RescanCounts{Total: len(rs.Jobs)}
	for i := range rs.Jobs {
		s, err := q.Status(ctx, rs.Jobs[i].ID)
		if errors.Is(err, queue.ErrNotFound) {
			c.Unknown++
			continue
		}
		if err != nil {
			return rs, fmt.Errorf("worker: rescan %s: %w", id, err)
		}
		rs.Jobs[i].State = s.State
		switch s.State {
		case queue.StateQueued:
			c.Queued++
		case queue.StateRunning:
			c.Running++
		case queue.StateDone:
			c.Done++
		case queue.StateFailed:
			c.Failed++
		case queue.StateDead:
			c.Dead++
		}
	}
	c.Finished = c.Queued+c.Running == 0
	rs.Progress = c
	return rs, nil
}
