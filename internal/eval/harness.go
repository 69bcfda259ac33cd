package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// Config says how to run an evaluation. Dependencies come in here rather
// than being made inside, so tests can hand in a temporary state.
type Config struct {
	// RunsDir keeps each test's Run as gzipped JSON named by its Key;
	// Rescore reads them back.
	RunsDir string
	// Images builds the test images (Detonate only).
	Images *Images
	// DebianRootfs returns a Debian root filesystem tree holding packages.
	// Detonate calls it once, when a selected test runs on Debian.
	DebianRootfs func(ctx context.Context, packages []string) (string, error)
	// Analyzer scores runs; nil means analyzer.New().
	Analyzer *analyzer.Analyzer

	// Limits bound every run; each test's own Timeout replaces
	// Limits.Timeout. Zero fields take the sandbox's defaults.
	Limits sandbox.Limits
	// Network is the runs' network mode (sandbox.NetworkSinkhole, ...);
	// empty leaves the sandbox's default. RunOptions go to every run.
	Network    string
	RunOptions []sandbox.RunOption
	// KeepAlive is how long a container lives after its test returns.
	KeepAlive time.Duration

	// Only, when set, keeps the tests whose ID, key or technique matches.
	Only *regexp.Regexp
	// AtomicsOnBusybox runs the busybox-compatible atomics on the busybox
	// root filesystem and leaves the other atomics out.
	AtomicsOnBusybox bool

	Log *slog.Logger
	// Progress, when set, gets one line per finished test.
	Progress io.Writer

	// model is what the last report named as its model.
	model string
}

func (c *Config) analyzer() *analyzer.Analyzer {
	if c.Analyzer == nil {
		c.Analyzer = analyzer.New()
	}
	return c.Analyzer
}

func (c *Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// Select returns the tests an evaluation runs, in the order it runs them:
// the corpus's order, destructive tests last.
func Select(c *Corpus, cfg Config) []Test {
	var out []Test
	for _, t := range c.Tests {
		if cfg.Only != nil && !cfg.Only.MatchString(t.ID) && !cfg.Only.MatchString(t.Key) &&
			(t.Technique == "" || !cfg.Only.MatchString(t.Technique)) {
			continue
		}
		if cfg.AtomicsOnBusybox && t.Kind == KindAtomic {
			if !t.BusyboxCompatible || t.Shell != "sh" {
				continue
			}
			t.Rootfs = RootfsBusybox
		}
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b Test) int {
		return cmp.Compare(btoi(a.Destructive), btoi(b.Destructive))
	})
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RunPath is where a test's Run is kept.
func RunPath(runsDir string, t Test) string {
	return filepath.Join(runsDir, refName(t.Key)+".json.gz")
}

// Detonate runs every selected test of c in the sandbox, one at a time,
// saves each Run and scores it. A test that fails is recorded as an error
// and the others go on; only a cancelled ctx stops the evaluation early
// (with the results so far).
func Detonate(ctx context.Context, sb *sandbox.Sandbox, c *Corpus, cfg Config) (*Results, error) {
	if cfg.Images == nil {
		return nil, errors.New("eval: Config.Images is nil")
	}
	log := cfg.log()
	res := newResults(c, cfg, false)
	tests := Select(c, cfg)

	var base *Base
	if slices.ContainsFunc(tests, func(t Test) bool { return t.Rootfs == RootfsDebian }) {
		if cfg.DebianRootfs == nil {
			return nil, errors.New("eval: Debian tests selected but Config.DebianRootfs is nil")
		}
		pkgs := c.DebianPackages()
		log.Info("preparing the Debian root filesystem", "packages", len(pkgs))
		dir, err := cfg.DebianRootfs(ctx, pkgs)
		if err != nil {
			return nil, fmt.Errorf("eval: rootfs: %w", err)
		}
		if base, err = cfg.Images.DebianBase(ctx, dir); err != nil {
			return nil, err
		}
		// Holding the base as an image of its own keeps its unpacked
		// snapshot between tests, whose images are removed after each run.
		t := time.Now()
		if _, err := sb.Import(ctx, base.Source()); err != nil {
			return nil, fmt.Errorf("eval: import base: %w", err)
		}
		log.Info("base image imported", "took", time.Since(t).Round(time.Millisecond))
	}

	for i, t := range tests {
		if err := ctx.Err(); err != nil {
			res.finish(cfg.model)
			return res, err
		}
		log.Info("detonating", "n", fmt.Sprintf("%d/%d", i+1, len(tests)), "id", t.ID, "name", t.Name, "timeout", t.Timeout)
		r, network := detonateOne(ctx, sb, t, base, &cfg)
		res.sawNetwork(network)
		res.Tests = append(res.Tests, r)
		progress(cfg.Progress, r)
	}
	res.finish(cfg.model)
	return res, ctx.Err()
}

// detonateOne runs one test; it returns the network mode the run had.
func detonateOne(ctx context.Context, sb *sandbox.Sandbox, t Test, base *Base, cfg *Config) (Result, string) {
	r := newResult(t)
	keep := cfg.KeepAlive
	src, err := cfg.Images.TestImage(ctx, t, base, keep)
	if err != nil {
		r.fail(fmt.Errorf("build image: %w", err))
		return r, ""
	}
	start := time.Now()
	img, err := sb.Import(ctx, src)
	cfg.Images.Remove(t)
	if err != nil {
		r.fail(err)
		return r, ""
	}
	imported := time.Since(start)
	defer removeImage(ctx, sb, img, cfg.log())

	limits := cfg.Limits
	limits.Timeout = t.Timeout
	opts := []sandbox.RunOption{sandbox.WithLimits(limits)}
	if cfg.Network != "" {
		opts = append(opts, sandbox.WithNetwork(cfg.Network))
	}
	opts = append(opts, cfg.RunOptions...)
	run, err := sb.Run(ctx, img, opts...)
	if err != nil {
		r.fail(err)
		return r, ""
	}
	run.Timings.Import = trace.Duration(imported)
	run.Timings.Total += trace.Duration(imported)
	// Saved before analysis, so a run that trips the analyzer is kept
	// for the analyzer's author.
	if cfg.RunsDir != "" {
		if err := SaveRun(RunPath(cfg.RunsDir, t), run); err != nil {
			cfg.log().Warn("could not save the run", "id", t.ID, "err", err)
		}
	}
	cfg.model = score(&r, t, run, cfg.analyzer())
	return r, run.Sandbox.Network
}

// score analyzes run into r and returns the model the report names.
func score(r *Result, t Test, run *trace.Run, az *analyzer.Analyzer) string {
	rep, err := az.Analyze(run)
	if err != nil {
		r.Seconds = round3(run.Timings.Total.Std().Seconds())
		r.fail(fmt.Errorf("analyze: %w", err))
		return ""
	}
	r.Fill(t, run, rep)
	return rep.Analyzer.Model
}

// removeImage drops a test's image from containerd: its layer is no use
// after the run, and the base stays held by the base image.
func removeImage(ctx context.Context, sb *sandbox.Sandbox, img *sandbox.Image, log *slog.Logger) {
	ctx = namespaces.WithNamespace(context.WithoutCancel(ctx), sb.Runtime().Namespace)
	if err := sb.Client().ImageService().Delete(ctx, img.Info.Name); err != nil {
		log.Debug("could not remove a test image", "image", img.Info.Name, "err", err)
	}
}

// Rescore analyzes the saved runs of the selected tests again, without
// running anything: for tuning the analyzer.
func Rescore(ctx context.Context, c *Corpus, cfg Config) (*Results, error) {
	res := newResults(c, cfg, true)
	for _, t := range Select(c, cfg) {
		if err := ctx.Err(); err != nil {
			res.finish(cfg.model)
			return res, err
		}
		r := newResult(t)
		run, err := LoadRun(RunPath(cfg.RunsDir, t))
		switch {
		case isNotExist(err):
			r.fail(errNoRun)
		case err != nil:
			r.fail(err)
		default:
			cfg.model = score(&r, t, run, cfg.analyzer())
			res.sawNetwork(run.Sandbox.Network)
		}
		res.Tests = append(res.Tests, r)
		progress(cfg.Progress, r)
	}
	res.finish(cfg.model)
	return res, nil
}

func newResults(c *Corpus, cfg Config, rescored bool) *Results {
	res := &Results{Schema: ResultsSchema, Corpus: c.Dir, Started: time.Now().UTC(), Rescored: rescored}
	res.Analyzer.Version, res.Analyzer.Rules = analyzer.Version, analyzer.RulesVersion
	res.Tests = []Result{}
	return res
}

// sawNetwork records the network mode of one run: the results name what
// the runs had, not what was asked for.
func (res *Results) sawNetwork(mode string) {
	switch res.Network {
	case mode:
	case "":
		res.Network = mode
	default:
		if mode != "" {
			res.Network = "mixed"
		}
	}
}

func (res *Results) finish(model string) {
	if model != "" {
		res.Analyzer.Model = model
	}
	res.Finished = time.Now().UTC()
	res.Summary = Summarize(res.Tests)
}

func progress(w io.Writer, r Result) {
	if w == nil {
		return
	}
	outcome := string(r.Detection)
	if r.Kind == KindControl && r.Detection != DetectError {
		outcome = "clean"
		if r.FalsePositive {
			outcome = "FP"
		}
	}
	line := fmt.Sprintf("%-4s %-10s %-6s %-10s %5.1fs  %s", r.ID, cmp.Or(r.Technique, "-"), outcome, r.Verdict, r.Seconds, strings.Join(r.ReportedIDs(), " "))
	if r.Error != "" {
		line += "  error: " + r.Error
	}
	fmt.Fprintln(w, line)
}
