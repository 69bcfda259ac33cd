package analyzer

import (
	"time"

	"github.com/sandscan/sandscan/analyzer/attack"
)

// ReportSchema names the JSON document a Report encodes to.
const ReportSchema = "sandscan.report/v1"

// Verdict is the analyzer's conclusion about a run.
type Verdict string

// Verdicts, from least to most worrying.
const (
	VerdictClean      Verdict = "clean"
	VerdictSuspicious Verdict = "suspicious"
	VerdictMalicious  Verdict = "malicious"
)

// ExitCode is the CLI's exit status for a verdict (DESIGN.md): 0 clean,
// 1 suspicious, 2 malicious; 3 for anything else.
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictClean:
		return 0
	case VerdictSuspicious:
		return 1
	case VerdictMalicious:
		return 2
	}
	return 3
}

// Report is what the analyzer concludes from one Run. Its JSON encoding is
// the contract of DESIGN.md: fields may be added, none removed or renamed.
type Report struct {
	Schema         string         `json:"schema"`
	ID             string         `json:"id"`
	Image          ImageInfo      `json:"image"`
	Verdict        Verdict        `json:"verdict"`
	Score          float64        `json:"score"`
	Techniques     []TechniqueHit `json:"techniques"`
	Findings       []Finding      `json:"findings"`
	Classification Classification `json:"classification"`
	// Features are the values the model saw, by name.
	Features map[string]float64 `json:"features"`
	Sandbox  SandboxInfo        `json:"sandbox"`
	Analyzer AnalyzerInfo       `json:"analyzer"`
	// Started and Ended come from the Run, never from the analyzer's clock.
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Policy explains the score: what rules and model each contributed.
	Policy PolicyInfo `json:"policy"`
}

// ImageInfo identifies the image a report is about.
type ImageInfo struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// TechniqueHit is one ATT&CK technique the run showed.
type TechniqueHit struct {
	ID string `json:"id"`
	// IDV19 is the id ATT&CK v19 gave the technique, when it differs.
	IDV19      string   `json:"id_v19,omitempty"`
	Name       string   `json:"name"`
	Tactics    []string `json:"tactics"`
	Confidence float64  `json:"confidence"`
	// Findings are the ids of the findings behind the technique.
	Findings []string `json:"findings"`
}

// SandboxInfo says how the run was made.
type SandboxInfo struct {
	Runtime        string  `json:"runtime"`
	RuntimeVersion string  `json:"runtime_version"`
	Platform       string  `json:"platform"`
	Network        string  `json:"network"`
	Duration       float64 `json:"duration_seconds"`
	ExitCode       int     `json:"exit_code"`
	ExitReason     string  `json:"exit_reason,omitempty"`
	TimedOut       bool    `json:"timed_out"`
	OOM            bool    `json:"oom,omitempty"`
	Events         uint64  `json:"events"`
	DroppedEvents  uint64  `json:"dropped_events"`
	Errors         int     `json:"errors,omitempty"`
}

// AnalyzerInfo names the versions that made the report.
type AnalyzerInfo struct {
	Analyzer string `json:"analyzer"`
	Rules    string `json:"rules"`
	Model    string `json:"model"`
}

// PolicyInfo is the arithmetic of the verdict (see the package doc).
type PolicyInfo struct {
	RuleScore  float64 `json:"rule_score"`
	ModelScore float64 `json:"model_score"`
	Reason     string  `json:"reason"`
}

// techLess orders technique ids numerically.
func techLess(a, b string) bool { return attack.Less(a, b) }

// techniqueHits gathers the findings' techniques, each pointing back at
// the findings behind it, with a confidence that grows with independent
// findings: 1 - prod(1 - c).
func techniqueHits(findings []Finding) []TechniqueHit {
	by := map[string]*TechniqueHit{}
	miss := map[string]float64{}
	for _, f := range findings {
		for _, id := range f.Techniques {
			t := by[id]
			if t == nil {
				t = &TechniqueHit{ID: id, Tactics: []string{}}
				if a, ok := attack.Lookup(id); ok {
					t.Name, t.Tactics, t.IDV19 = a.Name, a.Tactics, a.V19
				}
				by[id] = t
				miss[id] = 1
			}
			t.Findings = append(t.Findings, f.ID)
			miss[id] *= 1 - clamp01(f.Confidence)
		}
	}
	out := make([]TechniqueHit, 0, len(by))
	for id, t := range by {
		t.Confidence = round3(1 - miss[id])
		out = append(out, *t)
	}
	sortTechniqueHits(out)
	return out
}

func sortTechniqueHits(ts []TechniqueHit) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && techLess(ts[j].ID, ts[j-1].ID); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func clamp01(v float64) float64 {
	switch {
	case v != v || v < 0: // NaN too
		return 0
	case v > 1:
		return 1
	}
	return v
}

// round3 keeps three decimals so reports stay readable and stable.
func round3(v float64) float64 {
	if v != v {
		return 0
	}
	return float64(int64(v*1000+0.5)) / 1000
}
