package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// runReport writes the report of a saved Run in any format: reports are a
// pure function of the Run, so nothing runs again. With a server
// (--server or SANDSCAN_SERVER) the argument may be an analysis id instead.
func runReport(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("report")
	format := fs.String("format", "json", "report format: "+formatNames())
	var sf serverFlags
	sf.register(fs)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(files) != 1 {
		return withCode(ExitUsage, errors.New("report: name one saved Run (RUN.json), or an analysis id with --server"))
	}
	if err := checkFormat(*format); err != nil {
		return withCode(ExitUsage, fmt.Errorf("report: %w", err))
	}
	if _, statErr := os.Stat(files[0]); sf.server != "" && statErr != nil {
		return remoteReport(ctx, g, sf, *format, files[0])
	}
	run, err := readRun(files[0])
	if err != nil {
		return err
	}
	err = g.emit(newAnalyzer(), *format, files[0], run)
	var v verdictCode
	if errors.As(err, &v) {
		return nil // report prints; the verdict is analyze's exit status
	}
	return err
}
