package analyzer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// Severity ranks how much a finding weighs in the verdict.
type Severity int

// Severities, lowest first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// Rule is one detection: typed data plus the function that finds it.
type Rule struct {
	ID          string
	Title       string
	Description string
	Severity    Severity
	// Confidence is how sure a match means the techniques happened (0..1).
	Confidence float64
	// Techniques are every ATT&CK id (v18) the rule can emit; a Hit may
	// name a subset.
	Techniques []string
	Match      func(x *Index) []Hit
}

// Hit is one match of a rule, with what proves it.
type Hit struct {
	// Events are indexes into Run.Events.
	Events  []int
	Files   []trace.FileChange
	Conns   []trace.Conn
	DNS     []trace.DNSQuery
	Summary string
	// Techniques, when set, narrows the rule's techniques for this hit.
	Techniques []string
	// Severity, when above zero, raises or lowers the rule's for this hit.
	Severity Severity
	// Confidence, when above zero, replaces the rule's.
	Confidence float64
}

// evidenceCap bounds the events copied into one finding.
const evidenceCap = 24

// Finding is a rule's verdict on a run with the evidence behind it.
type Finding struct {
	ID          string        `json:"id"`
	Rule        string        `json:"rule"`
	Title       string        `json:"title"`
	Description string        `json:"description,omitempty"`
	Severity    Severity      `json:"severity"`
	Confidence  float64       `json:"confidence"`
	Techniques  []string      `json:"techniques"`
	Summary     []string      `json:"summary,omitempty"`
	Evidence    []trace.Event `json:"evidence"`
	// EvidenceTotal counts the events that matched, Evidence keeps the
	// first evidenceCap of them.
	EvidenceTotal int                `json:"evidence_total"`
	Files         []trace.FileChange `json:"files,omitempty"`
	Connections   []trace.Conn       `json:"connections,omitempty"`
	DNS           []trace.DNSQuery   `json:"dns,omitempty"`
}

// MarshalJSON keeps evidence as a list even when empty.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	p := plain(f)
	if p.Evidence == nil {
		p.Evidence = []trace.Event{}
	}
	return json.Marshal(p)
}

// evaluate runs the rules over the index and merges each rule's hits with
// the same techniques into one finding. Output is sorted and numbered so
// the same run always gives the same findings.
func evaluate(x *Index, rules []Rule) []Finding {
	var out []Finding
	for ri := range rules {
		r := &rules[ri]
		hits := safeMatch(r, x)
		groups := map[string]*Finding{}
		events := map[string]map[int]bool{}
		var order []string
		for _, h := range hits {
			techs := h.Techniques
			if len(techs) == 0 {
				techs = r.Techniques
			}
			techs = sortedTechniques(techs)
			key := strings.Join(techs, ",")
			f := groups[key]
			if f == nil {
				f = &Finding{
					Rule: r.ID, Title: r.Title, Description: r.Description,
					Severity: r.Severity, Confidence: r.Confidence, Techniques: techs,
				}
				if h.Severity > 0 {
					f.Severity = h.Severity
				}
				if h.Confidence > 0 {
					f.Confidence = h.Confidence
				}
				groups[key] = f
				events[key] = map[int]bool{}
				order = append(order, key)
			} else {
				if h.Severity > f.Severity {
					f.Severity = h.Severity
				}
				if h.Confidence > f.Confidence {
					f.Confidence = h.Confidence
				}
			}
			for _, ev := range h.Events {
				if ev >= 0 && ev < len(x.Events) {
					events[key][ev] = true
				}
			}
			if h.Summary != "" && !contains(f.Summary, h.Summary) && len(f.Summary) < 12 {
				f.Summary = append(f.Summary, h.Summary)
			}
			f.Files = appendFiles(f.Files, h.Files)
			f.Connections = appendConns(f.Connections, h.Conns)
			f.DNS = appendDNS(f.DNS, h.DNS)
		}
		for _, key := range order {
			f := groups[key]
			idx := make([]int, 0, len(events[key]))
			for ev := range events[key] {
				idx = append(idx, ev)
			}
			sort.Ints(idx)
			f.EvidenceTotal = len(idx)
			if len(idx) > evidenceCap {
				idx = idx[:evidenceCap]
			}
			for _, ev := range idx {
				f.Evidence = append(f.Evidence, x.Events[ev])
			}
			out = append(out, *f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return strings.Join(out[i].Techniques, ",") < strings.Join(out[j].Techniques, ",")
	})
	for i := range out {
		out[i].ID = fmt.Sprintf("F%03d", i+1)
	}
	return out
}

// safeMatch runs one rule; a rule that panics on a strange run loses its
// findings instead of taking the whole analysis down.
func safeMatch(r *Rule, x *Index) (hits []Hit) {
	defer func() {
		if recover() != nil {
			hits = nil
		}
	}()
	return r.Match(x)
}

func sortedTechniques(in []string) []string {
	out := append([]string(nil), in...)
	sort.Slice(out, func(i, j int) bool { return techLess(out[i], out[j]) })
	// Drop duplicates.
	w := 0
	for i, t := range out {
		if i == 0 || t != out[w-1] {
			out[w] = t
			w++
		}
	}
	return out[:w]
}

const attachCap = 16

func appendFiles(dst, src []trace.FileChange) []trace.FileChange {
	for _, f := range src {
		if len(dst) >= attachCap {
			break
		}
		dup := false
		for _, d := range dst {
			if d.Path == f.Path && d.Op == f.Op {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, f)
		}
	}
	return dst
}

func appendConns(dst, src []trace.Conn) []trace.Conn {
	for _, c := range src {
		if len(dst) >= attachCap {
			break
		}
		dup := false
		for _, d := range dst {
			if d.Time.Equal(c.Time) && d.DstIP == c.DstIP && d.DstPort == c.DstPort && d.SrcPort == c.SrcPort {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, c)
		}
	}
	return dst
}

func appendDNS(dst, src []trace.DNSQuery) []trace.DNSQuery {
	for _, q := range src {
		if len(dst) >= attachCap {
			break
		}
		dup := false
		for _, d := range dst {
			if d.Name == q.Name && d.Type == q.Type {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, q)
		}
	}
	return dst
}

// hitExec is a hit proven by one exec event.
func hitExec(e *Exec, summary string) Hit {
	return Hit{Events: []int{e.Ev}, Summary: summary}
}

// hitOpen is a hit proven by one open event and the program's exec.
func hitOpen(o *Open, summary string) Hit {
	h := Hit{Events: []int{o.Ev}, Summary: summary}
	if o.Img != nil && o.Img.Ev >= 0 {
		h.Events = append(h.Events, o.Img.Ev)
	}
	return h
}
