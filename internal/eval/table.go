package eval

import (
	"cmp"
	"fmt"
	"io"
	"strings"
)

// WriteTable writes results as Markdown tables, which read as well on a
// terminal as in a file: atomics, controls, recall per tactic (v19 and
// v18) and per tier, and the totals.
func (res *Results) WriteTable(w io.Writer) error {
	p := &printer{w: w}
	s := res.Summary
	how := "detonated"
	if res.Rescored {
		how = "re-scored from saved runs"
	}
	p.f("# Sandscan evaluation\n\n")
	p.f("Corpus `%s`, %s, network `%s`, analyzer %s (rules %s, model %s), %s.\n\n",
		res.Corpus, how, cmp.Or(res.Network, "?"), res.Analyzer.Version, res.Analyzer.Rules, cmp.Or(res.Analyzer.Model, "?"),
		res.Started.Format("2006-01-02 15:04 MST"))

	p.f("## Totals\n\n")
	a := s.Atomics
	p.f("- atomics: **%d/%d exact** (%.1f%%), %d more parent-only (%.1f%% with partial credit), %d missed, %d errors\n",
		a.Exact, a.Tests, 100*a.Recall, a.Partial, 100*a.RecallPartial, a.Missed, a.Errors)
	p.f("- atomics with any technique: %d/%d; with a non-clean verdict: %d/%d\n", s.AtomicsAny, a.Tests, s.AtomicsFlagged, a.Tests)
	c := s.Controls
	p.f("- controls: **%d/%d clean** (no technique), %d/%d clean verdict, %d errors\n", c.Clean, c.Total, c.VerdictClean, c.Total, c.Errors)
	p.f("- precision-ish: technique %.3f (atomics with any technique / all tests with any), verdict %.3f (same for non-clean verdicts)\n\n",
		s.TechniquePrecision, s.VerdictPrecision)

	p.recall("Recall per tactic (ATT&CK v19, primary tactic)", "tactic", s.TacticsV19)
	p.recall("Recall per tactic (v18 view: stealth + defense-impairment = defense-evasion)", "tactic", s.TacticsV18)
	p.recall("Recall per signal tier", "tier", s.Tiers)

	p.f("## Benign controls\n\n")
	p.f("| id | control | result | techniques | verdict | s |\n|---|---|---|---|---|---|\n")
	for _, r := range res.Tests {
		if r.Kind != KindControl {
			continue
		}
		out := "clean"
		switch {
		case r.Detection == DetectError:
			out = "error: " + cell(r.Error)
		case r.FalsePositive:
			out = "**FP**"
		}
		p.f("| %s | %s | %s | %s | %s | %.1f |\n", r.ID, cell(r.Name), out, strings.Join(r.ReportedIDs(), " "), r.Verdict, r.Seconds)
	}
	p.f("\n## Atomics\n\n")
	p.f("`exact`: the technique (or its v18 id) was reported; `sub`: a sub-technique of it (counted as exact); `parent`: only its parent (partial credit).\n\n")
	p.f("| id | technique | tier | detected | reported | verdict | s | test |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Tests {
		if r.Kind != KindAtomic {
			continue
		}
		tech := r.Technique
		if r.Legacy != "" {
			tech += " (" + r.Legacy + ")"
		}
		det := string(r.Detection)
		switch {
		case r.Detection == DetectError:
			det = "error: " + cell(r.Error)
		case r.Detection.Hit():
			det = "**" + det + "**"
		}
		note := ""
		if r.TimedOut {
			note = " (timeout)"
		}
		p.f("| %s | %s | %s | %s | %s | %s | %.1f%s | %s |\n", r.ID, tech, r.Signal, det, strings.Join(r.ReportedIDs(), " "), r.Verdict, r.Seconds, note, cell(r.Name))
	}
	p.f("\n")
	return p.err
}

func (p *printer) recall(title, col string, rows []Recall) {
	p.f("## %s\n\n| %s | tests | exact | parent | missed | recall | with partial |\n|---|---|---|---|---|---|---|\n", title, col)
	for _, r := range rows {
		errs := ""
		if r.Errors > 0 {
			errs = fmt.Sprintf(" (+%d err)", r.Errors)
		}
		p.f("| %s | %d | %d | %d | %d%s | %.0f%% | %.0f%% |\n", r.Group, r.Tests, r.Exact, r.Partial, r.Missed, errs, 100*r.Recall, 100*r.RecallPartial)
	}
	p.f("\n")
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// cell keeps text from breaking a Markdown table row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "/")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
