package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sandscan/sandscan/api"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/worker"
)

// serveFlags are serve's own flags; the queue, store and worker pool
// flags are the worker command's.
type serveFlags struct {
	listen          string
	noWorkers       bool
	tokenFile       string
	maxQueued       int
	retryAfter      time.Duration
	maxUploadMB     int64
	maxUploads      int
	insecure        string
	hookDist        string
	hookHarbor      string
	hookDockerHub   string
	dockerHubMirror string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", envOr("SANDSCAN_LISTEN", "127.0.0.1:8080"), "API address `host:port` (env SANDSCAN_LISTEN)")
	fs.BoolVar(&f.noWorkers, "no-workers", false, "serve the API only; `sandscan worker` processes run the jobs")
	fs.StringVar(&f.tokenFile, "token-file", envOr("SANDSCAN_TOKEN_FILE", ""), "file of API tokens, one a line (env SANDSCAN_TOKEN_FILE); SANDSCAN_TOKEN adds comma-separated ones")
	fs.IntVar(&f.maxQueued, "max-queued", api.DefaultMaxQueued, "analyses queued or running beyond which submissions get 429 (negative: no limit)")
	fs.DurationVar(&f.retryAfter, "retry-after", api.DefaultRetryAfter, "what a 429 tells clients to wait")
	fs.Int64Var(&f.maxUploadMB, "max-upload", api.DefaultMaxUpload>>20, "largest uploaded archive, in MiB")
	fs.IntVar(&f.maxUploads, "max-uploads", api.DefaultMaxUploads, "uploads under way at once")
	fs.StringVar(&f.insecure, "insecure-registries", envOr("SANDSCAN_INSECURE_REGISTRIES", ""), "comma-separated `host:port` registries spoken to in plain HTTP (loopback ones always are)")
	fs.StringVar(&f.hookDist, "hook-distribution-auth", os.Getenv("SANDSCAN_HOOK_DISTRIBUTION_AUTH"), "Authorization header value the Distribution registry sends; prefer env SANDSCAN_HOOK_DISTRIBUTION_AUTH (default: an API token)")
	fs.StringVar(&f.hookHarbor, "hook-harbor-auth", os.Getenv("SANDSCAN_HOOK_HARBOR_AUTH"), "Harbor's auth header value; prefer env SANDSCAN_HOOK_HARBOR_AUTH (default: an API token)")
	fs.StringVar(&f.hookDockerHub, "hook-dockerhub-secret", os.Getenv("SANDSCAN_HOOK_DOCKERHUB_SECRET"), "secret path segment of /v1/hooks/dockerhub/SECRET; prefer env SANDSCAN_HOOK_DOCKERHUB_SECRET (empty: hook off)")
	fs.StringVar(&f.dockerHubMirror, "dockerhub-registry", envOr("SANDSCAN_DOCKERHUB_REGISTRY", "docker.io"), "where Docker Hub pushes are resolved and pulled: docker.io or a mirror's host:port")
}

// apiConfig turns the flags and the environment into the API's config.
func (f *serveFlags) apiConfig(getenv func(string) string) (api.Config, error) {
	var cfg api.Config
	toks, err := api.ParseTokens(getenv("SANDSCAN_TOKEN"))
	if err != nil {
		return cfg, fmt.Errorf("SANDSCAN_TOKEN: %w", err)
	}
	if f.tokenFile != "" {
		more, err := api.ReadTokenFile(f.tokenFile)
		if err != nil {
			return cfg, err
		}
		toks = toks.Merge(more)
	}
	if toks.Len() == 0 {
		return cfg, errors.New("no API tokens: set SANDSCAN_TOKEN (comma-separated) or --token-file")
	}
	cfg.Tokens = toks
	for _, h := range []struct {
		name, value string
		dst         *api.Tokens
	}{
		{"--hook-distribution-auth", f.hookDist, &cfg.Hooks.Distribution},
		{"--hook-harbor-auth", f.hookHarbor, &cfg.Hooks.Harbor},
		{"--hook-dockerhub-secret", f.hookDockerHub, &cfg.Hooks.DockerHub},
	} {
		t, err := api.HookSecret(h.value)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", h.name, err)
		}
		*h.dst = t
	}
	cfg.Hooks.DockerHubRegistry = f.dockerHubMirror
	cfg.MaxQueued, cfg.RetryAfter = f.maxQueued, f.retryAfter
	if f.maxQueued == 0 {
		cfg.MaxQueued = -1 // 0 would mean the default; the flag's 0 means none
	}
	cfg.MaxUpload, cfg.MaxUploads = f.maxUploadMB<<20, f.maxUploads
	var insecure []string
	for _, h := range strings.Split(f.insecure, ",") {
		if h = strings.TrimSpace(h); h != "" {
			insecure = append(insecure, h)
		}
	}
	cfg.Resolver = &api.RegistryResolver{Insecure: insecure}
	return cfg, nil
}

// runServe is `sandscan serve`: the API and, unless --no-workers, a pool
// of workers in one process, on one queue and store.
func runServe(ctx context.Context, g *globals, args []string) error {
	bc, err := worker.BackendConfigFromEnv(g.stateDir, nil)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	var sf serveFlags
	var wf workerFlags
	fs := newFlagSet("serve")
	sf.register(fs)
	bc.RegisterFlags(fs)
	registerDeliveryFlags(fs, &bc.QueueConfig)
	wf.register(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(rest) > 0 {
		return withCode(ExitUsage, fmt.Errorf("serve: unexpected arguments %q", rest))
	}
	if !sf.noWorkers {
		if err := wf.check(); err != nil {
			return withCode(ExitUsage, fmt.Errorf("serve: %w", err))
		}
	}
	cfg, err := sf.apiConfig(os.Getenv)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("serve: %w", err))
	}
	if err := bc.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	bc.Log = g.log
	q, st, closeFn, err := worker.OpenBackends(ctx, bc)
	if err != nil {
		return err
	}
	defer closeFn()

	// One registry for the API's collectors and the workers'.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Queue, cfg.Store, cfg.Metrics, cfg.Log = q, st, reg, g.log
	cfg.Rescanner = &rescanner{q: q, st: st, log: g.log}
	srv, err := api.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", sf.listen)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("serve: --listen: %w", err))
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No read or write timeout: uploads and downloads take as long as
		// their size needs; MaxUpload bounds them.
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	g.log.Info("API listening", "addr", ln.Addr().String(), "workers", !sf.noWorkers, "queue", bc.Queue, "store", bc.Store)
	fmt.Fprintf(g.stderr, "sandscan: serving on http://%s\n", ln.Addr())
	stopHTTP := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}
	// The API stops taking work when ctx ends, while workers finish theirs.
	go func() {
		<-ctx.Done()
		stopHTTP()
	}()
	var werr error
	if sf.noWorkers {
		select {
		case <-ctx.Done():
		case werr = <-served:
		}
	} else {
		werr = g.runWorkers(ctx, &wf, bc.QueueConfig, q, st, reg)
	}
	stopHTTP()
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && werr == nil {
		werr = err
	}
	if werr == nil && ctx.Err() != nil {
		g.log.Info("serve stopped")
	}
	return werr
}

// rescanner lends the worker package's rescans to the API.
type rescanner struct {
	q   queue.Queue
	st  store.Store
	log *slog.Logger
}

func (r *rescanner) Rescan(ctx context.Context, req api.RescanRequest) (api.Rescan, error) {
	mode, err := worker.ParseRescanMode(req.Mode)
	if err != nil {
		return api.Rescan{}, fmt.Errorf("%w: %w", queue.ErrInvalid, err)
	}
	f := req.Filter
	rs, err := worker.Rescan(ctx, r.q, r.st, worker.RescanOptions{
		Mode:   mode,
		Filter: worker.RescanFilter{Repository: f.Repository, Verdict: f.Verdict, Digests: f.Digests, Before: f.Before},
		Log:    r.log,
	})
	if errors.Is(err, worker.ErrRescan) {
		return api.Rescan{}, fmt.Errorf("%w: %w", queue.ErrInvalid, err)
	}
	if err != nil {
		return api.Rescan{}, err
	}
	// Progress right away, so the answer says where each job stands.
	if p, perr := worker.RescanProgress(ctx, r.q, r.st, rs.ID); perr == nil {
		rs = p
	}
	return apiRescan(rs), nil
}

func (r *rescanner) RescanProgress(ctx context.Context, id string) (api.Rescan, error) {
	rs, err := worker.RescanProgress(ctx, r.q, r.st, id)
	if err != nil {
		return api.Rescan{}, err
	}
	return apiRescan(rs), nil
}

func apiRescan(rs worker.RescanStatus) api.Rescan {
	out := api.Rescan{
		ID: rs.ID, Mode: worker.RescanRedetonate, State: "running", Created: rs.Created,
		Filter: api.RescanFilter{Verdict: rs.Filter.Verdict, Repository: rs.Filter.Repository, Digests: rs.Filter.Digests, Before: rs.Filter.Before},
		Total:  len(rs.Jobs), Skipped: rs.Skipped, Errors: rs.Errors, Analyses: []string{},
	}
	if rs.Mode == queue.ModeReclassify {
		out.Mode = worker.RescanReclassify
	}
	for _, j := range rs.Jobs {
		out.Analyses = append(out.Analyses, j.ID)
	}
	if p := rs.Progress; p != nil {
		out.Queued, out.Running, out.Done, out.Failed, out.Dead, out.Unknown = p.Queued, p.Running, p.Done, p.Failed, p.Dead, p.Unknown
		if p.Finished {
			out.State = "done"
		}
	} else {
		out.Queued = len(rs.Jobs)
	}
	return out
}
