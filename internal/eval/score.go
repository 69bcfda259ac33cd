package eval

import (
	"slices"
	"strings"
)

// Detection is how well a report named an atomic's technique.
type Detection string

const (
	// DetectExact: the report names the technique (or its v18 id).
	DetectExact Detection = "exact"
	// DetectSub: the report names a sub-technique of it, which implies
	// the technique itself (T1027.013 for T1027): counted as exact.
	DetectSub Detection = "sub"
	// DetectParent: only the parent technique (T1053 for T1053.003):
	// partial credit.
	DetectParent Detection = "parent"
	DetectNone   Detection = "no"
	// DetectError: the test could not be run or analyzed.
	DetectError Detection = "error"
)

// Hit counts as a detection (exact or sub-technique).
func (d Detection) Hit() bool { return d == DetectExact || d == DetectSub }

// Partial counts as partial credit only.
func (d Detection) Partial() bool { return d == DetectParent }

// Match scores the ids a report named against the ids that count for a
// test (its technique and v18 id). Each reported technique may carry two
// ids (v18 and v19); pass them all.
func Match(expected, reported []string) Detection {
	best := DetectNone
	for _, want := range expected {
		for _, got := range reported {
			switch {
			case got == "":
			case got == want:
				return DetectExact
			case parentOf(got) == want:
				best = DetectSub
			case best == DetectNone && got == parentOf(want):
				best = DetectParent
			}
		}
	}
	return best
}

// parentOf returns T1053 for T1053.003 and "" for a technique with no
// parent.
func parentOf(id string) string {
	p, _, ok := strings.Cut(id, ".")
	if !ok {
		return ""
	}
	return p
}

// Recall is one row of a recall table: the tests of one group (a tactic,
// a tier) and how many were detected.
type Recall struct {
	Group   string `json:"group"`
	Tests   int    `json:"tests"`
	Exact   int    `json:"exact"`
	Partial int    `json:"partial"`
	Missed  int    `json:"missed"`
	Errors  int    `json:"errors,omitempty"`
	// Recall counts exact (and sub-technique) detections; RecallPartial
	// adds the parent-only ones.
	Recall        float64 `json:"recall"`
	RecallPartial float64 `json:"recall_with_partial"`
}

// Summary is the corpus-wide view of a set of results.
type Summary struct {
	// TacticsV19 groups atomics by primary tactic, TacticsV18 by its v18
	// view; TacticsListed counts a test under every tactic it lists.
	TacticsV19    []Recall `json:"tactics_v19"`
	TacticsV18    []Recall `json:"tactics_v18"`
	TacticsListed []Recall `json:"tactics_listed_v19"`
	Tiers         []Recall `json:"tiers"`
	Techniques    []Recall `json:"techniques"`
	Atomics       Recall   `json:"atomics"`
	// AtomicsFlagged counts atomics whose verdict was not clean, AtomicsAny
	// those with any technique at all (right or wrong).
	AtomicsFlagged int `json:"atomics_flagged"`
	AtomicsAny     int `json:"atomics_any_technique"`

	Controls ControlSummary `json:"controls"`

	// TechniquePrecision is atomics with any technique over everything
	// with any technique; VerdictPrecision the same for non-clean
	// verdicts. Both are only as good as a corpus of 15 controls allows.
	TechniquePrecision float64 `json:"technique_precision"`
	VerdictPrecision   float64 `json:"verdict_precision"`
}

// ControlSummary counts false positives on the benign controls.
type ControlSummary struct {
	Total int `json:"total"`
	// Clean reports named no technique; VerdictClean had a clean verdict.
	Clean        int `json:"clean"`
	VerdictClean int `json:"verdict_clean"`
	Errors       int `json:"errors,omitempty"`
	// FalsePositives lists the controls that named techniques.
	FalsePositives []ControlFP `json:"false_positives"`
}

// ControlFP is one control that fired.
type ControlFP struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Techniques []string `json:"techniques"`
	Verdict    string   `json:"verdict"`
}

// Summarize computes the recall tables and control counts of results.
func Summarize(results []Result) Summary {
	s := Summary{Controls: ControlSummary{FalsePositives: []ControlFP{}}}
	v19 := newGroups()
	v18 := newGroups()
	listed := newGroups()
	tiers := newGroups()
	techs := newGroups()
	for _, r := range results {
		if r.Kind == KindControl {
			s.Controls.add(r)
			continue
		}
		s.Atomics.add(r.Detection)
		v19.add(r.Tactic, r.Detection)
		v18.add(r.LegacyTactic, r.Detection)
		tiers.add(r.Signal, r.Detection)
		techs.add(r.Technique, r.Detection)
		for _, t := range r.Tactics {
			listed.add(t, r.Detection)
		}
		if r.Verdict != "" && r.Verdict != "clean" {
			s.AtomicsFlagged++
		}
		if len(r.Reported) > 0 {
			s.AtomicsAny++
		}
	}
	s.Atomics.Group = "atomics"
	s.Atomics.finish()
	s.TacticsV19, s.TacticsV18, s.TacticsListed = v19.rows(), v18.rows(), listed.rows()
	s.Tiers, s.Techniques = tiers.rows(), techs.rows()
	slices.SortStableFunc(s.Tiers, func(a, b Recall) int { return tierRank(a.Group) - tierRank(b.Group) })
	fpTech := s.Controls.Total - s.Controls.Clean - s.Controls.Errors
	fpVerdict := s.Controls.Total - s.Controls.VerdictClean - s.Controls.Errors
	s.TechniquePrecision = ratio(s.AtomicsAny, s.AtomicsAny+fpTech)
	s.VerdictPrecision = ratio(s.AtomicsFlagged, s.AtomicsFlagged+fpVerdict)
	return s
}

// tierRank orders the known signal tiers strongest first; others follow.
func tierRank(tier string) int {
	switch tier {
	case "high":
		return 0
	case "medium":
		return 1
	case "low":
		return 2
	}
	return 3
}

func (c *ControlSummary) add(r Result) {
	c.Total++
	if r.Detection == DetectError {
		c.Errors++
		return
	}
	if len(r.Reported) == 0 {
		c.Clean++
	} else {
		c.FalsePositives = append(c.FalsePositives, ControlFP{ID: r.ID, Name: r.Name, Techniques: r.ReportedIDs(), Verdict: r.Verdict})
	}
	if r.Verdict == "clean" {
		c.VerdictClean++
	}
}

func (r *Recall) add(d Detection) {
	r.Tests++
	switch {
	case d.Hit():
		r.Exact++
	case d.Partial():
		r.Partial++
	case d == DetectError:
		r.Errors++
	default:
		r.Missed++
	}
}

func (r *Recall) finish() {
	r.Recall = ratio(r.Exact, r.Tests)
	r.RecallPartial = ratio(r.Exact+r.Partial, r.Tests)
}

// groups keeps recall rows in the order their groups first appear.
type groups struct {
	order []string
	by    map[string]*Recall
}

func newGroups() *groups { return &groups{by: map[string]*Recall{}} }

func (g *groups) add(name string, d Detection) {
	if name == "" {
		name = "(none)"
	}
	r, ok := g.by[name]
	if !ok {
		r = &Recall{Group: name}
		g.by[name] = r
		g.order = append(g.order, name)
	}
	r.add(d)
}

func (g *groups) rows() []Recall {
	out := make([]Recall, 0, len(g.order))
	for _, name := range g.order {
		r := g.by[name]
		r.finish()
		out = append(out, *r)
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round3(float64(a) / float64(b))
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// ReportedIDs lists the techniques of a result as the corpus names them:
// the v19 id where it differs from v18.
func (r Result) ReportedIDs() []string {
	out := make([]string, 0, len(r.Reported))
	for _, t := range r.Reported {
		id := t.ID
		if t.IDV19 != "" {
			id = t.IDV19
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
