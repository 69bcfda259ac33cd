package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/internal/atomicfile"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

type analyzeFlags struct {
	format   string
	saveRun  string
	fromRun  string
	timeout  time.Duration
	memoryMB int64
	pids     int64
	cpus     float64
	network  string
}

func runAnalyze(ctx context.Context, g *globals, args []string) error {
	var f analyzeFlags
	fs := newFlagSet("analyze")
	fs.StringVar(&f.format, "format", "json", "report format: "+formatNames())
	fs.StringVar(&f.saveRun, "save-run", "", "write the Run as JSON to `file` (one image only)")
	fs.StringVar(&f.fromRun, "from-run", "", "re-analyze a saved Run `file` instead of running anything")
	fs.DurationVar(&f.timeout, "timeout", sandbox.DefaultLimits.Timeout, "time limit of a run")
	fs.Int64Var(&f.memoryMB, "memory", sandbox.DefaultLimits.MemoryBytes>>20, "memory limit in MiB")
	fs.Int64Var(&f.pids, "pids", sandbox.DefaultLimits.Pids, "process limit")
	fs.Float64Var(&f.cpus, "cpus", sandbox.DefaultLimits.CPUs, "CPU limit")
	fs.StringVar(&f.network, "network", envOr("SANDSCAN_NETWORK", sandbox.NetworkSinkhole), "network mode: sinkhole or none (env SANDSCAN_NETWORK)")
	refs, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := checkFormat(f.format); err != nil {
		return withCode(ExitUsage, fmt.Errorf("analyze: %w", err))
	}
	az := newAnalyzer()
	if f.fromRun != "" {
		if len(refs) > 0 {
			return withCode(ExitUsage, errors.New("analyze: --from-run takes no image"))
		}
		run, err := readRun(f.fromRun)
		if err != nil {
			return err
		}
		return g.emit(az, f.format, displayName(sandbox.Source{Path: f.fromRun}), run)
	}
	if len(refs) == 0 {
		return withCode(ExitUsage, errors.New("analyze: name an image: oci-archive:PATH, docker-archive:PATH, oci:DIR[:TAG] or a registry reference"))
	}
	if f.saveRun != "" && len(refs) > 1 {
		return withCode(ExitUsage, errors.New("analyze: --save-run takes one image"))
	}
	if !slices.Contains(sandbox.NetworkModes, f.network) {
		return withCode(ExitUsage, fmt.Errorf("analyze: unknown network mode %q (have %v)", f.network, sandbox.NetworkModes))
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
	var failed int
	for _, src := range srcs {
		run, err := detonate(ctx, g, sb, src, sandbox.WithLimits(limits), sandbox.WithNetwork(f.network))
		if err != nil {
			if ctx.Err() != nil || len(srcs) == 1 {
				return err
			}
			fmt.Fprintf(g.stdout, "%-24s error: %v\n", displayName(src), err)
			failed++
			continue
		}
		if f.saveRun != "" {
			if err := saveRun(f.saveRun, run); err != nil {
				return err
			}
		}
		err = g.emit(az, f.format, displayName(src), run)
		var v verdictCode
		switch {
		case errors.As(err, &v):
			worst = max(worst, int(v))
		case err != nil:
			return err
		}
	}
	if failed > 0 {
		return withCode(ExitError, fmt.Errorf("analyze: %d of %d images failed", failed, len(srcs)))
	}
	if worst != ExitClean {
		return verdictCode(worst)
	}
	return nil
}

// emit analyzes run and writes its report; the error carries the verdict
// as an exit code.
func (g *globals) emit(az *analyzer.Analyzer, format, name string, run *trace.Run) error {
	rep, err := az.Analyze(run)
	if err != nil {
		return withCode(ExitError, err)
	}
	if format == "summary" {
		fmt.Fprintln(g.stdout, summaryLine(name, rep, run))
	} else if err := writeReport(g.stdout, format, rep); err != nil {
		return err
	}
	switch code := rep.Verdict.ExitCode(); {
	case code >= ExitError:
		return withCode(ExitError, fmt.Errorf("analyzer gave no verdict (%q)", rep.Verdict))
	case code != ExitClean:
		return verdictCode(code)
	}
	return nil
}

func detonate(ctx context.Context, g *globals, sb *sandbox.Sandbox, src sandbox.Source, opts ...sandbox.RunOption) (*trace.Run, error) {
	t := time.Now()
	img, err := sb.Import(ctx, src)
	if err != nil {
		return nil, withCode(ExitBadInput, err)
	}
	imported := time.Since(t)
	g.log.Debug("imported", "image", src.String(), "digest", img.Info.Digest, "took", imported)
	run, err := sb.Run(ctx, img, opts...)
	if err != nil {
		return nil, withCode(ExitSandbox, err)
	}
	run.Timings.Import = trace.Duration(imported)
	run.Timings.Total += trace.Duration(imported)
	return run, nil
}

func saveRun(path string, run *trace.Run) error {
	return atomicfile.Write(path, func(w io.Writer) error { return trace.Encode(w, run) })
}

func displayName(src sandbox.Source) string {
	if src.Path != "" {
		return strings.TrimSuffix(filepath.Base(src.Path), ".tar")
	}
	return src.Ref
}
