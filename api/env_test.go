package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
	"github.com/sandscan/sandscan/trace"
)

// testToken is the API token of every test server.
const testToken = "test-token-0123456789abcdef"

// env is an API server on loopback over the real embedded queue and
// filesystem store, with every response checked against openapi.yaml.
type env struct {
	t   testing.TB
	srv *Server
	ts  *httptest.Server
	q   queue.Queue
	st  store.Store
	cfg Config
}

func newEnv(t testing.TB, edit ...func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	q, err := embedded.Open(filepath.Join(dir, "queue.db"), queue.Config{}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	st, err := fs.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, q, st, edit...)
}

func newEnvWith(t testing.TB, q queue.Queue, st store.Store, edit ...func(*Config)) *env {
	t.Helper()
	tokens, err := NewTokens(testToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Queue: q, Store: st, Tokens: tokens, Log: quietLog(), UploadDir: t.TempDir()}
	for _, e := range edit {
		e(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, ts: ts, q: q, st: st, cfg: cfg}
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// The OpenAPI document, loaded once.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/sarif+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/x-tar", openapi3filter.FileBodyDecoder)
		loader := openapi3.NewLoader()
		spec.doc, spec.err = loader.LoadFromData(OpenAPI)
		if spec.err != nil {
			return
		}
		if spec.err = spec.doc.Validate(loader.Context); spec.err != nil {
			return
		}
		spec.router, spec.err = gorillamux.NewRouter(spec.doc)
	})
	if spec.err != nil {
		t.Fatalf("openapi.yaml: %v", spec.err)
	}
	return spec.doc, spec.router
}

// response is a finished exchange, its body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v\n%s", r.Request.URL.Path, err, r.body)
	}
}

func (r response) problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d with Content-Type %q, want application/problem+json: %s", r.StatusCode, ct, r.body)
	}
	var p Problem
	r.json(t, &p)
	if p.Status != r.StatusCode || !strings.HasPrefix(p.Type, ProblemTypePrefix) || p.Title == "" {
		t.Fatalf("problem %+v for status %d", p, r.StatusCode)
	}
	return p
}

// request is one call: authenticated with testToken unless header says
// otherwise (an empty Authorization sends none).
type request struct {
	method, path string
	body         io.Reader
	header       map[string]string
}

func (e *env) do(rq request) response {
	e.t.Helper()
	req, err := http.NewRequest(rq.method, e.ts.URL+rq.path, rq.body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range rq.header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	checkResponse(e.t, req, resp, body)
	return response{resp, body}
}

// checkResponse validates a response against the document: its status
// must be documented for the route, its body must match the schema.
func checkResponse(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	_, router := loadSpec(t)
	vreq := req.Clone(context.Background())
	vreq.URL.Host, vreq.URL.Scheme, vreq.Host = "", "", ""
	route, params, err := router.FindRoute(vreq)
	if err != nil && strings.Contains(vreq.URL.Path, "/artifacts/files/") {
		// OpenAPI has no path parameter that spans slashes; the document
		// says a dropped file's path may come as it is or with %2F.
		i := strings.Index(vreq.URL.Path, "/artifacts/") + len("/artifacts/")
		name := vreq.URL.Path[i:]
		vreq.URL.RawPath = vreq.URL.Path[:i] + url.PathEscape(name)
		vreq.URL.Path = vreq.URL.Path[:i] + name
		route, params, err = router.FindRoute(vreq)
	}
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return // no such route: the mux said so, and the document agrees
		}
		t.Fatalf("%s %s answered %d but is not in openapi.yaml: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s %s: gzip body: %v", req.Method, req.URL.Path, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s %s: gzip body: %v", req.Method, req.URL.Path, err)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s: response %d does not match openapi.yaml: %v\n%.2000s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func (e *env) get(path string) response { return e.do(request{method: "GET", path: path}) }

func (e *env) postJSON(path string, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(request{method: "POST", path: path, body: bytes.NewReader(b), header: map[string]string{"Content-Type": "application/json"}})
}

func wantStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}

// smallImage builds a one-file image, distinct per seed, and writes it as
// an archive (OCI unless docker) under t's temp dir.
func smallImage(t testing.TB, seed string, docker bool) (path string) {
	t.Helper()
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
		Name:   "small-" + seed,
		Files:  []imagebuild.File{{Path: "/seed", Content: []byte(seed + "\n")}},
		Config: imagebuild.Config{Entrypoint: []string{"/seed"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "image-"+seed+".tar")
	write := imagebuild.WriteOCIArchive
	if docker {
		write = imagebuild.WriteDockerArchive
	}
	if err := write(path, img, "sandscan.test/small:"+seed); err != nil {
		t.Fatal(err)
	}
	return path
}

// finish does what a worker does with the next job: writes a real report
// of a saved run and its artifacts to the store, records the verdict, and
// acks with the result. It returns the job.
func (e *env) finish(ctx context.Context, runFile string) queue.Job {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lease, err := e.q.Dequeue(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	job := lease.Job()
	f, err := os.Open(runFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	run, err := trace.Decode(f)
	if err != nil {
		e.t.Fatal(err)
	}
	run.ID = job.ID
	rep, err := analyzer.New().Analyze(run)
	if err != nil {
		e.t.Fatal(err)
	}
	rep.Image = analyzer.ImageInfo{Ref: job.Image, Digest: job.Digest}
	var buf bytes.Buffer
	if err := analyzer.WriteJSON(&buf, rep); err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	put := func(a store.Artifact, b []byte) {
		k, _ := store.AnalysisKey(job.ID, a)
		if err := e.st.Put(ctx, k, bytes.NewReader(b), int64(len(b))); err != nil {
			e.t.Fatal(err)
		}
		keys = append(keys, k)
	}
	put(store.ArtifactReport, buf.Bytes())
	put(store.ArtifactStdout, []byte("hello from the sandbox\n"))
	rb, _ := json.Marshal(run)
	rk, _ := store.AnalysisKey(job.ID, store.ArtifactRun)
	if err := store.PutGzip(ctx, e.st, rk, bytes.NewReader(rb)); err != nil {
		e.t.Fatal(err)
	}
	keys = append(keys, rk)
	fk, _ := store.DroppedFileKey(job.ID, "/var/tmp/payload.sh")
	if err := e.st.Put(ctx, fk, strings.NewReader("#!/bin/sh\n"), 10); err != nil {
		e.t.Fatal(err)
	}
	keys = append(keys, fk)
	var techs []string
	for _, tech := range rep.Techniques {
		techs = append(techs, tech.ID)
	}
	now := time.Now().UTC()
	if err := store.PutVerdict(ctx, e.st, store.Verdict{Digest: job.Digest, Analysis: job.ID, Verdict: string(rep.Verdict),
		Score: rep.Score, Techniques: techs, AnalyzerVersion: rep.Analyzer.Analyzer, Time: now}); err != nil {
		e.t.Fatal(err)
	}
	res, _ := json.Marshal(analysis.Result{Verdict: string(rep.Verdict), Score: rep.Score, Techniques: techs, RunID: job.ID,
		AnalyzerVersion: rep.Analyzer.Analyzer, RulesVersion: rep.Analyzer.Rules, Model: rep.Analyzer.Model, Finished: now, Artifacts: keys})
	if err := lease.Ack(ctx, res); err != nil {
		e.t.Fatal(err)
	}
	return job
}

// minerRun is a saved run of the miner sample: a malicious verdict.
const minerRun = "../analyzer/testdata/run-miner.json"
const benignRun = "../analyzer/testdata/run-benign-web.json"
