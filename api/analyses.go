package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

// Paths of an analysis's resources.
func analysisPath(id string) string { return "/v1/analyses/" + id }
func verdictPath(digest string) string {
	return "/v1/images/" + digest + "/verdict"
}

func links(id, digest string, state queue.State) Links {
	l := Links{Self: analysisPath(id), Verdict: verdictPath(digest)}
	if state == queue.StateDone {
		l.Report = analysisPath(id) + "/report"
	}
	return l
}

func fromJob(j queue.Job, state queue.State) Analysis {
	a := Analysis{
		ID: j.ID, Status: string(state), Digest: j.Digest, Image: j.Image,
		Reason: string(j.Reason), Mode: string(j.Mode), Created: j.Created, Attempts: j.Attempts,
		Links: links(j.ID, j.Digest, state),
	}
	if req, err := analysis.DecodeRequest(j); err == nil {
		a.Repository = req.Repository
	}
	return a
}

// fromStatus is what the API shows of a queue status: never the
// request's credentials, which stay in the queue.
func (s *Server) fromStatus(ctx context.Context, st queue.Status) Analysis {
	a := fromJob(st.Job, st.State)
	a.Updated, a.Error = st.Updated, st.Error
	res, ok, err := analysis.DecodeResult(st)
	if err != nil {
		s.log.WarnContext(ctx, "result of a job", "id", st.Job.ID, "err", err)
	}
	if ok {
		a.Result = summaryOf(st.Job.ID, res)
	}
	return a
}

func summaryOf(id string, r analysis.Result) *Summary {
	sum := &Summary{
		Verdict: r.Verdict, Score: r.Score, Techniques: r.Techniques, RunID: r.RunID,
		AnalyzerVersion: r.AnalyzerVersion, RulesVersion: r.RulesVersion, Model: r.Model, Finished: r.Finished,
	}
	if sum.Techniques == nil {
		sum.Techniques = []string{}
	}
	for _, key := range r.Artifacts {
		if name, ok := artifactName(id, key); ok {
			sum.Artifacts = append(sum.Artifacts, name)
		}
	}
	return sum
}

// lookup finds an analysis in the queue or, when the queue has forgotten
// it, from the report in the store.
func (s *Server) lookup(ctx context.Context, id string) (Analysis, error) {
	if err := queue.ValidateID(id); err != nil {
		return Analysis{}, fmt.Errorf("%w: %w", errNotFound, err)
	}
	st, err := s.q.Status(ctx, id)
	if err == nil {
		return s.fromStatus(ctx, st), nil
	}
	if !errors.Is(err, queue.ErrNotFound) {
		return Analysis{}, fmt.Errorf("%w: queue: %w", errUnavailable, err)
	}
	key, _ := store.AnalysisKey(id, store.ArtifactReport)
	var rep analyzer.Report
	if err := store.GetJSON(ctx, s.st, key, &rep); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Analysis{}, fmt.Errorf("%w: analysis %s", errNotFound, id)
		}
		return Analysis{}, err
	}
	a := Analysis{ID: id, Status: string(queue.StateDone), Digest: rep.Image.Digest, Image: rep.Image.Ref,
		Created: rep.Started, Updated: rep.Ended, Links: links(id, rep.Image.Digest, queue.StateDone)}
	a.Result = &Summary{Verdict: string(rep.Verdict), Score: rep.Score, Techniques: []string{}, RunID: id,
		AnalyzerVersion: rep.Analyzer.Analyzer, RulesVersion: rep.Analyzer.Rules, Model: rep.Analyzer.Model, Finished: rep.Ended}
	for _, t := range rep.Techniques {
		a.Result.Techniques = append(a.Result.Techniques, t.ID)
	}
	return a, nil
}

// analysisFromVerdict stands for an analysis known only by its verdict.
func analysisFromVerdict(v store.Verdict) Analysis {
	techs := v.Techniques
	if techs == nil {
		techs = []string{}
	}
	return Analysis{
		ID: v.Analysis, Status: string(queue.StateDone), Digest: v.Digest, Created: v.Time, Updated: v.Time,
		Result: &Summary{Verdict: v.Verdict, Score: v.Score, Techniques: techs, AnalyzerVersion: v.AnalyzerVersion, Finished: v.Time},
		Links:  links(v.Analysis, v.Digest, queue.StateDone),
	}
}

func (s *Server) getAnalysis(w http.ResponseWriter, r *http.Request) error {
	a, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// Listing bounds.
const (
	defaultListLimit = 50
	maxListLimit     = 500
	// maxListScan bounds the index entries one request reads, so a filter
	// that matches nothing cannot make a request walk the whole index; a
	// short page with a cursor tells the client to go on.
	maxListScan = 2000
)

var verdicts = []string{string(analyzer.VerdictClean), string(analyzer.VerdictSuspicious), string(analyzer.VerdictMalicious)}

func checkVerdict(v string) error {
	for _, ok := range verdicts {
		if v == ok {
			return nil
		}
	}
	return fmt.Errorf("%w: verdict %.32q (have %s)", errBadRequest, v, strings.Join(verdicts, ", "))
}

func parseLimit(s string, def, most int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%w: limit %.16q: 1 to %d", errBadRequest, s, most)
	}
	return n, nil
}

// listAnalyses is GET /v1/analyses: the index, newest first, filtered by
// verdict, repository and status.
func (s *Server) listAnalyses(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	verdict, repo, status := q.Get("verdict"), q.Get("repository"), q.Get("status")
	if verdict != "" {
		if err := checkVerdict(verdict); err != nil {
			return err
		}
	}
	switch queue.State(status) {
	case "", queue.StateQueued, queue.StateRunning, queue.StateDone, queue.StateFailed, queue.StateDead:
	default:
		return fmt.Errorf("%w: status %.32q", errBadRequest, status)
	}
	limit, err := parseLimit(q.Get("limit"), defaultListLimit, maxListLimit)
	if err != nil {
		return err
	}
	after, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	out := AnalysisList{Analyses: []Analysis{}}
	scanned := 0
	for {
		page, err := s.st.List(ctx, indexPrefix, after, min(limit, 200))
		if err != nil {
			return fmt.Errorf("%w: index: %w", errUnavailable, err)
		}
		for _, info := range page {
			after = info.Key
			scanned++
			a, ok, err := s.indexed(ctx, info.Key)
			if err != nil {
				return err
			}
			if ok && matches(a, verdict, repo, status) {
				out.Analyses = append(out.Analyses, a)
			}
			if len(out.Analyses) == limit || scanned == maxListScan {
				out.Next = encodeCursor(after)
				writeJSON(w, http.StatusOK, out)
				return nil
			}
		}
		if len(page) < min(limit, 200) {
			writeJSON(w, http.StatusOK, out)
			return nil
		}
	}
}

// indexed reads one index entry and the analysis's state now; ok is false
// for an entry that no longer leads anywhere.
func (s *Server) indexed(ctx context.Context, key string) (Analysis, bool, error) {
	id, ok := idFromIndexKey(key)
	if !ok {
		return Analysis{}, false, nil
	}
	var e indexEntry
	if err := store.GetJSON(ctx, s.st, key, &e); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Analysis{}, false, nil // deleted under us: a dedupe
		}
		return Analysis{}, false, fmt.Errorf("%w: index: %w", errUnavailable, err)
	}
	a, err := s.lookup(ctx, id)
	switch {
	case errors.Is(err, errNotFound):
		// Queued once, forgotten by the queue, no report: show what was asked.
		a = fromJob(queue.Job{ID: e.ID, Digest: e.Digest, Image: e.Image, Reason: e.Reason, Mode: e.Mode, Created: e.Created}, "unknown")
		a.Links.Verdict = verdictPath(e.Digest)
	case err != nil:
		return Analysis{}, false, err
	}
	if a.Repository == "" {
		a.Repository = e.Repository
	}
	return a, true, nil
}

func matches(a Analysis, verdict, repo, status string) bool {
	if status != "" && a.Status != status {
		return false
	}
	if verdict != "" && (a.Result == nil || a.Result.Verdict != verdict) {
		return false
	}
	if repo != "" {
		_, path, _ := strings.Cut(a.Repository, "/")
		if a.Repository != repo && path != repo {
			return false
		}
	}
	return true
}

// reportTypes are the media types of the report formats.
var reportTypes = map[analyzer.Format]string{
	analyzer.FormatJSON:      "application/json",
	analyzer.FormatSARIF:     "application/sarif+json",
	analyzer.FormatNavigator: "application/json",
}

var reportArtifacts = map[analyzer.Format]store.Artifact{
	analyzer.FormatJSON:      store.ArtifactReport,
	analyzer.FormatSARIF:     store.ArtifactSARIF,
	analyzer.FormatNavigator: store.ArtifactNavigator,
}

// getReport is GET /v1/analyses/{id}/report?format=json|sarif|navigator.
// A format the worker did not store is made from the stored report.json
// with the analyzer's writers: reports are data, not runs.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := queue.ValidateID(id); err != nil {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	name := r.URL.Query().Get("format")
	if name == "" {
		name = "json"
	}
	format, err := analyzer.ParseFormat(name)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	ctx := r.Context()
	key, _ := store.AnalysisKey(id, reportArtifacts[format])
	rc, info, err := s.st.Get(ctx, key)
	if err == nil {
		defer rc.Close()
		w.Header().Set("Content-Type", reportTypes[format])
		w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
		_, err = io.Copy(w, rc)
		return s.streamed(r, err)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	if format != analyzer.FormatJSON {
		jsonKey, _ := store.AnalysisKey(id, store.ArtifactReport)
		rc, _, err := s.st.Get(ctx, jsonKey)
		if err == nil {
			defer rc.Close()
			rep, err := analyzer.ReadJSON(io.LimitReader(rc, store.MaxJSON))
			if err != nil {
				return fmt.Errorf("stored report of %s: %w", id, err)
			}
			var buf bytes.Buffer
			if err := format.Write(&buf, rep); err != nil {
				return err
			}
			w.Header().Set("Content-Type", reportTypes[format])
			w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
			_, err = buf.WriteTo(w)
			return s.streamed(r, err)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: store: %w", errUnavailable, err)
		}
	}
	return s.noReport(ctx, id)
}

// noReport says why an analysis has no report: not finished yet (409),
// failed, or unknown (404).
func (s *Server) noReport(ctx context.Context, id string) error {
	a, err := s.lookup(ctx, id)
	if err != nil {
		return err
	}
	switch queue.State(a.Status) {
	case queue.StateQueued, queue.StateRunning:
		return fmt.Errorf("%w: analysis %s is %s", errNotReady, id, a.Status)
	case queue.StateFailed, queue.StateDead:
		return fmt.Errorf("%w: analysis %s is %s, it has no report: %s", errNotFound, id, a.Status, a.Error)
	}
	return fmt.Errorf("%w: no report stored for analysis %s", errNotFound, id)
}

// streamed logs a failure after the headers went out: the client sees a
// cut body, and no problem document can follow.
func (s *Server) streamed(r *http.Request, err error) error {
	if err != nil && r.Context().Err() == nil {
		s.log.Warn("response cut short", "route", routeOf(r), "err", err)
	}
	return nil
}

// artifactTypes maps the names of GET /v1/analyses/{id}/artifacts/{name}
// to store artifacts and their media types.
var artifactTypes = map[string]struct {
	artifact store.Artifact
	ctype    string
}{
	"stdout": {store.ArtifactStdout, "text/plain; charset=utf-8"},
	"stderr": {store.ArtifactStderr, "text/plain; charset=utf-8"},
	"run":    {store.ArtifactRun, "application/json"},
	"fsdiff": {store.ArtifactFSDiff, "application/x-tar"},
}

// artifactName is the API's name for one of an analysis's store keys
// (the keys a Result lists); reports have a route of their own.
func artifactName(id, key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "analyses/"+id+"/")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "files/") {
		p, err := store.DroppedFilePath(key)
		if err != nil || !strings.HasPrefix(p, "/") {
			return "", false
		}
		return "files" + p, true
	}
	for name, t := range artifactTypes {
		if string(t.artifact) == rest {
			return name, true
		}
	}
	return "", false
}

// getArtifact is GET /v1/analyses/{id}/artifacts/{name}: stdout, stderr,
// run (JSON, gzip on the wire when the client takes it), fsdiff (tar), or
// files/<path> for a file the image dropped at /<path>. A reclassified
// analysis has no run of its own: its source run's artifacts answer.
func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request) error {
	id, name := r.PathValue("id"), r.PathValue("name")
	if err := queue.ValidateID(id); err != nil {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	ctype := "application/octet-stream"
	keyOf := func(id string) (string, error) {
		if p, ok := strings.CutPrefix(name, "files/"); ok && p != "" {
			return store.DroppedFileKey(id, "/"+p)
		}
		t, ok := artifactTypes[name]
		if !ok {
			return "", fmt.Errorf("%w: artifact %.64q (have stdout, stderr, run, fsdiff, files/<path>)", errNotFound, name)
		}
		ctype = t.ctype
		return store.AnalysisKey(id, t.artifact)
	}
	key, err := keyOf(id)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rc, info, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		if a, lerr := s.lookup(ctx, id); lerr == nil && a.Result != nil && a.Result.RunID != "" && a.Result.RunID != id {
			if key, kerr := keyOf(a.Result.RunID); kerr == nil {
				rc, info, err = s.st.Get(ctx, key)
			}
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: analysis %s has no artifact %.64q", errNotFound, id, name)
		}
		return fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	defer rc.Close()
	w.Header().Set("Content-Type", ctype)
	if strings.HasPrefix(name, "files/") {
		w.Header().Set("Content-Disposition", "attachment")
	}
	if name == "run" {
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
		} else {
			zr, err := gzip.NewReader(rc)
			if err != nil {
				return fmt.Errorf("stored run of %s: %w", id, err)
			}
			_, err = io.Copy(w, zr)
			return s.streamed(r, err)
		}
	}
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, err = io.Copy(w, rc)
	return s.streamed(r, err)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
