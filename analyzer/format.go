package analyzer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analyzer/attack"
)

// Format names a report encoding.
type Format string

// Report formats.
const (
	FormatJSON      Format = "json"
	FormatSARIF     Format = "sarif"
	FormatNavigator Format = "navigator"
)

// Formats lists every format, for flag help.
var Formats = []Format{FormatJSON, FormatSARIF, FormatNavigator}

// ParseFormat accepts a format name ("json", "sarif", "navigator" or
// "attack-navigator").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "json":
		return FormatJSON, nil
	case "sarif":
		return FormatSARIF, nil
	case "navigator", "attack-navigator", "layer":
		return FormatNavigator, nil
	}
	return "", fmt.Errorf("unknown report format %q (want json, sarif or navigator)", s)
}

// Write encodes r in format f.
func (f Format) Write(w io.Writer, r *Report) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatSARIF:
		return WriteSARIF(w, r)
	case FormatNavigator:
		return WriteNavigator(w, r)
	}
	return fmt.Errorf("unknown report format %q", string(f))
}

func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// WriteJSON writes the report's JSON contract (schema sandscan.report/v1).
func WriteJSON(w io.Writer, r *Report) error { return encode(w, r) }

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if r.Schema != ReportSchema {
		return nil, fmt.Errorf("decode report: schema %q, want %q", r.Schema, ReportSchema)
	}
	return &r, nil
}

// SARIF 2.1.0, the subset Sandscan writes.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Invocations       []sarifInvocation `json:"invocations"`
	Results           []sarifResult     `json:"results"`
	Properties        map[string]any    `json:"properties,omitempty"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Help                 sarifText      `json:"help"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string `json:"endTimeUtc,omitempty"`
	ExitCode            int    `json:"exitCode"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(s Severity) string {
	switch {
	case s >= SeverityHigh:
		return "error"
	case s == SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's numeric severity scale (0-10).
func securitySeverity(s Severity) string {
	return [...]string{"0.0", "3.0", "5.5", "8.0", "9.5"}[max(0, min(int(s), 4))]
}

// attackTags are the tags code-scanning UIs group results by.
func attackTags(ids []string) []string {
	tags := []string{"security"}
	seen := map[string]bool{}
	for _, id := range ids {
		tags = append(tags, "external/mitre-attack/"+id)
		if t, ok := attack.Lookup(id); ok {
			for _, tac := range t.Tactics {
				if !seen[tac] {
					seen[tac] = true
					tags = append(tags, "mitre-attack/tactic/"+tac)
				}
			}
		}
	}
	return tags
}

// WriteSARIF writes the report as SARIF 2.1.0: one result per finding,
// each rule's metadata with ATT&CK tags.
func WriteSARIF(w io.Writer, r *Report) error {
	byID := map[string]Rule{}
	for _, rule := range Rules() {
		byID[rule.ID] = rule
	}
	var rules []sarifRule
	index := map[string]int{}
	for _, f := range r.Findings {
		if _, ok := index[f.Rule]; ok {
			continue
		}
		rule, ok := byID[f.Rule]
		if !ok {
			rule = Rule{ID: f.Rule, Title: f.Title, Description: f.Description, Severity: f.Severity, Techniques: f.Techniques}
		}
		index[f.Rule] = len(rules)
		var help strings.Builder
		help.WriteString(rule.Description)
		help.WriteString(" ATT&CK:")
		for _, id := range rule.Techniques {
			name := ""
			if t, ok := attack.Lookup(id); ok {
				name = " " + t.Name
			}
			help.WriteString(" " + id + name + ";")
		}
		rules = append(rules, sarifRule{
			ID: rule.ID, Name: ruleName(rule.ID),
			ShortDescription:     sarifText{rule.Title},
			FullDescription:      sarifText{rule.Description},
			DefaultConfiguration: sarifConfig{sarifLevel(rule.Severity)},
			Help:                 sarifText{strings.TrimSuffix(help.String(), ";")},
			Properties: map[string]any{
				"tags":              attackTags(rule.Techniques),
				"security-severity": securitySeverity(rule.Severity),
				"precision":         precision(rule.Confidence),
				"attack-techniques": rule.Techniques,
			},
		})
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		msg := f.Title
		if len(f.Summary) > 0 {
			msg += ": " + strings.Join(f.Summary, "; ")
		}
		seqs := make([]uint64, 0, len(f.Evidence))
		for _, e := range f.Evidence {
			seqs = append(seqs, e.Seq)
		}
		results = append(results, sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message: sarifText{msg},
			Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{
				Name: imageName(r.Image.Ref), FullyQualifiedName: imageFQN(r), Kind: "module",
			}}}},
			PartialFingerprints: map[string]string{"sandscanFinding/v1": fingerprint(r, f)},
			Properties: map[string]any{
				"finding":        f.ID,
				"severity":       f.Severity.String(),
				"confidence":     f.Confidence,
				"techniques":     f.Techniques,
				"evidence_seq":   seqs,
				"evidence_total": f.EvidenceTotal,
			},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true, ExitCode: r.Sandbox.ExitCode}
	if !r.Started.IsZero() {
		inv.StartTimeUTC = r.Started.UTC().Format(time.RFC3339Nano)
	}
	if !r.Ended.IsZero() {
		inv.EndTimeUTC = r.Ended.UTC().Format(time.RFC3339Nano)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "sandscan", Version: Version + "+rules." + RulesVersion,
				InformationURI: "https://github.com/sandscan/sandscan", Rules: nonNil(rules),
			}},
			AutomationDetails: &sarifAutomation{ID: "sandscan/" + r.ID},
			Invocations:       []sarifInvocation{inv},
			Results:           results,
			Properties: map[string]any{
				"verdict": r.Verdict, "score": r.Score, "image": r.Image.Ref, "digest": r.Image.Digest,
				"classification": r.Classification,
			},
		}},
	}
	return encode(w, log)
}

func nonNil(r []sarifRule) []sarifRule {
	if r == nil {
		return []sarifRule{}
	}
	return r
}

// ruleName turns "persistence.cron" into "PersistenceCron" (SARIF's
// rule names are identifiers).
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, c := range id {
		if c == '.' || c == '-' || c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}

func precision(c float64) string {
	switch {
	case c >= 0.85:
		return "very-high"
	case c >= 0.75:
		return "high"
	case c >= 0.6:
		return "medium"
	}
	return "low"
}

func imageName(ref string) string {
	if ref == "" {
		return "image"
	}
	return ref
}

func imageFQN(r *Report) string {
	if r.Image.Digest != "" {
		return imageName(r.Image.Ref) + "@" + r.Image.Digest
	}
	return imageName(r.Image.Ref)
}

// fingerprint identifies a finding across rescans of the same image.
func fingerprint(r *Report, f Finding) string {
	return r.Image.Digest + ":" + f.Rule + ":" + strings.Join(f.Techniques, ",")
}

// Navigator layer, format 4.5.
type navLayer struct {
	Name        string          `json:"name"`
	Versions    navVersions     `json:"versions"`
	Domain      string          `json:"domain"`
	Description string          `json:"description"`
	Sorting     int             `json:"sorting"`
	Layout      navLayout       `json:"layout"`
	HideDisable bool            `json:"hideDisabled"`
	Techniques  []navTechnique  `json:"techniques"`
	Gradient    navGradient     `json:"gradient"`
	Legend      []navLegendItem `json:"legendItems"`
	Metadata    []navMeta       `json:"metadata"`
}

type navVersions struct {
	Attack    string `json:"attack"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

type navLayout struct {
	Layout                string `json:"layout"`
	ShowID                bool   `json:"showID"`
	ShowName              bool   `json:"showName"`
	ExpandedSubtechniques string `json:"expandedSubtechniques"`
}

type navTechnique struct {
	TechniqueID       string    `json:"techniqueID"`
	Tactic            string    `json:"tactic,omitempty"`
	Score             int       `json:"score"`
	Color             string    `json:"color,omitempty"`
	Comment           string    `json:"comment"`
	Enabled           bool      `json:"enabled"`
	Metadata          []navMeta `json:"metadata"`
	ShowSubtechniques bool      `json:"showSubtechniques"`
}

type navGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

type navLegendItem struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

type navMeta struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// WriteNavigator writes an ATT&CK Navigator layer (format 4.5): each
// technique scored by its confidence (0-100), its findings and their
// evidence in the comment and metadata.
func WriteNavigator(w io.Writer, r *Report) error {
	findings := map[string]Finding{}
	for _, f := range r.Findings {
		findings[f.ID] = f
	}
	techs := make([]navTechnique, 0, len(r.Techniques))
	for _, t := range r.Techniques {
		var comment []string
		meta := []navMeta{}
		for _, id := range t.Findings {
			f := findings[id]
			line := id + " " + f.Rule + " (" + f.Severity.String() + ")"
			if len(f.Summary) > 0 {
				line += ": " + f.Summary[0]
			}
			comment = append(comment, line)
			meta = append(meta, navMeta{Name: "finding " + id, Value: f.Title})
			if seqs := evidenceSeqs(f); seqs != "" {
				meta = append(meta, navMeta{Name: "evidence " + id, Value: "events " + seqs})
			}
		}
		if t.IDV19 != "" {
			meta = append(meta, navMeta{Name: "ATT&CK v19", Value: t.IDV19})
		}
		techs = append(techs, navTechnique{
			TechniqueID: t.ID, Score: int(math.Round(t.Confidence * 100)), Comment: strings.Join(comment, "\n"),
			Enabled: true, Metadata: meta, ShowSubtechniques: strings.Contains(t.ID, "."),
		})
	}
	layer := navLayer{
		Name:        "Sandscan: " + imageName(r.Image.Ref),
		Versions:    navVersions{Attack: "18", Navigator: "5.1.0", Layer: "4.5"},
		Domain:      "enterprise-attack",
		Description: fmt.Sprintf("Sandscan run %s of %s: %s (score %s)", r.ID, imageFQN(r), r.Verdict, strconv.FormatFloat(r.Score, 'f', 3, 64)),
		Sorting:     3,
		Layout:      navLayout{Layout: "side", ShowID: true, ShowName: true, ExpandedSubtechniques: "annotated"},
		Techniques:  techs,
		Gradient:    navGradient{Colors: []string{"#ffffff", "#ffb366", "#ff4d4d"}, MinValue: 0, MaxValue: 100},
		Legend: []navLegendItem{
			{Label: "seen with low confidence", Color: "#ffb366"},
			{Label: "seen with high confidence", Color: "#ff4d4d"},
		},
		Metadata: []navMeta{
			{Name: "verdict", Value: string(r.Verdict)},
			{Name: "score", Value: strconv.FormatFloat(r.Score, 'f', 3, 64)},
			{Name: "analyzer", Value: r.Analyzer.Analyzer + " rules " + r.Analyzer.Rules + " model " + r.Analyzer.Model},
		},
	}
	return encode(w, layer)
}

func evidenceSeqs(f Finding) string {
	var parts []string
	for _, e := range f.Evidence {
		parts = append(parts, strconv.FormatUint(e.Seq, 10))
	}
	return strings.Join(parts, ", ")
}
