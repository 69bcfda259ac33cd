// Command eval is the evaluation harness behind `make eval`: it builds an
// image for every test of a corpus (atomics.json and benign.json), detonates
// each in the sandbox, and prints per-test detections, recall per tactic and
// per signal tier, false positives on the benign controls and totals, as
// Markdown tables on stdout and as JSON. It is a benchmark and never fails
// on the numbers; -rescore re-analyzes the saved runs without detonating.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"time"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/internal/eval"
	"github.com/sandscan/sandscan/internal/rootfs"
	"github.com/sandscan/sandscan/models/classifier"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/setup"
)

type flags struct {
	corpus    string
	state     string
	jsonOut   string
	mdOut     string
	rescore   bool
	network   string
	only      string
	busybox   bool
	keepAlive time.Duration
	memoryMB  int64
	list      bool
	verbose   bool
}

func main() {
	var f flags
	flag.StringVar(&f.corpus, "corpus", "../shared/eval", "corpus `dir` holding atomics.json and benign.json")
	flag.StringVar(&f.state, "state", "", "state `dir` (default $"+setup.EnvStateDir+", else "+setup.DefaultStateDir+")")
	flag.StringVar(&f.jsonOut, "json", "eval/results.json", "write the results as JSON to `file` (\"\" for none)")
	flag.StringVar(&f.mdOut, "md", "eval/RESULTS.md", "write the tables as Markdown to `file` (\"\" for none)")
	flag.BoolVar(&f.rescore, "rescore", false, "re-analyze the saved runs only; detonate nothing")
	flag.StringVar(&f.network, "network", sandbox.NetworkSinkhole, fmt.Sprintf("network mode of the sandbox %v", sandbox.NetworkModes))
	flag.StringVar(&f.only, "only", "", "run only the tests whose id, key or technique matches `regexp`")
	flag.BoolVar(&f.busybox, "busybox", false, "run the busybox-compatible atomics on a busybox rootfs (and skip the rest)")
	flag.DurationVar(&f.keepAlive, "keep-alive", eval.DefaultKeepAlive, "how long a container lives after its test returns")
	flag.Int64Var(&f.memoryMB, "memory", sandbox.DefaultLimits.MemoryBytes>>20, "memory limit of a run in MiB")
	flag.BoolVar(&f.list, "list", false, "list the selected tests with their timeouts and exit")
	flag.BoolVar(&f.verbose, "v", false, "debug logging")
	flag.Parse()

	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, f, log); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, f flags, log *slog.Logger) error {
	corpus, err := eval.Load(f.corpus)
	if err != nil {
		return err
	}
	state := stateDir(f.state)
	// Score as the product reports: the rules and the shipped model.
	cls, err := classifier.Default()
	if err != nil {
		return err
	}
	cfg := eval.Config{
		Analyzer:         analyzer.New(analyzer.WithClassifier(cls)),
		RunsDir:          runsDir(state, f.corpus),
		Images:           eval.NewImages(filepath.Join(state, "eval", "images"), "/bin/busybox", log),
		Limits:           sandbox.Limits{MemoryBytes: f.memoryMB << 20},
		Network:          f.network,
		KeepAlive:        f.keepAlive,
		AtomicsOnBusybox: f.busybox,
		Log:              log,
		Progress:         os.Stderr,
		DebianRootfs: func(ctx context.Context, pkgs []string) (string, error) {
			return rootfs.Debian(ctx, filepath.Join(state, "rootfs"), pkgs, log)
		},
	}
	if f.only != "" {
		if cfg.Only, err = regexp.Compile(f.only); err != nil {
			return fmt.Errorf("-only: %w", err)
		}
	}
	if !slices.Contains(sandbox.NetworkModes, f.network) {
		return fmt.Errorf("-network: unknown mode %q (have %v)", f.network, sandbox.NetworkModes)
	}
	if f.list {
		for _, t := range eval.Select(corpus, cfg) {
			fmt.Printf("%-4s %-9s %-8s %-5s %-7s %4.0fs %s\n", t.ID, t.Technique, t.Rootfs, t.Shell, t.Signal, t.Timeout.Seconds(), t.Name)
		}
		return nil
	}

	var res *eval.Results
	if f.rescore {
		res, err = eval.Rescore(ctx, corpus, cfg)
	} else {
		res, err = detonate(ctx, corpus, cfg, state, log)
	}
	if res == nil {
		return err
	}
	// Partial results (an interrupted run) are still worth a look.
	if werr := write(res, f); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

func detonate(ctx context.Context, corpus *eval.Corpus, cfg eval.Config, state string, log *slog.Logger) (*eval.Results, error) {
	env, err := setup.Ensure(ctx, setup.Config{StateDir: state, Logger: log})
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.New(ctx, sandbox.RuntimeOf(env), sandbox.WithLogger(log))
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	log.Info("evaluating", "corpus", corpus.Dir, "tests", len(eval.Select(corpus, cfg)), "runs", cfg.RunsDir)
	return eval.Detonate(ctx, sb, corpus, cfg)
}

func write(res *eval.Results, f flags) error {
	if err := res.WriteTable(os.Stdout); err != nil {
		return err
	}
	if f.jsonOut != "" {
		if err := res.WriteFile(f.jsonOut); err != nil {
			return err
		}
	}
	if f.mdOut != "" {
		mf, err := os.Create(f.mdOut)
		if err != nil {
			return err
		}
		if err := res.WriteTable(mf); err != nil {
			mf.Close()
			return err
		}
		return mf.Close()
	}
	return nil
}

func stateDir(flagValue string) string {
	for _, d := range []string{flagValue, os.Getenv(setup.EnvStateDir)} {
		if d != "" {
			if abs, err := filepath.Abs(d); err == nil {
				return abs
			}
			return d
		}
	}
	return setup.DefaultStateDir
}

// runsDir keeps the runs of each corpus apart: named after the corpus
// directory and its absolute path, as two corpora may share ids.
func runsDir(state, corpus string) string {
	abs, err := filepath.Abs(corpus)
	if err != nil {
		abs = corpus
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(state, "eval", "runs", filepath.Base(abs)+"-"+hex.EncodeToString(h[:4]))
}
