package eval

import (
	"slices"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/trace"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name               string
		expected, reported []string
		want               Detection
	}{
		{"exact", []string{"T1053.003"}, []string{"T1082", "T1053.003"}, DetectExact},
		{"legacy id", []string{"T1685.006", "T1070.002"}, []string{"T1070.002"}, DetectExact},
		{"v19 id of a hit", []string{"T1690", "T1562.003"}, []string{"T1562.003", "T1690"}, DetectExact},
		{"parent only", []string{"T1053.003"}, []string{"T1053"}, DetectParent},
		{"parent of legacy", []string{"T1685", "T1562.001"}, []string{"T1562"}, DetectParent},
		{"sub-technique", []string{"T1027"}, []string{"T1027.013"}, DetectSub},
		{"sub beats parent", []string{"T1685.006", "T1070"}, []string{"T1685", "T1070.004"}, DetectSub},
		{"exact beats sub", []string{"T1027"}, []string{"T1027.013", "T1027"}, DetectExact},
		{"sibling is no credit", []string{"T1053.003"}, []string{"T1053.002"}, DetectNone},
		{"prefix is no credit", []string{"T1053"}, []string{"T10530"}, DetectNone},
		{"nothing reported", []string{"T1082"}, nil, DetectNone},
		{"empty ids ignored", []string{"T1082"}, []string{""}, DetectNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.expected, tt.reported); got != tt.want {
				t.Errorf("Match(%q, %q) = %s, want %s", tt.expected, tt.reported, got, tt.want)
			}
		})
	}
}

// report builds the part of an analyzer report the scorer reads.
func report(verdict analyzer.Verdict, hits ...analyzer.TechniqueHit) *analyzer.Report {
	return &analyzer.Report{Verdict: verdict, Score: 0.5, Techniques: hits}
}

func TestResultFill(t *testing.T) {
	run := &trace.Run{EventsTotal: 40, Exit: trace.Exit{Code: 0, Reason: trace.EndExited}}
	run.Timings.Total = trace.Duration(1500 * time.Millisecond)
	atomic := Test{ID: "A01", Kind: KindAtomic, Technique: "T1685.006", Legacy: "T1070.002"}
	control := Test{ID: "B01", Kind: KindControl}
	tests := []struct {
		name    string
		test    Test
		rep     *analyzer.Report
		det     Detection
		fp      bool
		idsSeen []string
	}{
		{"atomic, v18 id with v19 alias", atomic,
			report("malicious", analyzer.TechniqueHit{ID: "T1070.002", IDV19: "T1685.006"}), DetectExact, false, []string{"T1685.006"}},
		{"atomic, parent", atomic, report("suspicious", analyzer.TechniqueHit{ID: "T1070"}), DetectParent, false, []string{"T1070"}},
		{"atomic, missed", atomic, report("clean"), DetectNone, false, []string{}},
		{"control, clean", control, report("clean"), "", false, []string{}},
		{"control, any technique is a false positive", control,
			report("clean", analyzer.TechniqueHit{ID: "T1082"}), "", true, []string{"T1082"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResult(tt.test)
			r.Fill(tt.test, run, tt.rep)
			if r.Detection != tt.det || r.FalsePositive != tt.fp || !slices.Equal(r.ReportedIDs(), tt.idsSeen) {
				t.Errorf("detection %q fp %v ids %q; want %q %v %q", r.Detection, r.FalsePositive, r.ReportedIDs(), tt.det, tt.fp, tt.idsSeen)
			}
			if r.Seconds != 1.5 || r.Events != 40 || r.Verdict != string(tt.rep.Verdict) {
				t.Errorf("seconds %v events %d verdict %q", r.Seconds, r.Events, r.Verdict)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	atomic := func(id, tactic, legacy, tier string, d Detection, verdict string, reported ...string) Result {
		r := Result{ID: id, Kind: KindAtomic, Technique: "T1000", Tactic: tactic, LegacyTactic: legacy,
			Tactics: []string{tactic, "execution"}, Signal: tier, Detection: d, Verdict: verdict}
		for _, id := range reported {
			r.Reported = append(r.Reported, Reported{ID: id})
		}
		return r
	}
	control := func(id, verdict string, reported ...string) Result {
		r := Result{ID: id, Kind: KindControl, Verdict: verdict, FalsePositive: len(reported) > 0}
		for _, id := range reported {
			r.Reported = append(r.Reported, Reported{ID: id})
		}
		return r
	}
	results := []Result{
		atomic("A1", "stealth", "defense-evasion", "high", DetectExact, "malicious", "T1000"),
		atomic("A2", "defense-impairment", "defense-evasion", "high", DetectParent, "suspicious", "T1"),
		atomic("A3", "stealth", "defense-evasion", "low", DetectNone, "clean"),
		atomic("A4", "impact", "impact", "low", DetectSub, "malicious", "T1000.001"),
		{ID: "A5", Kind: KindAtomic, Tactic: "impact", LegacyTactic: "impact", Signal: "low", Detection: DetectError},
		control("B1", "clean"),
		control("B2", "suspicious", "T1082", "T1057"),
		control("B3", "clean", "T1082"),
		{ID: "B4", Kind: KindControl, Detection: DetectError},
	}
	s := Summarize(results)

	a := s.Atomics
	if a.Tests != 5 || a.Exact != 2 || a.Partial != 1 || a.Missed != 1 || a.Errors != 1 || a.Recall != 0.4 || a.RecallPartial != 0.6 {
		t.Errorf("atomics = %+v", a)
	}
	want19 := []Recall{
		{Group: "stealth", Tests: 2, Exact: 1, Missed: 1, Recall: 0.5, RecallPartial: 0.5},
		{Group: "defense-impairment", Tests: 1, Partial: 1, Recall: 0, RecallPartial: 1},
		{Group: "impact", Tests: 2, Exact: 1, Errors: 1, Recall: 0.5, RecallPartial: 0.5},
	}
	if !slices.Equal(s.TacticsV19, want19) {
		t.Errorf("v19 = %+v\nwant %+v", s.TacticsV19, want19)
	}
	if len(s.TacticsV18) != 2 || s.TacticsV18[0] != (Recall{Group: "defense-evasion", Tests: 3, Exact: 1, Partial: 1, Missed: 1, Recall: 0.333, RecallPartial: 0.667}) {
		t.Errorf("v18 = %+v", s.TacticsV18)
	}
	if exec := s.TacticsListed[1]; exec.Group != "execution" || exec.Tests != 4 {
		t.Errorf("listed = %+v", s.TacticsListed)
	}
	if len(s.Tiers) != 2 || s.Tiers[0].Group != "high" || s.Tiers[1].Tests != 3 || s.Tiers[1].Exact != 1 {
		t.Errorf("tiers = %+v", s.Tiers)
	}
	c := s.Controls
	if c.Total != 4 || c.Clean != 1 || c.VerdictClean != 2 || c.Errors != 1 || len(c.FalsePositives) != 2 ||
		c.FalsePositives[0].ID != "B2" || !slices.Equal(c.FalsePositives[0].Techniques, []string{"T1082", "T1057"}) {
		t.Errorf("controls = %+v", c)
	}
	// 3 atomics with techniques against 2 controls with any; 3 non-clean
	// atomic verdicts against 1 control.
	if s.AtomicsAny != 3 || s.AtomicsFlagged != 3 || s.TechniquePrecision != 0.6 || s.VerdictPrecision != 0.75 {
		t.Errorf("any %d flagged %d precision %v %v", s.AtomicsAny, s.AtomicsFlagged, s.TechniquePrecision, s.VerdictPrecision)
	}
}

func TestSummarizeTierOrder(t *testing.T) {
	var results []Result
	for _, tier := range []string{"low", "other", "medium", "high"} {
		results = append(results, Result{Kind: KindAtomic, Signal: tier, Detection: DetectNone})
	}
	var got []string
	for _, r := range Summarize(results).Tiers {
		got = append(got, r.Group)
	}
	if want := []string{"high", "medium", "low", "other"}; !slices.Equal(got, want) {
		t.Errorf("tiers %q, want %q", got, want)
	}
}
