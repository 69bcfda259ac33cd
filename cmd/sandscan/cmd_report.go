package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sandscan/sandscan/analyzer"
)

// runReport writes the report of a saved Run in any format: reports are a
// pure function of the Run, so nothing runs again.
func runReport(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("report")
	format := fs.String("format", "json", "report format: "+formatNames())
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(files) != 1 {
		return withCode(ExitUsage, errors.New("report: name one saved Run (RUN.json)"))
	}
	if err := checkFormat(*format); err != nil {
		return withCode(ExitUsage, fmt.Errorf("report: %w", err))
	}
	run, err := readRun(files[0])
	if err != nil {
		return err
	}
	err = g.emit(analyzer.New(), *format, files[0], run)
	var v verdictCode
	if errors.As(err, &v) {
		return nil // report prints; the verdict is analyze's exit status
	}
	return err
}
