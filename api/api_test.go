package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

// TestRoutesDocumented holds the mux and openapi.yaml to each other: every
// route registered is documented, with its method, and every documented
// operation is routed.
func TestRoutesDocumented(t *testing.T) {
	doc, _ := loadSpec(t)
	e := newEnv(t)
	routed := map[string]bool{}
	for _, rt := range e.srv.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.ReplaceAll(path, "...}", "}") // {name...} is {name} in OpenAPI
		routed[method+" "+path] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.yaml", rt.pattern)
			continue
		}
		// The document's security must say what the route checks.
		op := item.GetOperation(method)
		open := op.Security != nil && len(*op.Security) == 0
		if (rt.auth == authNone || rt.auth == authPathSecret) != open {
			t.Errorf("%s: openapi.yaml security %v disagrees with the route's auth %d", rt.pattern, op.Security, rt.auth)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which is not routed", method, path)
			}
		}
	}
	var _ openapi3.T
}

// TestAuth: every route but health, readiness and metrics refuses a
// request without a token or with a bad one.
func TestAuth(t *testing.T) {
	e := newEnv(t)
	for _, rt := range e.srv.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{id}", "x", "{name...}", "stdout", "{digest}", "sha256:"+strings.Repeat("a", 64), "{secret}", "s").Replace(path)
		for _, tc := range []struct {
			name, auth string
		}{
			{"no token", ""},
			{"bad token", "Bearer not-the-token-at-all-000"},
			{"wrong scheme", "Basic " + testToken},
		} {
			r := e.do(request{method: method, path: path, header: map[string]string{"Authorization": tc.auth}})
			if rt.auth == authNone {
				if r.StatusCode != http.StatusOK {
					t.Errorf("%s %s (%s): %d, want 200: open routes need no token", method, path, tc.name, r.StatusCode)
				}
				continue
			}
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s (%s): %d, want 401", method, path, tc.name, r.StatusCode)
				continue
			}
			r.problem(t)
			if rt.auth == authToken && r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", method, path)
			}
		}
	}
	// The token opens the document.
	r := e.get("/v1/openapi.yaml")
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, OpenAPI) {
		t.Error("/v1/openapi.yaml is not the embedded document")
	}
}

func TestTokens(t *testing.T) {
	toks, err := ParseTokens(" first-token-0123456789 ,, second-token-0123456789 ")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := readTokens(strings.NewReader("# ops\n\nthird-token-0123456789\n"))
	if err != nil {
		t.Fatal(err)
	}
	all := toks.Merge(fromFile)
	tests := []struct {
		secret string
		want   bool
	}{
		{"first-token-0123456789", true},
		{"second-token-0123456789", true},
		{"third-token-0123456789", true},
		{"first-token-012345678", false},
		{"first-token-01234567890", false},
		{"", false},
		{"# ops", false},
	}
	for _, tt := range tests {
		if got := all.Match(tt.secret); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.secret, got, tt.want)
		}
	}
	if all.Len() != 3 {
		t.Errorf("Len = %d, want 3", all.Len())
	}
	if s := fmt.Sprint(all); strings.Contains(s, "token-") {
		t.Errorf("tokens print their secrets: %s", s)
	}
	if _, err := ParseTokens("short"); err == nil {
		t.Error("a 5-character token was accepted")
	}
}

func uploadTar(e *env, path, query string) response {
	e.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	return e.do(request{method: "POST", path: "/v1/analyses" + query, body: f, header: map[string]string{"Content-Type": "application/x-tar"}})
}

func multipartBody(t testing.TB, path string, fields map[string]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if path != "" {
		fw, err := mw.CreateFormFile("file", "image.tar")
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(b)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func depth(t testing.TB, q queue.Queue) int {
	t.Helper()
	n, err := q.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUpload: archives sent raw or in a form are checked, kept in the
// store by digest, and queued for the store source; the same digest again
// answers with the same analysis.
func TestUpload(t *testing.T) {
	e := newEnv(t)
	oci := smallImage(t, "upload-oci", false)
	docker := smallImage(t, "upload-docker", true)

	r := uploadTar(e, oci, "?network=none&timeout=30s")
	wantStatus(t, r, http.StatusAccepted)
	var a Analysis
	r.json(t, &a)
	if a.Status != "queued" || a.Existing || r.Header.Get("Location") != "/v1/analyses/"+a.ID {
		t.Errorf("first upload: %+v, Location %q", a, r.Header.Get("Location"))
	}
	key, _ := store.ImageKey(a.Digest)
	if _, err := e.st.Stat(context.Background(), key); err != nil {
		t.Errorf("archive not kept under %s: %v", key, err)
	}
	st, err := e.q.Status(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, err := analysis.DecodeRequest(st.Job)
	if err != nil {
		t.Fatal(err)
	}
	if req.Source != analysis.FromStore || req.Format != analysis.FormatOCI || req.Network != "none" || req.Timeout.Seconds() != 30 ||
		req.Ref != "sandscan.test/small:upload-oci" || st.Job.Reason != queue.ReasonAPI || st.Job.Mode != queue.ModeDetonate {
		t.Errorf("queued request %+v, job %+v", req, st.Job)
	}

	// Again, while queued: the same analysis.
	r = uploadTar(e, oci, "")
	wantStatus(t, r, http.StatusOK)
	var again Analysis
	r.json(t, &again)
	if again.ID != a.ID || !again.Existing {
		t.Errorf("second upload: %+v, want existing %s", again, a.ID)
	}

	body, ctype := multipartBody(t, docker, map[string]string{"network": "sinkhole"})
	r = e.do(request{method: "POST", path: "/v1/analyses", body: body, header: map[string]string{"Content-Type": ctype}})
	wantStatus(t, r, http.StatusAccepted)
	var d Analysis
	r.json(t, &d)
	st, _ = e.q.Status(context.Background(), d.ID)
	req, _ = analysis.DecodeRequest(st.Job)
	if req.Format != analysis.FormatDocker || req.Network != "sinkhole" || d.Digest == a.Digest {
		t.Errorf("docker upload: %+v, request %+v", d, req)
	}
	if n := depth(t, e.q); n != 2 {
		t.Errorf("depth %d, want 2", n)
	}
}

// TestBadSubmissions: each malformed submission gets a clear 4xx and
// nothing is queued or stored.
func TestBadSubmissions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxUpload = 256 << 10; c.MaxBody = 4 << 10 })
	oci := smallImage(t, "bad", false)
	big := bytes.Repeat([]byte{0}, 300<<10)
	noFile, noFileType := multipartBody(t, "", map[string]string{"network": "none"})
	extra, extraType := multipartBody(t, oci, map[string]string{"colour": "blue"})
	tests := []struct {
		name   string
		ctype  string
		body   io.Reader
		query  string
		status int
	}{
		{"not JSON", "application/json", strings.NewReader("{"), "", 400},
		{"empty JSON", "application/json", strings.NewReader(""), "", 400},
		{"unknown field", "application/json", strings.NewReader(`{"image":"a/b:1","colour":"blue"}`), "", 400},
		{"no image", "application/json", strings.NewReader(`{"network":"none"}`), "", 400},
		{"bad reference", "application/json", strings.NewReader(`{"image":"UPPER CASE!!"}`), "", 400},
		{"bad network", "application/json", strings.NewReader(`{"image":"a/b@sha256:` + strings.Repeat("a", 64) + `","network":"host"}`), "", 400},
		{"bad timeout", "application/json", strings.NewReader(`{"image":"a/b@sha256:` + strings.Repeat("a", 64) + `","timeout":"forever"}`), "", 400},
		{"timeout too long", "application/json", strings.NewReader(`{"image":"a/b@sha256:` + strings.Repeat("a", 64) + `","timeout":"11m"}`), "", 400},
		{"two JSON values", "application/json", strings.NewReader(`{"image":"a/b:1"}{}`), "", 400},
		{"JSON over the limit", "application/json", strings.NewReader(`{"image":"` + strings.Repeat("a", 5<<10) + `"}`), "", 413},
		{"form body", "application/x-www-form-urlencoded", strings.NewReader("image=a"), "", 415},
		{"no content type", "", strings.NewReader(`{"image":"a/b:1"}`), "", 415},
		{"not a tar", "application/x-tar", strings.NewReader("hello, I am not an archive"), "", 400},
		{"empty tar", "application/x-tar", strings.NewReader(""), "", 400},
		{"upload over the limit", "application/x-tar", bytes.NewReader(big), "", 413},
		{"upload over the limit, chunked", "application/x-tar", io.MultiReader(bytes.NewReader(big)), "", 413},
		{"bad network on upload", "application/x-tar", mustOpen(t, oci), "?network=bridge", 400},
		{"form without file", noFileType, noFile, "", 400},
		{"form with unknown field", extraType, extra, "", 400},
		{"multipart without boundary", "multipart/form-data", strings.NewReader("x"), "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(request{method: "POST", path: "/v1/analyses" + tt.query, body: tt.body, header: map[string]string{"Content-Type": tt.ctype}})
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			p := r.problem(t)
			if p.Detail == "" {
				t.Error("a 4xx problem without detail")
			}
		})
	}
	if n := depth(t, e.q); n != 0 {
		t.Errorf("%d jobs queued by bad submissions", n)
	}
	if objs, err := e.st.List(context.Background(), "images/", "", 10); err != nil || len(objs) != 0 {
		t.Errorf("bad submissions stored %v (%v)", objs, err)
	}
	if ents, _ := os.ReadDir(e.cfg.UploadDir); len(ents) != 0 {
		t.Errorf("uploads left behind: %v", ents)
	}
}

func mustOpen(t testing.TB, path string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// TestBackpressure: over MaxQueued, submissions get 429 with Retry-After,
// and are taken again once workers catch up.
func TestBackpressure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxQueued = 2; c.RetryAfter = 7_500_000_000 })
	for i := range 2 {
		wantStatus(t, uploadTar(e, smallImage(t, fmt.Sprint("bp", i), false), ""), http.StatusAccepted)
	}
	r := uploadTar(e, smallImage(t, "bp-over", false), "")
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra := r.Header.Get("Retry-After"); ra != "8" {
		t.Errorf("Retry-After %q, want 8", ra)
	}
	if p := r.problem(t); p.RetryAfter != 8 {
		t.Errorf("problem retry_after %d", p.RetryAfter)
	}
	// Webhooks get the same answer, so registries retry later.
	hook := distributionBody(t, "127.0.0.1:5000", "team/app", "1", "sha256:"+strings.Repeat("c", 64))
	r = e.do(request{method: "POST", path: "/v1/hooks/distribution", body: strings.NewReader(hook), header: map[string]string{"Content-Type": DistributionEventsV1}})
	wantStatus(t, r, http.StatusTooManyRequests)
	e.finish(context.Background(), benignRun)
	wantStatus(t, uploadTar(e, smallImage(t, "bp-over", false), ""), http.StatusAccepted)
}

// TestUnknown: unknown ids and digests are 404, malformed ones 4xx.
func TestUnknown(t *testing.T) {
	e := newEnv(t)
	unknownDigest := "sha256:" + strings.Repeat("f", 64)
	tests := []struct {
		path   string
		status int
	}{
		{"/v1/analyses/nosuchanalysis", 404},
		{"/v1/analyses/bad%20id", 404},
		{"/v1/analyses/nosuchanalysis/report", 404},
		{"/v1/analyses/nosuchanalysis/report?format=pdf", 400},
		{"/v1/analyses/nosuchanalysis/artifacts/stdout", 404},
		{"/v1/analyses/nosuchanalysis/artifacts/nonsense", 404},
		{"/v1/analyses/nosuchanalysis/artifacts/files/etc/passwd", 404},
		{"/v1/images/" + unknownDigest + "/verdict", 404},
		{"/v1/images/" + unknownDigest + "/verdicts", 404},
		{"/v1/images/sha256:xyz/verdict", 400},
		{"/v1/images/latest/verdict", 400},
		{"/v1/analyses?verdict=evil", 400},
		{"/v1/analyses?limit=0", 400},
		{"/v1/analyses?limit=100000", 400},
		{"/v1/analyses?cursor=!!", 400},
		{"/v1/analyses?cursor=" + encodeCursor("images/x"), 400},
		{"/v1/nothing/here", 404},
	}
	for _, tt := range tests {
		r := e.get(tt.path)
		if r.StatusCode != tt.status {
			t.Errorf("GET %s: %d, want %d: %s", tt.path, r.StatusCode, tt.status, r.body)
			continue
		}
		r.problem(t)
	}
}

// TestLifecycle follows an upload through a (simulated) worker to its
// report, artifacts, verdict and listing, then resubmits it.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := uploadTar(e, smallImage(t, "life", false), "")
	wantStatus(t, r, http.StatusAccepted)
	var a Analysis
	r.json(t, &a)

	// Not finished: status queued, no report yet (409).
	r = e.get(a.Links.Self)
	wantStatus(t, r, http.StatusOK)
	r = e.get(a.Links.Self + "/report")
	wantStatus(t, r, http.StatusConflict)
	r.problem(t)

	e.finish(ctx, minerRun)

	r = e.get(a.Links.Self)
	wantStatus(t, r, http.StatusOK)
	var done Analysis
	r.json(t, &done)
	if done.Status != "done" || done.Result == nil || done.Result.Verdict != "malicious" || len(done.Result.Techniques) == 0 ||
		done.Links.Report == "" || !slices.Contains(done.Result.Artifacts, "files/var/tmp/payload.sh") || !slices.Contains(done.Result.Artifacts, "run") {
		t.Fatalf("finished analysis: %+v %+v", done, done.Result)
	}

	// Reports in every format; SARIF and the layer are made from the JSON.
	for _, tc := range []struct{ format, ctype, want string }{
		{"", "application/json", `"schema": "sandscan.report/v1"`},
		{"json", "application/json", `"verdict": "malicious"`},
		{"sarif", "application/sarif+json", `"version": "2.1.0"`},
		{"navigator", "application/json", `"domain": "enterprise-attack"`},
	} {
		r = e.get(done.Links.Report + "?format=" + tc.format)
		wantStatus(t, r, http.StatusOK)
		if r.Header.Get("Content-Type") != tc.ctype || !bytes.Contains(r.body, []byte(tc.want)) {
			t.Errorf("report %q: %s, %.200s", tc.format, r.Header.Get("Content-Type"), r.body)
		}
	}

	// Artifacts.
	r = e.get(a.Links.Self + "/artifacts/stdout")
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != "hello from the sandbox\n" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("stdout: %q %s", r.body, r.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/artifacts/files/var/tmp/payload.sh", "/artifacts/files%2Fvar%2Ftmp%2Fpayload.sh"} {
		r = e.get(a.Links.Self + p)
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "#!/bin/sh\n" || r.Header.Get("Content-Disposition") != "attachment" {
			t.Errorf("%s: %q", p, r.body)
		}
	}
	r = e.do(request{method: "GET", path: a.Links.Self + "/artifacts/run", header: map[string]string{"Accept-Encoding": "identity"}})
	wantStatus(t, r, http.StatusOK)
	var run map[string]any
	r.json(t, &run)
	if run["id"] != a.ID {
		t.Errorf("run artifact id %v, want %s", run["id"], a.ID)
	}
	r = e.do(request{method: "GET", path: a.Links.Self + "/artifacts/run", header: map[string]string{"Accept-Encoding": "gzip"}})
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(r.body, []byte{0x1f, 0x8b}) {
		t.Errorf("run with gzip accepted: %s %x", r.Header.Get("Content-Encoding"), r.body[:min(4, len(r.body))])
	}
	wantStatus(t, e.get(a.Links.Self+"/artifacts/fsdiff"), http.StatusNotFound)

	// The image's verdict and its history.
	r = e.get(done.Links.Verdict)
	wantStatus(t, r, http.StatusOK)
	var v Verdict
	r.json(t, &v)
	if v.Analysis != a.ID || v.Verdict != "malicious" || v.Digest != a.Digest || v.Links.History == "" {
		t.Errorf("verdict %+v", v)
	}
	r = e.get(v.Links.History)
	wantStatus(t, r, http.StatusOK)
	var h VerdictHistory
	r.json(t, &h)
	if len(h.Verdicts) != 1 || h.Verdicts[0].Analysis != a.ID {
		t.Errorf("history %+v", h)
	}

	// The same image again: it has a verdict, so the same analysis.
	r = uploadTar(e, smallImage(t, "life", false), "")
	wantStatus(t, r, http.StatusOK)
	var again Analysis
	r.json(t, &again)
	if again.ID != a.ID || !again.Existing || again.Status != "done" {
		t.Errorf("resubmission: %+v", again)
	}
	// Unless forced.
	r = uploadTar(e, smallImage(t, "life", false), "?force=true")
	wantStatus(t, r, http.StatusAccepted)
	r.json(t, &again)
	if again.ID == a.ID {
		t.Error("a forced resubmission reused the analysis")
	}
	if n := depth(t, e.q); n != 1 {
		t.Errorf("depth %d, want 1", n)
	}
}

// TestList: newest first, filtered, paged with cursors.
func TestList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		r := uploadTar(e, smallImage(t, fmt.Sprint("list", i), false), "")
		wantStatus(t, r, http.StatusAccepted)
		var a Analysis
		r.json(t, &a)
		ids = append(ids, a.ID)
	}
	// Finish the two oldest: the first as malicious, the second clean.
	e.finish(ctx, minerRun)
	e.finish(ctx, benignRun)

	list := func(query string) AnalysisList {
		t.Helper()
		r := e.get("/v1/analyses" + query)
		wantStatus(t, r, http.StatusOK)
		var l AnalysisList
		r.json(t, &l)
		return l
	}
	idsOf := func(l AnalysisList) []string {
		var out []string
		for _, a := range l.Analyses {
			out = append(out, a.ID)
		}
		return out
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	if got := idsOf(list("")); !slices.Equal(got, newest) {
		t.Errorf("list: %v, want %v", got, newest)
	}
	// Pages of two.
	var paged []string
	cursor := ""
	for range 10 {
		l := list("?limit=2&cursor=" + url.QueryEscape(cursor))
		paged = append(paged, idsOf(l)...)
		if l.Next == "" {
			break
		}
		cursor = l.Next
	}
	if !slices.Equal(paged, newest) {
		t.Errorf("paged: %v, want %v", paged, newest)
	}
	var verdictOfFirst string
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?verdict=malicious", []string{ids[0]}},
		{"?status=queued", newest[:3]},
		{"?status=done", []string{ids[1], ids[0]}},
		{"?repository=sandscan.test/small", newest},
		{"?repository=small", newest},
		{"?repository=docker.io/other", nil},
	} {
		if got := idsOf(list(tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("list %s: %v, want %v", tc.query, got, tc.want)
		}
	}
	_ = verdictOfFirst
	l := list("?verdict=clean")
	if len(l.Analyses) != 1 || l.Analyses[0].ID != ids[1] {
		t.Errorf("clean: %v", idsOf(l))
	}
	if l.Analyses[0].Result.Verdict != "clean" {
		t.Errorf("clean listed as %+v", l.Analyses[0].Result)
	}
}

// TestHealth: /healthz always; /readyz while the queue answers.
func TestHealth(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(request{method: "GET", path: "/healthz", header: map[string]string{"Authorization": ""}}), 200)
	wantStatus(t, e.do(request{method: "GET", path: "/readyz", header: map[string]string{"Authorization": ""}}), 200)
	e.q.Close()
	r := e.do(request{method: "GET", path: "/readyz", header: map[string]string{"Authorization": ""}})
	wantStatus(t, r, http.StatusServiceUnavailable)
	if r.problem(t).Detail != "" {
		t.Error("a 5xx problem shows internal detail")
	}
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// TestMetrics: /metrics shows the queue depth and counts requests.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, uploadTar(e, smallImage(t, "metrics", false), ""), http.StatusAccepted)
	e.get("/v1/analyses/nosuch")
	r := e.do(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": ""}})
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{
		"sandscan_queue_depth 1",
		`sandscan_api_submissions_total{outcome="queued",reason="api"} 1`,
		`sandscan_api_requests_total{code="404",route="GET /v1/analyses/{id}"} 1`,
		`sandscan_api_request_duration_seconds_count{route="POST /v1/analyses"} 1`,
	} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestRescanWithoutRescanner(t *testing.T) {
	e := newEnv(t)
	r := e.postJSON("/v1/rescans", RescanRequest{Mode: "reclassify"})
	wantStatus(t, r, http.StatusNotImplemented)
	r = e.postJSON("/v1/rescans", RescanRequest{Mode: "again"})
	wantStatus(t, r, http.StatusBadRequest)
	r = e.postJSON("/v1/rescans", RescanRequest{Mode: "reclassify", Filter: RescanFilter{Digests: []string{"sha256:nope"}}})
	wantStatus(t, r, http.StatusBadRequest)
}

var _ = strconv.Itoa
var _ = json.Marshal

func TestHookSecret(t *testing.T) {
	tests := []struct {
		configured string
		header     string
		want       bool
	}{
		{"Bearer hook-secret-0123456789", "Bearer hook-secret-0123456789", true},
		{"Bearer hook-secret-0123456789", "hook-secret-0123456789", true},
		{"hook-secret-0123456789", "Bearer hook-secret-0123456789", true},
		{"hook-secret-0123456789", "bearer hook-secret-0123456789", true},
		{"hook-secret-0123456789", "Basic hook-secret-0123456789", false},
		{"hook-secret-0123456789", "Bearer hook-secret-012345678", false},
		{"hook-secret-0123456789", "", false},
	}
	for _, tt := range tests {
		sec, err := HookSecret(tt.configured)
		if err != nil {
			t.Fatal(err)
		}
		e := &Server{}
		r, _ := http.NewRequest("POST", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got := e.checkHookHeader(r, sec) == nil; got != tt.want {
			t.Errorf("secret %q, header %q: accepted %v, want %v", tt.configured, tt.header, got, tt.want)
		}
	}
}

// TestStalledUpload: an upload that stops sending is dropped after
// UploadIdle and frees its slot; nothing is queued.
func TestStalledUpload(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxUploads = 1; c.UploadIdle = 300 * time.Millisecond })
	pr, pw := io.Pipe()
	go pw.Write(make([]byte, 1024)) // a start, then silence
	defer pw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/analyses", pr)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/x-tar")
	start := time.Now()
	resp, err := e.ts.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("stalled upload: %d, want 408", resp.StatusCode)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stalled upload held for %s", d)
	}
	// The slot is free again.
	wantStatus(t, uploadTar(e, smallImage(t, "after-stall", false), ""), http.StatusAccepted)
	if n := depth(t, e.q); n != 1 {
		t.Errorf("depth %d, want 1", n)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	c := Credentials{Username: "ci", Password: "hunter2-very-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("submit", "credentials", c, "ptr", &c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprint(&c), buf.String()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "ci") {
			t.Errorf("credentials shown as %q", s)
		}
	}
}

// syncBuffer collects log lines written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsRedacted: tokens, hook secrets and registry passwords never
// reach the log, at any level, whatever the request did.
func TestLogsRedacted(t *testing.T) {
	var logs syncBuffer
	hub, _ := NewTokens("dockerhub-path-secret-0123")
	e := newEnv(t, func(c *Config) {
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Hooks.DockerHub = hub
	})
	digestRef := "registry.example.com/a/b@sha256:" + strings.Repeat("a", 64)
	wantStatus(t, e.postJSON("/v1/analyses", SubmitRequest{Image: digestRef, Credentials: &Credentials{Username: "ci", Password: "registry-password-xyz"}}), http.StatusAccepted)
	e.postJSON("/v1/analyses", map[string]any{"image": digestRef, "credentials": map[string]string{"username": "ci", "password": "registry-password-xyz"}, "bogus": 1})
	e.do(request{method: "GET", path: "/v1/analyses", header: map[string]string{"Authorization": "Bearer wrong-token-secret-999999"}})
	postHook(e, "/v1/hooks/dockerhub/dockerhub-path-secret-0123", "application/json", "", `{"push_data":{"tag":"1"},"repository":{"repo_name":"NOT VALID"}}`)
	out := logs.String()
	if !strings.Contains(out, "POST /v1/hooks/dockerhub/{secret}") {
		t.Fatalf("the log lacks the hook's request:\n%s", out)
	}
	for _, secret := range []string{testToken, "wrong-token-secret", "dockerhub-path-secret", "registry-password-xyz"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}
