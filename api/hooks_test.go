package api

import (
	"context"
	"github.com/sandscan/sandscan/internal/testservers"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
)

const hookSecret = "distribution-hook-secret-0123"

func hookEnv(t *testing.T) *env {
	dist, _ := HookSecret("Bearer " + hookSecret)
	harbor, _ := HookSecret("harbor-auth-header-0123456")
	hub, _ := NewTokens("dockerhub-path-secret-0123")
	return newEnv(t, func(c *Config) {
		c.Hooks = HookConfig{Distribution: dist, Harbor: harbor, DockerHub: hub}
	})
}

func postHook(e *env, path, ctype, auth, body string) response {
	e.t.Helper()
	return e.do(request{method: "POST", path: path, body: strings.NewReader(body),
		header: map[string]string{"Content-Type": ctype, "Authorization": auth}})
}

// TestHookDistribution: the configured header opens the hook; a manifest
// push is queued once, however often it is delivered; blob events and
// malformed bodies queue nothing.
func TestHookDistribution(t *testing.T) {
	e := hookEnv(t)
	d := "sha256:" + strings.Repeat("a", 64)
	body := distributionBody(t, "127.0.0.1:5000", "team/app", "1", d)
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"no header", "", 401},
		{"the API token is not the hook's secret", "Bearer " + testToken, 401},
		{"wrong secret", "Bearer not-the-hook-secret-000", 401},
	} {
		if r := postHook(e, "/v1/hooks/distribution", DistributionEventsV1, tc.auth, body); r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
	}
	for _, tc := range []struct{ name, ctype, body string }{
		{"not JSON", DistributionEventsV1, "{{"},
		{"not an envelope", "application/json", `{"type":"PUSH_ARTIFACT"}`},
		{"bad digest", DistributionEventsV2, strings.Replace(body, d, "sha256:zz", -1)},
	} {
		r := postHook(e, "/v1/hooks/distribution", tc.ctype, "Bearer "+hookSecret, tc.body)
		wantStatus(t, r, http.StatusBadRequest)
		r.problem(t)
	}
	r := postHook(e, "/v1/hooks/distribution", "text/plain", "Bearer "+hookSecret, body)
	wantStatus(t, r, http.StatusUnsupportedMediaType)
	if n := depth(t, e.q); n != 0 {
		t.Fatalf("refused deliveries queued %d jobs", n)
	}

	r = postHook(e, "/v1/hooks/distribution", DistributionEventsV1, "Bearer "+hookSecret, body)
	wantStatus(t, r, http.StatusAccepted)
	var res HookResult
	r.json(t, &res)
	if len(res.Analyses) != 1 || res.Ignored != 2 || res.Analyses[0].Digest != d {
		t.Fatalf("delivery: %+v", res)
	}
	st, err := e.q.Status(context.Background(), res.Analyses[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := analysis.DecodeRequest(st.Job)
	if st.Job.Reason != queue.ReasonWebhook || req.Source != analysis.FromRegistry ||
		req.Ref != "127.0.0.1:5000/team/app:1@"+d || req.Repository != "127.0.0.1:5000/team/app" {
		t.Errorf("queued %+v with %+v", st.Job, req)
	}
	// Delivered again (registries retry), or in the v3 envelope: the same analysis.
	r = postHook(e, "/v1/hooks/distribution", DistributionEventsV2, hookSecret, body)
	wantStatus(t, r, http.StatusOK)
	var again HookResult
	r.json(t, &again)
	if len(again.Analyses) != 1 || again.Analyses[0].ID != res.Analyses[0].ID || !again.Analyses[0].Existing {
		t.Errorf("redelivery: %+v", again)
	}
	// Only blobs: nothing to do, 200.
	blobs := `{"events":[{"action":"push","target":{"mediaType":"application/octet-stream","digest":"` + d + `","repository":"x"}}]}`
	r = postHook(e, "/v1/hooks/distribution", DistributionEventsV1, "Bearer "+hookSecret, blobs)
	wantStatus(t, r, http.StatusOK)
	if n := depth(t, e.q); n != 1 {
		t.Errorf("depth %d, want 1", n)
	}
	// Once analysed, a push of the digest answers with the finished analysis.
	e.finish(context.Background(), benignRun)
	r = postHook(e, "/v1/hooks/distribution", DistributionEventsV1, "Bearer "+hookSecret, distributionBody(t, "127.0.0.1:5000", "team/app", "2", d))
	wantStatus(t, r, http.StatusOK)
	r.json(t, &again)
	if again.Analyses[0].ID != res.Analyses[0].ID || again.Analyses[0].Status != "done" {
		t.Errorf("push of an analysed digest: %+v", again)
	}
	if n := depth(t, e.q); n != 0 {
		t.Errorf("depth %d after a push of an analysed digest", n)
	}
}

// TestHookWithAPIToken: a hook with no secret of its own takes the API
// tokens.
func TestHookWithAPIToken(t *testing.T) {
	e := newEnv(t)
	body := distributionBody(t, "127.0.0.1:5000", "a/b", "1", "sha256:"+strings.Repeat("e", 64))
	wantStatus(t, postHook(e, "/v1/hooks/distribution", DistributionEventsV1, "Bearer "+testToken, body), http.StatusAccepted)
	wantStatus(t, postHook(e, "/v1/hooks/harbor", "application/json", "Bearer "+testToken, harborDefaultPush), http.StatusAccepted)
	// No Docker Hub secret: that hook is shut.
	wantStatus(t, postHook(e, "/v1/hooks/dockerhub/anything", "application/json", "", dockerHubPush), http.StatusUnauthorized)
}

func TestHookHarbor(t *testing.T) {
	e := hookEnv(t)
	for _, tc := range []struct {
		name, auth, ctype, body string
		status                  int
		queued                  int
	}{
		{"no auth", "", "application/json", harborDefaultPush, 401, 0},
		{"bad auth", "harbor-auth-header-XXXXXXX", "application/json", harborDefaultPush, 401, 0},
		{"malformed", "harbor-auth-header-0123456", "application/json", `{"type":"PUSH_ARTIFACT","event_data":{}}`, 400, 0},
		{"pull ignored", "harbor-auth-header-0123456", "application/json", `{"type":"PULL_ARTIFACT","event_data":{}}`, 200, 0},
		{"default format", "harbor-auth-header-0123456", "application/json", harborDefaultPush, 202, 1},
		{"CloudEvents, Bearer-prefixed", "Bearer harbor-auth-header-0123456", "application/cloudevents+json", harborCloudPush, 202, 2},
		{"default format again", "harbor-auth-header-0123456", "application/json", harborDefaultPush, 200, 2},
	} {
		r := postHook(e, "/v1/hooks/harbor", tc.ctype, tc.auth, tc.body)
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.StatusCode, tc.status, r.body)
		}
		if n := depth(t, e.q); n != tc.queued {
			t.Errorf("%s: depth %d, want %d", tc.name, n, tc.queued)
		}
	}
}

// TestHookDockerHub resolves the pushed tag on a real registry standing
// in for Docker Hub (a mirror), so the job names the digest.
func TestHookDockerHub(t *testing.T) {
	reg := testservers.Registry(t)
	digest := pushArchive(t, smallImage(t, "hub", false), reg+"/team/app:1.0")
	hub, _ := NewTokens("dockerhub-path-secret-0123")
	e := newEnv(t, func(c *Config) { c.Hooks = HookConfig{DockerHub: hub, DockerHubRegistry: reg} })
	body := `{"push_data":{"tag":"1.0"},"repository":{"repo_name":"team/app"}}`
	wantStatus(t, postHook(e, "/v1/hooks/dockerhub/wrong-secret-0123456789", "application/json", "", body), http.StatusUnauthorized)
	r := postHook(e, "/v1/hooks/dockerhub/dockerhub-path-secret-0123", "application/json", "", body)
	wantStatus(t, r, http.StatusAccepted)
	var res HookResult
	r.json(t, &res)
	if len(res.Analyses) != 1 || res.Analyses[0].Digest != digest {
		t.Fatalf("got %+v, want digest %s", res, digest)
	}
	if strings.Contains(string(r.body), "dockerhub-path-secret") {
		t.Error("the hook's secret came back in the answer")
	}
	// A tag the registry does not have: 422, nothing queued.
	r = postHook(e, "/v1/hooks/dockerhub/dockerhub-path-secret-0123", "application/json", "",
		`{"push_data":{"tag":"nope"},"repository":{"repo_name":"team/app"}}`)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if n := depth(t, e.q); n != 1 {
		t.Errorf("depth %d, want 1", n)
	}
}

// TestSubmitByReference resolves a tag on a real registry at submission
// and pins the job to the digest; unknown tags and unreachable registries
// are told apart.
func TestSubmitByReference(t *testing.T) {
	reg := testservers.Registry(t)
	digest := pushArchive(t, smallImage(t, "ref", false), reg+"/team/ref:v1")
	e := newEnv(t)
	r := e.postJSON("/v1/analyses", SubmitRequest{Image: reg + "/team/ref:v1", Network: "none", Timeout: "45"})
	wantStatus(t, r, http.StatusAccepted)
	var a Analysis
	r.json(t, &a)
	st, _ := e.q.Status(context.Background(), a.ID)
	req, _ := analysis.DecodeRequest(st.Job)
	if a.Digest != digest || req.Ref != reg+"/team/ref:v1@"+digest || req.Timeout != 45*time.Second || req.Credentials != nil {
		t.Errorf("analysis %+v, request %+v", a, req)
	}
	r = e.postJSON("/v1/analyses", SubmitRequest{Image: reg + "/team/ref:v2"})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	r = e.postJSON("/v1/analyses", SubmitRequest{Image: freeLoopback(t) + "/team/ref:v1"})
	wantStatus(t, r, http.StatusBadGateway)
	if p := r.problem(t); p.Detail == "" {
		t.Error("502 without detail")
	}
}

// freeLoopback is a loopback address nothing listens on.
func freeLoopback(t *testing.T) string {
	ln := startListener(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
