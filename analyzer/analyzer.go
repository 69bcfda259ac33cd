package analyzer

import (
	"errors"
	"fmt"

	"github.com/sandscan/sandscan/trace"
)

// Versions of what makes a report. Bump RulesVersion whenever a rule's
// logic or thresholds change, Version when anything else does: a stored
// report names the versions that made it.
const (
	Version      = "0.1.0"
	RulesVersion = "2026.11.2"
)

// ModelNone is the model name a report carries when no classifier ran.
const ModelNone = "none"

// Classifier is the seam for the ML model: it sees the run's features and
// returns a label with its probability. Label "benign" (or "clean") means
// the model thinks the run is harmless; any other label names a kind of
// malicious behaviour. Probability is the model's confidence in Label.
type Classifier interface {
	Classify(f Features) Classification
}

// ClassifierFunc adapts a function to Classifier.
type ClassifierFunc func(f Features) Classification

// Classify calls f.
func (c ClassifierFunc) Classify(f Features) Classification { return c(f) }

// Classification is a model's answer about a run.
type Classification struct {
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
	Model       string  `json:"model"`
	// Anomaly is an outlier score in 0..1 (0: typical of the training runs).
	Anomaly float64 `json:"anomaly,omitempty"`
}

// Analyzer turns Runs into Reports. It holds no per-run state and is safe
// for concurrent use.
type Analyzer struct {
	classifier Classifier
	rules      []Rule
}

// Option configures an Analyzer.
type Option func(*Analyzer)

// WithClassifier adds a model's opinion to the verdict.
func WithClassifier(c Classifier) Option { return func(a *Analyzer) { a.classifier = c } }

// WithRules replaces the rule set (tests and experiments).
func WithRules(rules []Rule) Option { return func(a *Analyzer) { a.rules = rules } }

// New returns an Analyzer with the built-in rules.
func New(opts ...Option) *Analyzer {
	a := &Analyzer{rules: Rules()}
	for _, o := range opts {
		o(a)
	}
	return a
}

// ErrNilRun is returned for a nil Run.
var ErrNilRun = errors.New("analyzer: nil run")

// Analyze computes the report of one run. It is a pure function of the run
// and the analyzer's versions (and model): the same run gives the same
// report, byte for byte.
func (a *Analyzer) Analyze(run *trace.Run) (rep *Report, err error) {
	if run == nil {
		return nil, ErrNilRun
	}
	defer func() {
		// A run is untrusted input; a bug tripped by it must not kill a worker.
		if r := recover(); r != nil {
			rep, err = nil, fmt.Errorf("analyzer: run %s: %v", run.ID, r)
		}
	}()
	x := NewIndex(run)
	feats := Extract(x)
	findings := evaluate(x, a.rules)
	cls := Classification{Label: "unknown", Model: ModelNone}
	if a.classifier != nil {
		cls = a.classifier.Classify(feats)
		cls.Probability = round3(clamp01(cls.Probability))
		cls.Anomaly = round3(clamp01(cls.Anomaly))
		if cls.Model == "" {
			cls.Model = "unnamed"
		}
	}
	pol := decide(findings, cls, a.classifier != nil)
	rep = &Report{
		Schema:         ReportSchema,
		ID:             run.ID,
		Image:          ImageInfo{Ref: run.Image.Ref, Digest: run.Image.Digest},
		Verdict:        pol.verdict,
		Score:          pol.score,
		Techniques:     techniqueHits(findings),
		Findings:       findings,
		Classification: cls,
		Features:       feats.Map(),
		Sandbox:        sandboxInfo(run),
		Analyzer:       AnalyzerInfo{Analyzer: Version, Rules: RulesVersion, Model: cls.Model},
		Started:        run.Started,
		Ended:          run.Ended,
		Policy:         PolicyInfo{RuleScore: pol.ruleScore, ModelScore: pol.modelScore, Reason: pol.reason},
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	return rep, nil
}

func sandboxInfo(run *trace.Run) SandboxInfo {
	return SandboxInfo{
		Runtime:        run.Sandbox.Runtime,
		RuntimeVersion: run.Sandbox.RuntimeVersion,
		Platform:       run.Sandbox.Platform,
		Network:        run.Sandbox.Network,
		Duration:       round3(wall(run).Seconds()),
		ExitCode:       run.Exit.Code,
		ExitReason:     run.Exit.Reason,
		TimedOut:       run.Exit.TimedOut,
		OOM:            run.Exit.OOM,
		Events:         max(run.EventsTotal, uint64(len(run.Events))),
		DroppedEvents:  run.Dropped,
		Errors:         len(run.Errors),
	}
}
