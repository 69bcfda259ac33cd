package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/worker"
)

// rescanFilters collects repeated --filter key=value flags.
type rescanFilters []string

func (f *rescanFilters) String() string     { return strings.Join(*f, ",") }
func (f *rescanFilters) Set(v string) error { *f = append(*f, v); return nil }

type rescanFlags struct {
	reclassify bool
	filters    rescanFilters
	wait       bool
	server     string
	token      string
	poll       time.Duration
}

func runRescan(ctx context.Context, g *globals, args []string) error {
	var f rescanFlags
	var wf workerFlags
	bc, err := worker.BackendConfigFromEnv(g.stateDir, nil)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	fs := newFlagSet("rescan")
	fs.BoolVar(&f.reclassify, "reclassify", false, "analyse the stored runs again (fast, no sandbox) instead of running every image again")
	fs.Var(&f.filters, "filter", "only images matching `key=value`: repository=PREFIX, verdict=clean|suspicious|malicious, digest=sha256:..., before=RFC3339 (repeatable)")
	fs.BoolVar(&f.wait, "wait", false, "wait until every job has finished, showing progress")
	fs.StringVar(&f.server, "server", envOr("SANDSCAN_SERVER", ""), "API server `URL` (env SANDSCAN_SERVER); without it, the local state dir's queue and store")
	fs.StringVar(&f.token, "token", envOr("SANDSCAN_TOKEN", ""), "API bearer token (env SANDSCAN_TOKEN)")
	fs.DurationVar(&f.poll, "poll", time.Second, "progress polling interval with --wait")
	bc.RegisterFlags(fs)
	wf.register(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(rest) > 0 {
		return withCode(ExitUsage, fmt.Errorf("rescan: unexpected arguments %q", rest))
	}
	filter, err := worker.ParseFilter(f.filters)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	mode := worker.RescanRedetonate
	if f.reclassify {
		mode = worker.RescanReclassify
	}
	if f.poll <= 0 {
		f.poll = time.Second
	}
	bar := newRescanBar(g.stderr)
	var st rescanState
	if f.server != "" {
		st, err = remoteRescan(ctx, &f, mode, filter, bar)
	} else {
		if err := wf.check(); err != nil {
			return withCode(ExitUsage, fmt.Errorf("rescan: %w", err))
		}
		st, err = g.localRescan(ctx, &f, &wf, bc, mode, filter, bar)
	}
	bar.done()
	if st.ID != "" {
		fmt.Fprintln(g.stdout, st.summary())
	}
	if err != nil {
		return err
	}
	if f.wait && st.lost() > 0 {
		return withCode(ExitError, fmt.Errorf("rescan %s: %d of %d jobs failed", st.ID, st.lost(), st.Total))
	}
	return nil
}

// rescanState is a rescan's progress as this command shows it: the API's
// GET /v1/rescans/{id} document, or worker.RescanProgress's counts.
type rescanState struct {
	ID      string `json:"id"`
	Mode    string `json:"mode"`
	State   string `json:"state"` // running, done, failed
	Total   int    `json:"total"`
	Queued  int    `json:"queued"`
	Running int    `json:"running"`
	Done    int    `json:"done"`
	Failed  int    `json:"failed"`
	Dead    int    `json:"dead"`
	Unknown int    `json:"unknown"`
}

// lost counts jobs that ended without a result: failed, dead, or gone
// from the queue.
func (s rescanState) lost() int { return s.Failed + s.Dead + s.Unknown }

func (s rescanState) finished() bool { return s.State != "" && s.State != "running" }

func (s rescanState) summary() string {
	return fmt.Sprintf("rescan %s (%s): %d jobs, %d done, %d failed, %d pending", s.ID, s.Mode, s.Total, s.Done, s.lost(), s.Total-s.Done-s.lost())
}

func stateOf(rs worker.RescanStatus) rescanState {
	s := rescanState{ID: rs.ID, Mode: worker.RescanRedetonate, State: "running", Total: len(rs.Jobs)}
	if rs.Mode == queue.ModeReclassify {
		s.Mode = worker.RescanReclassify
	}
	if p := rs.Progress; p != nil {
		s.Queued, s.Running, s.Done = p.Queued, p.Running, p.Done
		s.Failed, s.Dead, s.Unknown = p.Failed, p.Dead, p.Unknown
		if p.Finished {
			s.State = "done"
		}
	}
	return s
}

// localRescan queues the rescan on the state dir's backends. With --wait
// on the embedded queue it runs the workers itself: that queue's file
// admits one process, so no other worker could take the jobs.
func (g *globals) localRescan(ctx context.Context, f *rescanFlags, wf *workerFlags, bc worker.BackendConfig, mode string, filter worker.RescanFilter, bar *rescanBar) (rescanState, error) {
	qmode, err := worker.ParseRescanMode(mode)
	if err != nil {
		return rescanState{}, withCode(ExitUsage, err)
	}
	bc.Log = g.log
	q, st, closeFn, err := worker.OpenBackends(ctx, bc)
	if err != nil {
		if strings.Contains(err.Error(), "locked by another process") {
			err = fmt.Errorf("%w (is `sandscan serve` running? give it the rescan with --server)", err)
		}
		return rescanState{}, err
	}
	defer closeFn()
	rs, err := worker.Rescan(ctx, q, st, worker.RescanOptions{Mode: qmode, Filter: filter, Log: g.log})
	if err != nil {
		return stateOf(rs), err
	}
	g.log.Info("rescan queued", "id", rs.ID, "jobs", len(rs.Jobs), "skipped", rs.Skipped)
	if !f.wait {
		return stateOf(rs), nil
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	workersDone := make(chan error, 1)
	if bc.Queue == "" || bc.Queue == worker.QueueEmbedded {
		go func() { workersDone <- g.runWorkers(wctx, wf, bc.QueueConfig, q, st, nil) }()
	}
	for {
		p, err := worker.RescanProgress(ctx, q, st, rs.ID)
		if err != nil {
			return stateOf(rs), err
		}
		s := stateOf(p)
		bar.show(s)
		if s.finished() {
			stopWorkers()
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case err := <-workersDone:
			return s, fmt.Errorf("rescan: workers stopped: %w", err)
		case <-time.After(f.poll):
		}
	}
}

// remoteRescan asks the API for the rescan and, with --wait, polls it.
func remoteRescan(ctx context.Context, f *rescanFlags, mode string, filter worker.RescanFilter, bar *rescanBar) (rescanState, error) {
	base, err := url.Parse(strings.TrimRight(f.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return rescanState{}, withCode(ExitUsage, fmt.Errorf("--server %q: want http(s)://host[:port]", f.server))
	}
	body, _ := json.Marshal(map[string]any{"mode": mode, "filter": filter})
	var s rescanState
	if err := rescanCall(ctx, f, http.MethodPost, base.String()+"/v1/rescans", body, &s); err != nil {
		return s, err
	}
	for f.wait {
		bar.show(s)
		if s.finished() {
			break
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(f.poll):
		}
		if err := rescanCall(ctx, f, http.MethodGet, base.String()+"/v1/rescans/"+url.PathEscape(s.ID), nil, &s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// rescanCall makes one API call and decodes its JSON answer, or turns a
// problem+json answer into an error.
func rescanCall(ctx context.Context, f *rescanFlags, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("rescan: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("rescan: %s %s: %w", method, u, err)
	}
	if resp.StatusCode >= 300 {
		var p struct{ Title, Detail string }
		if json.Unmarshal(b, &p) == nil && p.Title != "" {
			return fmt.Errorf("rescan: %s: %s %s", resp.Status, p.Title, p.Detail)
		}
		return fmt.Errorf("rescan: %s %s: %s", method, u, resp.Status)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("rescan: %s %s: %w", method, u, err)
	}
	return nil
}

// rescanBar redraws one progress line on a terminal; elsewhere (a pipe, a
// log file) it stays silent and the summary line says it all.
type rescanBar struct {
	w     io.Writer
	shown bool
}

func newRescanBar(w io.Writer) *rescanBar {
	if f, ok := w.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return &rescanBar{w: w}
		}
	}
	return &rescanBar{}
}

const rescanBarWidth = 30

func (b *rescanBar) show(s rescanState) {
	if b.w == nil {
		return
	}
	fmt.Fprint(b.w, "\r"+rescanLine(s))
	b.shown = true
}

func (b *rescanBar) done() {
	if b.w != nil && b.shown {
		fmt.Fprintln(b.w)
	}
}

// rescanLine draws "[#####-----] 5/10 done, 1 failed, 2 running".
func rescanLine(s rescanState) string {
	fin := s.Done + s.lost()
	filled := 0
	if s.Total > 0 {
		filled = min(rescanBarWidth, fin*rescanBarWidth/s.Total)
	}
	return fmt.Sprintf("[%s%s] %d/%d done, %d failed, %d running ",
		strings.Repeat("#", filled), strings.Repeat("-", rescanBarWidth-filled), s.Done, s.Total, s.lost(), s.Running)
}
