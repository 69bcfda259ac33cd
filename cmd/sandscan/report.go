package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/models/classifier"
	"github.com/sandscan/sandscan/trace"
)

// formatNames lists the report formats plus summary, the one-line form.
func formatNames() string {
	names := []string{"summary"}
	for _, f := range analyzer.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

func checkFormat(f string) error {
	if f == "summary" {
		return nil
	}
	if _, err := analyzer.ParseFormat(f); err != nil {
		return fmt.Errorf("unknown format %q (have %s)", f, formatNames())
	}
	return nil
}

// writeReport writes rep in a format checkFormat accepted.
func writeReport(w io.Writer, format string, rep *analyzer.Report) error {
	f, err := analyzer.ParseFormat(format)
	if err != nil {
		return err
	}
	return f.Write(w, rep)
}

// summaryLine is one line of `make run`: name, verdict, score, top
// techniques, duration.
func summaryLine(name string, rep *analyzer.Report, run *trace.Run) string {
	techs := make([]analyzer.TechniqueHit, len(rep.Techniques))
	copy(techs, rep.Techniques)
	sort.SliceStable(techs, func(i, j int) bool { return techs[i].Confidence > techs[j].Confidence })
	var ids []string
	for i, t := range techs {
		if i == 4 {
			ids = append(ids, fmt.Sprintf("+%d", len(techs)-4))
			break
		}
		ids = append(ids, t.ID)
	}
	top := strings.Join(ids, ",")
	if top == "" {
		top = "-"
	}
	return fmt.Sprintf("%-24s %-10s %.2f  %-46s %6.1fs", name, rep.Verdict, rep.Score, top, run.Timings.Total.Std().Seconds())
}

// readRun loads a saved Run.
func readRun(path string) (*trace.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, withCode(ExitBadInput, err)
	}
	defer f.Close()
	run, err := trace.Decode(f)
	if err != nil {
		return nil, withCode(ExitBadInput, fmt.Errorf("%s: %w", path, err))
	}
	return run, nil
}

// newAnalyzer is the analyzer every command reports with: the rules and
// the shipped model. The model is embedded in the binary, so failing to
// load it is a build defect, reported once and worked around with the
// rules alone rather than refusing to analyze.
func newAnalyzer() *analyzer.Analyzer {
	modelOnce.Do(func() {
		c, err := classifier.Default()
		if err != nil {
			slog.Error("the shipped model does not load; reporting with rules only", "err", err)
			return
		}
		modelClassifier = c
	})
	if modelClassifier == nil {
		return analyzer.New()
	}
	return analyzer.New(analyzer.WithClassifier(modelClassifier))
}

var (
	modelOnce       sync.Once
	modelClassifier analyzer.Classifier
)
