package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/api"
	"github.com/sandscan/sandscan/internal/client"
)

// serverFlags find the API: --server and --token, or SANDSCAN_SERVER and
// SANDSCAN_TOKEN.
type serverFlags struct {
	server string
	token  string
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", envOr("SANDSCAN_SERVER", ""), "API server `URL` (env SANDSCAN_SERVER)")
	fs.StringVar(&f.token, "token", envOr("SANDSCAN_TOKEN", ""), "API bearer token (env SANDSCAN_TOKEN; the flag shows in ps)")
}

func (f *serverFlags) client(opts ...client.Option) (*client.Client, error) {
	if f.server == "" {
		return nil, withCode(ExitUsage, errors.New("no server: give --server URL or set SANDSCAN_SERVER"))
	}
	// A first token of a comma-separated SANDSCAN_TOKEN, as serve reads it.
	tok, _, _ := strings.Cut(f.token, ",")
	c, err := client.New(f.server, strings.TrimSpace(tok), opts...)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return c, nil
}

// apiError gives a server's refusal its exit code: a bad submission is
// bad input, anything else an error.
func apiError(err error) error {
	var e *client.Error
	if errors.As(err, &e) && (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusRequestEntityTooLarge ||
		e.StatusCode == http.StatusUnprocessableEntity || e.StatusCode == http.StatusNotFound) {
		return withCode(ExitBadInput, err)
	}
	return err
}

// runStatus is `sandscan status ID`: an analysis's state and result.
func runStatus(ctx context.Context, g *globals, args []string) error {
	var sf serverFlags
	fs := newFlagSet("status")
	sf.register(fs)
	output := fs.String("output", "text", "text or json")
	ids, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(ids) != 1 {
		return withCode(ExitUsage, errors.New("status: name one analysis id"))
	}
	if *output != "text" && *output != "json" {
		return withCode(ExitUsage, fmt.Errorf("status: --output %q: text or json", *output))
	}
	c, err := sf.client()
	if err != nil {
		return err
	}
	a, err := c.Analysis(ctx, ids[0])
	if err != nil {
		return apiError(err)
	}
	return printAnalysis(g.stdout, *output, a)
}

func printAnalysis(w io.Writer, output string, a api.Analysis) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	_, err := fmt.Fprintln(w, statusLine(a))
	return err
}

// statusLine is one line: id, status, digest, then the verdict, score and
// techniques of a finished analysis or the error of a failed one.
func statusLine(a api.Analysis) string {
	line := fmt.Sprintf("%s %-8s %s", a.ID, a.Status, a.Digest)
	if r := a.Result; r != nil {
		techs := strings.Join(r.Techniques, ",")
		if techs == "" {
			techs = "-"
		}
		line += fmt.Sprintf(" %s %.2f %s", r.Verdict, r.Score, techs)
	}
	if a.Error != "" && a.Status != "done" {
		line += " error: " + a.Error
	}
	return line
}

// remoteReport writes the report of analysis id from the server; summary
// is the status line.
func remoteReport(ctx context.Context, g *globals, sf serverFlags, format, id string) error {
	c, err := sf.client()
	if err != nil {
		return err
	}
	if format == "summary" {
		a, err := c.Analysis(ctx, id)
		if err != nil {
			return apiError(err)
		}
		return printAnalysis(g.stdout, "text", a)
	}
	return apiError(c.Report(ctx, id, format, g.stdout))
}

// verdictExit is the exit status of a finished analysis: its verdict's
// (0, 1, 2), or an error when it failed.
func verdictExit(a api.Analysis) error {
	if a.Status != "done" || a.Result == nil {
		return withCode(ExitError, fmt.Errorf("analysis %s is %s: %s", a.ID, a.Status, a.Error))
	}
	code := analyzer.Verdict(a.Result.Verdict).ExitCode()
	if code == 0 {
		return nil
	}
	return verdictCode(code)
}

// isTerminal reports whether w is a terminal, where progress lines go.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressLine redraws one line on a terminal, at most every 100 ms.
type progressLine struct {
	w    io.Writer
	last time.Time
	used bool
}

func newProgressLine(w io.Writer) *progressLine {
	if !isTerminal(w) {
		return &progressLine{}
	}
	return &progressLine{w: w}
}

func (p *progressLine) show(force bool, format string, args ...any) {
	if p.w == nil || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	p.used = true
	fmt.Fprintf(p.w, "\r\033[K"+format, args...)
}

func (p *progressLine) end() {
	if p.w != nil && p.used {
		fmt.Fprintln(p.w)
	}
}

// bar draws [#####-----] for done of total.
func bar(done, total int64) string {
	const width = 30
	n := 0
	if total > 0 {
		n = int(min(width, done*width/total))
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}
