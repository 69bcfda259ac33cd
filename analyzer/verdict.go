package analyzer

import (
	"fmt"
	"strings"
)

// Policy constants; the package doc's POLICY section explains them.
const (
	thresholdMalicious  = 0.7
	thresholdSuspicious = 0.3
	// modelWeight caps what the model alone can add: a confident model
	// with no rule behind it makes a run suspicious, never malicious.
	modelWeight   = 0.6
	anomalyWeight = 0.25
	// modelMinConfidence: a malicious label counts from a majority of the
	// vote on, scaled from there; a split vote is no evidence.
	modelMinConfidence = 0.5
	// modelCap keeps the model alone below thresholdMalicious.
	modelCap = 0.65
)

// severityWeight is how much one finding of a severity weighs, before its
// confidence.
var severityWeight = map[Severity]float64{
	SeverityInfo: 0, SeverityLow: 0.2, SeverityMedium: 0.45, SeverityHigh: 0.8, SeverityCritical: 1,
}

type policy struct {
	verdict               Verdict
	score                 float64
	ruleScore, modelScore float64
	reason                string
}

// decide combines findings and the model into a verdict.
func decide(findings []Finding, cls Classification, haveModel bool) policy {
	// One rule counts once, by its strongest finding, so a rule that
	// matches a thousand times cannot make a run malicious alone.
	best := map[string]float64{}
	for _, f := range findings {
		w := severityWeight[f.Severity] * clamp01(f.Confidence)
		if w > best[f.Rule] {
			best[f.Rule] = w
		}
	}
	miss := 1.0
	for _, r := range sortedKeys(best) {
		miss *= 1 - best[r]
	}
	p := policy{ruleScore: round3(1 - miss)}
	if haveModel {
		// A benign label is never evidence of malice, however unsure; its
		// anomaly score still is.
		pm := 0.0
		if !benignLabel(cls.Label) {
			pm = clamp01((cls.Probability - modelMinConfidence) / (1 - modelMinConfidence))
		}
		ms := modelWeight*pm + anomalyWeight*clamp01(cls.Anomaly)*(1-modelWeight*pm)
		p.modelScore = round3(min(ms, modelCap))
	}
	p.score = round3(1 - (1-p.ruleScore)*(1-p.modelScore))
	switch {
	case p.score >= thresholdMalicious:
		p.verdict = VerdictMalicious
	case p.score >= thresholdSuspicious:
		p.verdict = VerdictSuspicious
	default:
		p.verdict = VerdictClean
	}
	p.reason = reason(findings, p, haveModel, cls)
	return p
}

func benignLabel(l string) bool {
	switch strings.ToLower(l) {
	case "benign", "clean", "normal", "unknown", "":
		return true
	}
	return false
}

func reason(findings []Finding, p policy, haveModel bool, cls Classification) string {
	var b strings.Builder
	counts := map[Severity]int{}
	for _, f := range findings {
		counts[f.Severity]++
	}
	var parts []string
	for s := SeverityCritical; s >= SeverityLow; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		b.WriteString("no findings")
	} else {
		b.WriteString("findings: " + strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "; rules %.3f", p.ruleScore)
	if haveModel {
		fmt.Fprintf(&b, "; model %s %s p=%.3f -> %.3f", cls.Model, cls.Label, cls.Probability, p.modelScore)
	} else {
		b.WriteString("; no model")
	}
	fmt.Fprintf(&b, "; score %.3f -> %s", p.score, p.verdict)
	return b.String()
}
