package eval

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/internal/atomicfile"
	"github.com/sandscan/sandscan/trace"
)

// ResultsSchema names the JSON document Results encode to.
const ResultsSchema = "sandscan.eval/v1"

// Results is one evaluation: every test's outcome and the summary.
type Results struct {
	Schema   string    `json:"schema"`
	Corpus   string    `json:"corpus"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Rescored results come from saved runs, not new detonations.
	Rescored bool   `json:"rescored"`
	Network  string `json:"network"`
	// Analyzer names what scored the runs; Model is the classifier's
	// name, "none" for rules alone.
	Analyzer struct {
		Version string `json:"version"`
		Rules   string `json:"rules"`
		Model   string `json:"model"`
	} `json:"analyzer"`
	Tests   []Result `json:"tests"`
	Summary Summary  `json:"summary"`
}

// Result is what one test gave.
type Result struct {
	ID            string   `json:"id"`
	Key           string   `json:"key"`
	Kind          Kind     `json:"kind"`
	Name          string   `json:"name"`
	Technique     string   `json:"technique,omitempty"`
	Legacy        string   `json:"legacy_technique,omitempty"`
	Tactic        string   `json:"tactic,omitempty"`
	LegacyTactic  string   `json:"legacy_tactic,omitempty"`
	Tactics       []string `json:"tactics,omitempty"`
	Signal        string   `json:"signal,omitempty"`
	Rootfs        string   `json:"rootfs"`
	Shell         string   `json:"shell"`
	TimeoutSecond float64  `json:"timeout_seconds"`

	// Detection is set for atomics (and DetectError for any test that
	// failed); FalsePositive for controls that named any technique.
	Detection     Detection  `json:"detection,omitempty"`
	FalsePositive bool       `json:"false_positive,omitempty"`
	Reported      []Reported `json:"reported"`
	Verdict       string     `json:"verdict,omitempty"`
	Score         float64    `json:"score"`
	// Class is the model's label and its probability.
	Class       string  `json:"class,omitempty"`
	Probability float64 `json:"class_probability,omitempty"`

	Seconds    float64 `json:"seconds"`
	ExitCode   int     `json:"exit_code"`
	ExitReason string  `json:"exit_reason,omitempty"`
	TimedOut   bool    `json:"timed_out,omitempty"`
	Events     uint64  `json:"events"`
	Dropped    uint64  `json:"dropped_events,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// Reported is one technique of a report.
type Reported struct {
	ID         string   `json:"id"`
	IDV19      string   `json:"id_v19,omitempty"`
	Tactics    []string `json:"tactics,omitempty"`
	Confidence float64  `json:"confidence"`
	Findings   []string `json:"findings,omitempty"`
}

// newResult describes a test before it runs.
func newResult(t Test) Result {
	return Result{
		ID: t.ID, Key: t.Key, Kind: t.Kind, Name: t.Name,
		Technique: t.Technique, Legacy: t.Legacy,
		Tactic: t.Tactic, LegacyTactic: t.LegacyTactic, Tactics: t.Tactics,
		Signal: t.Signal, Rootfs: t.Rootfs, Shell: t.Shell,
		TimeoutSecond: t.Timeout.Seconds(),
		Reported:      []Reported{},
	}
}

// fail marks a result as not measured.
func (r *Result) fail(err error) {
	r.Detection, r.Error = DetectError, err.Error()
}

// Fill fills a result from a run and its report.
func (r *Result) Fill(t Test, run *trace.Run, rep *analyzer.Report) {
	r.Seconds = round3(run.Timings.Total.Std().Seconds())
	r.ExitCode, r.ExitReason, r.TimedOut = run.Exit.Code, run.Exit.Reason, run.Exit.TimedOut
	r.Events, r.Dropped = max(run.EventsTotal, uint64(len(run.Events))), run.Dropped
	r.Verdict, r.Score = string(rep.Verdict), rep.Score
	r.Class, r.Probability = rep.Classification.Label, rep.Classification.Probability
	var ids []string
	r.Reported = make([]Reported, 0, len(rep.Techniques))
	for _, h := range rep.Techniques {
		r.Reported = append(r.Reported, Reported{ID: h.ID, IDV19: h.IDV19, Tactics: h.Tactics, Confidence: h.Confidence, Findings: h.Findings})
		ids = append(ids, h.ID)
		if h.IDV19 != "" {
			ids = append(ids, h.IDV19)
		}
	}
	switch t.Kind {
	case KindAtomic:
		r.Detection = Match(t.Expected(), ids)
	case KindControl:
		r.Detection, r.FalsePositive = "", len(r.Reported) > 0
	}
}

// Encode writes results as indented JSON.
func (res *Results) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// WriteFile writes results as JSON to path, whole or not at all.
func (res *Results) WriteFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { return res.Encode(w) })
}

// SaveRun writes a run as gzipped JSON.
func SaveRun(path string, run *trace.Run) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if err := trace.Encode(zw, run); err != nil {
			return err
		}
		return zw.Close()
	})
}

// LoadRun reads a run SaveRun wrote.
func LoadRun(path string) (*trace.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	run, err := trace.Decode(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// isNotExist says whether err means a file was missing.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
