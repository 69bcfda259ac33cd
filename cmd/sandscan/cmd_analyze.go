package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

type analyzeFlags struct {
	format   string
	saveRun  string
	timeout  time.Duration
	memoryMB int64
	pids     int64
	cpus     float64
	network  string
}

func runAnalyze(ctx context.Context, g *globals, args []string) error {
	var f analyzeFlags
	fs := newFlagSet("analyze")
	fs.StringVar(&f.format, "format", "json", "output: json or summary (one line per image)")
	fs.StringVar(&f.saveRun, "save-run", "", "write the Run as JSON to `file` (one image only)")
	fs.DurationVar(&f.timeout, "timeout", sandbox.DefaultLimits.Timeout, "time limit of a run")
	fs.Int64Var(&f.memoryMB, "memory", sandbox.DefaultLimits.MemoryBytes>>20, "memory limit in MiB")
	fs.Int64Var(&f.pids, "pids", sandbox.DefaultLimits.Pids, "process limit")
	fs.Float64Var(&f.cpus, "cpus", sandbox.DefaultLimits.CPUs, "CPU limit")
	fs.StringVar(&f.network, "network", sandbox.NetworkNone, "network mode: none")
	refs, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(refs) == 0 {
		return withCode(ExitUsage, errors.New("analyze: name an image: oci-archive:PATH, docker-archive:PATH, oci:DIR[:TAG] or a registry reference"))
	}
	if f.saveRun != "" && len(refs) > 1 {
		return withCode(ExitUsage, errors.New("analyze: --save-run takes one image"))
	}
	if f.format != "json" && f.format != "summary" {
		return withCode(ExitUsage, fmt.Errorf("analyze: unknown format %q", f.format))
	}
	if f.network != sandbox.NetworkNone {
		return withCode(ExitUsage, fmt.Errorf("analyze: unknown network mode %q", f.network))
	}
	srcs := make([]sandbox.Source, len(refs))
	for i, ref := range refs {
		// A plain path to an archive is the common case from a shell.
		if strings.HasSuffix(ref, ".tar") && !strings.Contains(ref, ":") {
			ref = "oci-archive:" + ref
		}
		if srcs[i], err = sandbox.ParseSource(ref); err != nil {
			return withCode(ExitUsage, err)
		}
	}

	rt, err := g.ensureRuntime(ctx)
	if err != nil {
		return err
	}
	sb, err := sandbox.New(ctx, rt, sandbox.WithLogger(g.log))
	if err != nil {
		return withCode(ExitSandbox, err)
	}
	defer sb.Close()

	limits := sandbox.Limits{Timeout: f.timeout, MemoryBytes: f.memoryMB << 20, Pids: f.pids, CPUs: f.cpus}
	worst := ExitClean
	var firstErr error
	for _, src := range srcs {
		run, err := detonate(ctx, g, sb, src, limits)
		if err != nil {
			if ctx.Err() != nil || len(srcs) == 1 {
				return err
			}
			fmt.Fprintf(g.stdout, "%-24s error: %v\n", displayName(src), err)
			firstErr = err
			continue
		}
		if f.saveRun != "" {
			if err := saveRun(f.saveRun, run); err != nil {
				return err
			}
		}
		rep := reportOf(run)
		switch f.format {
		case "json":
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		case "summary":
			fmt.Fprintln(g.stdout, summaryLine(displayName(src), rep, run))
		}
		worst = max(worst, verdictExit(rep.Verdict))
	}
	if firstErr != nil {
		return withCode(ExitError, errors.New("analyze: some images failed"))
	}
	if worst != ExitClean {
		return verdictCode(worst)
	}
	return nil
}

func detonate(ctx context.Context, g *globals, sb *sandbox.Sandbox, src sandbox.Source, limits sandbox.Limits) (*trace.Run, error) {
	t := time.Now()
	img, err := sb.Import(ctx, src)
	if err != nil {
		return nil, withCode(ExitBadInput, err)
	}
	imported := time.Since(t)
	g.log.Debug("imported", "image", src.String(), "digest", img.Info.Digest, "took", imported)
	run, err := sb.Run(ctx, img, sandbox.WithLimits(limits))
	if err != nil {
		return nil, withCode(ExitSandbox, err)
	}
	run.Timings.Import = trace.Duration(imported)
	run.Timings.Total += trace.Duration(imported)
	return run, nil
}

func saveRun(path string, run *trace.Run) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := trace.Encode(f, run); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func displayName(src sandbox.Source) string {
	if src.Path != "" {
		return strings.TrimSuffix(filepath.Base(src.Path), ".tar")
	}
	return src.Ref
}

func verdictExit(v string) int {
	switch v {
	case "malicious":
		return ExitMalicious
	case "suspicious":
		return ExitSuspicious
	}
	return ExitClean
}
