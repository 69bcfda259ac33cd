package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/trace"
)

// reclassify analyses a stored run again, with no sandbox. The new
// report goes under this job's id, beside a copy of the run and its
// artifacts, so every analysis stands alone and the old one stays as it
// was (its verdict remains in the image's history).
func (w *worker) reclassify(ctx context.Context, job queue.Job, req analysis.Request, log *slog.Logger) (*result, error) {
	st := w.cfg.Store
	runID := req.RunID
	if runID == "" {
		v, err := store.LatestVerdict(ctx, st, job.Digest)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s has no analysis to reclassify", errPermanent, job.Digest)
		}
		if err != nil {
			return nil, err
		}
		runID = v.Analysis
	}
	if runID == job.ID {
		return nil, fmt.Errorf("%w: a job cannot reclassify its own run", errPermanent)
	}
	run, err := readRun(ctx, st, runID)
	if err != nil {
		return nil, err
	}
	if run.Image.Digest != "" && run.Image.Digest != job.Digest {
		return nil, fmt.Errorf("%w: run %s is of %s, not %s", errPermanent, runID, run.Image.Digest, job.Digest)
	}
	rep, err := w.cfg.Analyzer.Analyze(run)
	if err != nil {
		return nil, fmt.Errorf("%w: analyze: %w", errPermanent, err)
	}
	rep.ID = job.ID
	keys, err := copyEvidence(ctx, st, runID, job.ID)
	if err != nil {
		return nil, err
	}
	rkeys, err := writeAnalysis(ctx, st, job.ID, run, rep, false)
	if err != nil {
		return nil, err
	}
	if err := putVerdict(ctx, st, job.Digest, job.ID, rep); err != nil {
		return nil, err
	}
	log.Debug("reclassified", "run", runID, "verdict", rep.Verdict)
	res := resultOf(rep, runID, append(keys, rkeys...))
	res.Digest = job.Digest
	return &res, nil
}

// readRun decodes the stored run of analysis id.
func readRun(ctx context.Context, st store.Store, id string) (*trace.Run, error) {
	key, err := store.AnalysisKey(id, store.ArtifactRun)
	if err != nil {
		return nil, fmt.Errorf("%w: run id %q: %w", errPermanent, id, err)
	}
	rc, err := store.GetGzip(ctx, st, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no stored run %s", errPermanent, id)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	run, err := trace.Decode(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: stored run %s: %w", errPermanent, id, err)
	}
	return run, nil
}

// copyEvidence copies analysis from's run, output, diff and dropped
// files to analysis to; the reports are not copied, to is about to get
// its own.
func copyEvidence(ctx context.Context, st store.Store, from, to string) ([]string, error) {
	fp, err := store.AnalysisPrefix(from)
	if err != nil {
		return nil, err
	}
	tp, err := store.AnalysisPrefix(to)
	if err != nil {
		return nil, err
	}
	var keys []string
	for info, err := range store.All(ctx, st, fp) {
		if err != nil {
			return keys, err
		}
		rest := strings.TrimPrefix(info.Key, fp)
		switch store.Artifact(rest) {
		case store.ArtifactReport, store.ArtifactSARIF, store.ArtifactNavigator:
			continue
		}
		if err := copyObject(ctx, st, info.Key, tp+rest); err != nil {
			return keys, err
		}
		keys = append(keys, tp+rest)
	}
	return keys, nil
}

func copyObject(ctx context.Context, st store.Store, from, to string) error {
	rc, info, err := st.Get(ctx, from)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := st.Put(ctx, to, rc, info.Size); err != nil {
		return fmt.Errorf("worker: copy %s: %w", from, err)
	}
	return nil
}
