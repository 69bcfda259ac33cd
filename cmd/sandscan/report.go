package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/trace"
)

// formats are the report formats analyze and report write.
var formats = map[string]func(io.Writer, *analyzer.Report) error{
	"json": writeJSON,
}

func writeJSON(w io.Writer, r *analyzer.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func formatNames() string {
	names := []string{"summary"}
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func checkFormat(f string) error {
	if _, ok := formats[f]; ok || f == "summary" {
		return nil
	}
	return fmt.Errorf("unknown format %q (have %s)", f, formatNames())
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

func verdictExit(v analyzer.Verdict) int {
	switch v {
	case analyzer.VerdictMalicious:
		return ExitMalicious
	case analyzer.VerdictSuspicious:
		return ExitSuspicious
	}
	return ExitClean
}
