// golearn draws from math/rand's global source; without this, rand.Seed is
// a no-op since Go 1.24 and training would not be reproducible.
//go:debug randseednop=0

// Command sandscan detonates container images in gVisor and reports what
// they did. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand: its name, a line of help, and its body.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, args []string) error
}

var commands = []command{
	{"setup", "install and start containerd and runsc under the state dir", runSetup},
	{"analyze", "detonate images and print their reports", runAnalyze},
	{"report", "write the report of a saved Run (--format json, ...)", runReport},
	{"version", "print versions", runVersion},
	{"worker", "run workers on the queue until SIGINT/SIGTERM (--queue, --store, --workers)", runWorker},
	{"rescan", "queue every stored image again, or the filtered ones (--reclassify, --filter, --wait)", runRescan},
	{"serve", "run the HTTP API and workers (--listen, --workers N, --no-workers)", runServe},
	{"submit", "submit an image reference or archive to the server (--wait for its verdict)", runSubmit},
	{"status", "show an analysis's status on the server", runStatus},
	{"train", "train the model from a corpus of labelled runs and evaluate it (--eval-out)", runTrain},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	rest, err := g.parse(args)
	if err != nil {
		fmt.Fprintln(stderr, "sandscan:", err)
		return ExitUsage
	}
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stderr)
		if len(rest) == 0 {
			return ExitUsage
		}
		return 0
	}
	for _, c := range commands {
		if c.name == rest[0] {
			err := c.run(ctx, g, rest[1:])
			return g.exit(err)
		}
	}
	fmt.Fprintf(stderr, "sandscan: unknown command %q\n", rest[0])
	usage(stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sandscan [--state-dir DIR] [--log-level LEVEL] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

// globals are the flags every command shares.
type globals struct {
	stateDir string
	logLevel string
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
}

func (g *globals) parse(args []string) ([]string, error) {
	g.stateDir = envOr("SANDSCAN_STATE_DIR", "/var/lib/sandscan")
	g.logLevel = envOr("SANDSCAN_LOG_LEVEL", "info")
	fs := newFlagSet("sandscan")
	fs.StringVar(&g.stateDir, "state-dir", g.stateDir, "state `dir` (env SANDSCAN_STATE_DIR)")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "debug, info, warn or error (env SANDSCAN_LOG_LEVEL)")
	// Global flags stop at the command name.
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
	return fs.Args(), nil
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

// Exit codes. 0-2 are verdicts of analyze; errors start at 3.
const (
	ExitClean      = 0
	ExitSuspicious = 1
	ExitMalicious  = 2
	ExitError      = 3 // anything else
	ExitUsage      = 4 // bad flags or arguments
	ExitBadInput   = 5 // an image or run file that cannot be read
	ExitSandbox    = 6 // the sandbox or its runtime failed
)

// exitError carries an exit code through a command's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code, err}
}

// verdictCode is returned by analyze to exit with a verdict, silently.
type verdictCode int

func (v verdictCode) Error() string { return fmt.Sprintf("verdict exit %d", int(v)) }

func (g *globals) exit(err error) int {
	if err == nil {
		return 0
	}
	var v verdictCode
	if errors.As(err, &v) {
		return int(v)
	}
	fmt.Fprintln(g.stderr, "sandscan:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitError
	}
	return ExitError
}
