package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

// Config holds what a Server needs; Queue, Store and Tokens are required.
type Config struct {
	Queue queue.Queue
	Store store.Store
	// Tokens are the bearer tokens clients present.
	Tokens Tokens
	Log    *slog.Logger
	// Metrics is where the API registers its collectors; share it with
	// the workers of the same process. Nil: a registry of the Server's own.
	Metrics *prometheus.Registry

	// MaxQueued is the queue depth (queued + running) beyond which
	// submissions get 429; 0 means DefaultMaxQueued, negative no limit.
	MaxQueued int
	// RetryAfter is what a 429 tells clients to wait.
	RetryAfter time.Duration
	// MaxBody bounds JSON bodies (DefaultMaxBody when 0).
	MaxBody int64
	// MaxUpload bounds an uploaded archive (DefaultMaxUpload when 0).
	MaxUpload int64
	// MaxUploads bounds uploads under way at once (DefaultMaxUploads when 0).
	MaxUploads int
	// UploadDir holds uploads while they are checked (os.TempDir() when "").
	UploadDir string
	// UploadIdle is how long an upload may send nothing before it is
	// dropped (DefaultUploadIdle when 0), so a stalled client cannot hold
	// an upload slot for ever; there is no overall read timeout, since a
	// large upload takes what it takes.
	UploadIdle time.Duration

	// Resolver turns registry references into digests (a
	// RegistryResolver when nil).
	Resolver Resolver
	// Hooks configures the registry webhooks.
	Hooks HookConfig
	// Rescanner runs batch rescans; nil answers 501.
	Rescanner Rescanner
}

// HookConfig holds the webhooks' secrets.
type HookConfig struct {
	// Distribution and Harbor are the secrets (HookSecret) of the
	// Authorization headers those registries are configured to send, bare
	// or after "Bearer ". Empty: the registry sends "Bearer <API token>".
	Distribution Tokens
	Harbor       Tokens
	// DockerHub is the secret path segment of /v1/hooks/dockerhub/{secret};
	// empty disables that hook (Docker Hub sends no credentials at all).
	DockerHub Tokens
	// DockerHubRegistry is where Docker Hub's repositories are resolved
	// and pulled from: "docker.io" when empty, or a mirror's host:port.
	DockerHubRegistry string
}

// Defaults for Config fields left zero.
const (
	DefaultMaxQueued  = 1000
	DefaultRetryAfter = 10 * time.Second
	DefaultMaxBody    = 1 << 20
	DefaultMaxUpload  = 2 << 30
	DefaultMaxUploads = 4
	DefaultUploadIdle = time.Minute
)

// Server is the HTTP API.
type Server struct {
	cfg      Config
	q        queue.Queue
	st       store.Store
	tokens   Tokens
	log      *slog.Logger
	resolver Resolver
	metrics  *metrics
	mux      *http.ServeMux
	handler  http.Handler

	// submitting counts submissions between their depth check and their
	// enqueue, so a burst cannot all slip under MaxQueued at once.
	submitting atomic.Int64
	uploads    chan struct{}
}

// New checks cfg and builds the Server.
func New(cfg Config) (*Server, error) {
	if cfg.Queue == nil || cfg.Store == nil {
		return nil, errors.New("api: a queue and a store are required")
	}
	if cfg.Tokens.Len() == 0 {
		return nil, errors.New("api: no tokens: every route but health and metrics needs one")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.MaxQueued == 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.UploadIdle <= 0 {
		cfg.UploadIdle = DefaultUploadIdle
	}
	if cfg.UploadDir == "" {
		cfg.UploadDir = os.TempDir()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = &RegistryResolver{}
	}
	if cfg.Hooks.DockerHubRegistry == "" {
		cfg.Hooks.DockerHubRegistry = "docker.io"
	}
	s := &Server{
		cfg:      cfg,
		q:        cfg.Queue,
		st:       cfg.Store,
		tokens:   cfg.Tokens,
		log:      cfg.Log.With("component", "api"),
		resolver: cfg.Resolver,
		uploads:  make(chan struct{}, cfg.MaxUploads),
	}
	m, err := newMetrics(cfg.Metrics, s.q)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	s.mux.Handle("/", s.wrap(route{pattern: "/", auth: authNone, h: func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("%w: no route for %s %s", errNotFound, r.Method, r.URL.Path)
	}}))
	s.handler = s.logRequests(s.mux)
	return s, nil
}

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// authKind says how a route checks who calls it.
type authKind int

const (
	authToken        authKind = iota // Authorization: Bearer <API token>
	authNone                         // health, readiness, metrics
	authDistribution                 // the Distribution hook's header
	authHarbor                       // the Harbor hook's header
	authPathSecret                   // the Docker Hub hook's {secret}
)

// route is one pattern of the API: the table the mux is built from and
// the OpenAPI test reads.
type route struct {
	pattern string // "METHOD /path/{wildcard}"
	auth    authKind
	h       func(http.ResponseWriter, *http.Request) error
}

func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", authNone, s.healthz},
		{"GET /readyz", authNone, s.readyz},
		{"GET /metrics", authNone, s.serveMetrics},
		{"GET /v1/openapi.yaml", authToken, serveOpenAPI},
		{"POST /v1/analyses", authToken, s.postAnalysis},
		{"GET /v1/analyses", authToken, s.listAnalyses},
		{"GET /v1/analyses/{id}", authToken, s.getAnalysis},
		{"GET /v1/analyses/{id}/report", authToken, s.getReport},
		{"GET /v1/analyses/{id}/artifacts/{name...}", authToken, s.getArtifact},
		{"GET /v1/images/{digest}/verdict", authToken, s.getVerdict},
		{"GET /v1/images/{digest}/verdicts", authToken, s.getVerdictHistory},
		{"POST /v1/rescans", authToken, s.postRescan},
		{"GET /v1/rescans/{id}", authToken, s.getRescan},
		{"POST /v1/hooks/distribution", authDistribution, s.hookDistribution},
		{"POST /v1/hooks/harbor", authHarbor, s.hookHarbor},
		{"POST /v1/hooks/dockerhub/{secret}", authPathSecret, s.hookDockerHub},
	}
}

// wrap checks a route's auth, runs it and sends its error, if any,
// through writeError.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		var err error
		switch rt.auth {
		case authToken:
			err = s.checkBearer(r)
		case authDistribution:
			err = s.checkHookHeader(r, s.cfg.Hooks.Distribution)
		case authHarbor:
			err = s.checkHookHeader(r, s.cfg.Hooks.Harbor)
		case authPathSecret:
			if !s.cfg.Hooks.DockerHub.Match(r.PathValue("secret")) {
				err = fmt.Errorf("%w: bad or unconfigured hook secret", errUnauthorized)
			}
		}
		if err == nil {
			err = rt.h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// routeOf names r's route for logs and metrics: the pattern, never the
// raw path, which may carry a hook's secret.
func routeOf(r *http.Request) string {
	if r.Pattern == "" || r.Pattern == "/" {
		return "unmatched"
	}
	return r.Pattern
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs and counts every request by route. Neither headers nor
// raw paths are logged: they carry tokens and hook secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := routeOf(r)
		d := time.Since(start)
		s.metrics.observeRequest(route, sw.status, d)
		lvl := slog.LevelDebug
		if strings.HasPrefix(route, "POST ") {
			lvl = slog.LevelInfo
		}
		s.log.Log(r.Context(), lvl, "request", "route", route, "status", sw.status, "bytes", sw.bytes,
			"duration", d.Round(time.Microsecond), "remote", r.RemoteAddr)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 when the queue and the store both answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if _, err := s.q.Depth(ctx); err != nil {
		return fmt.Errorf("%w: queue: %w", errUnavailable, err)
	}
	if _, err := s.st.List(ctx, "verdicts/", "", 1); err != nil {
		return fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
