package main

import (
	"context"
	"encoding/json"
	"github.com/sandscan/sandscan/internal/testservers"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/sandscan/sandscan/api"
)

const serveToken = "serve-test-token-0123456789"

// servedAPI is `sandscan serve` running in this process on a loopback
// port, with its own queue and store and the machine's runtime.
type servedAPI struct {
	url    string
	stderr *syncWriter
	stop   func() int
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs serve with a queue and a store of its own in a temp dir
// (the runtime stays the machine's).
func startServe(t testing.TB, extra ...string) servedAPI {
	t.Helper()
	return startServeIn(t, t.TempDir(), extra...)
}

// startServeIn runs serve on the queue and store kept in dir.
func startServeIn(t testing.TB, dir string, extra ...string) servedAPI {
	t.Helper()
	t.Setenv("SANDSCAN_TOKEN", serveToken)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	stderr := &syncWriter{}
	args := []string{"serve", "--listen", addr, "--queue-path", filepath.Join(dir, "queue.db"), "--store-path", filepath.Join(dir, "store")}
	go func() { done <- run(ctx, append(args, extra...), io.Discard, stderr) }()
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(time.Minute):
			t.Errorf("serve did not stop:\n%s", stderr.String())
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", stderr.String())
		}
	}
	return servedAPI{url: "http://" + addr, stderr: stderr, stop: stop}
}

func (s servedAPI) get(t testing.TB, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+serveToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestServeSubmitWait runs the service as users do: serve with one
// worker, submit an archive with --wait (exit status 2 for the miner),
// then status, report and a rescan through the API.
func TestServeSubmitWait(t *testing.T) {
	s := startServe(t, "--workers", "1")
	code, stdout, stderr := sandscan(t, "submit", "--server", s.url, "--wait", "../../testdata/images/miner.tar")
	if code != ExitMalicious {
		t.Fatalf("submit --wait exit %d, want %d: %s\n%s\nserve:\n%s", code, ExitMalicious, stdout, stderr, s.stderr.String())
	}
	fields := strings.Fields(stdout)
	if len(fields) < 5 || fields[1] != "done" || fields[3] != "malicious" || !strings.Contains(fields[5], "T1496") {
		t.Fatalf("submit output %q", stdout)
	}
	id := fields[0]

	code, stdout, _ = sandscan(t, "status", "--server", s.url, "--output", "json", id)
	var a api.Analysis
	if code != 0 || json.Unmarshal([]byte(stdout), &a) != nil || a.Status != "done" || a.Result.Verdict != "malicious" {
		t.Errorf("status: exit %d %s", code, stdout)
	}
	code, stdout, stderr = sandscan(t, "report", "--server", s.url, "--format", "sarif", id)
	if code != 0 || !strings.Contains(stdout, `"version": "2.1.0"`) {
		t.Errorf("report: exit %d %.300s %s", code, stdout, stderr)
	}
	// The same archive again: known, answered at once, same verdict.
	code, stdout, _ = sandscan(t, "submit", "--server", s.url, "--wait", "../../testdata/images/miner.tar")
	if code != ExitMalicious || !strings.HasPrefix(stdout, id+" ") {
		t.Errorf("resubmission: exit %d %q, want analysis %s", code, stdout, id)
	}
	// A reclassification of everything stored, through the API.
	code, stdout, stderr = sandscan(t, "rescan", "--server", s.url, "--token", serveToken, "--reclassify", "--wait", "--poll", "200ms")
	if code != 0 || !strings.Contains(stdout, "1 jobs, 1 done") {
		t.Errorf("rescan: exit %d %s %s", code, stdout, stderr)
	}
	var rs api.Rescan
	rid := ""
	if f := strings.Fields(stdout); len(f) > 1 { // "rescan ID (mode): ..."
		rid = f[1]
	}
	if st := s.get(t, "/v1/rescans/"+rid, &rs); st != 200 || rs.State != "done" || rs.Done != 1 || len(rs.Analyses) != 1 {
		t.Errorf("rescan %s: %d %+v", rid, st, rs)
	}
	var h api.VerdictHistory
	if st := s.get(t, "/v1/images/"+a.Digest+"/verdicts", &h); st != 200 || len(h.Verdicts) != 2 {
		t.Errorf("history after the rescan: %d %+v", st, h)
	}
	// The rescan's job is listed beside the first analysis, newest first.
	var l api.AnalysisList
	if st := s.get(t, "/v1/analyses", &l); st != 200 || len(l.Analyses) != 2 || l.Analyses[0].Reason != "rescan" ||
		l.Analyses[0].Mode != "reclassify" || l.Analyses[1].ID != id {
		t.Errorf("list after the rescan: %d %+v", st, l)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exit %d:\n%s", code, s.stderr.String())
	}
}

// TestServeRegistryWebhook is the webhook end to end: a Distribution
// registry notifies serve, skopeo pushes an image, and the verdict of
// that digest appears, with nothing but the webhook to trigger it.
func TestServeRegistryWebhook(t *testing.T) {
	s := startServe(t, "--workers", "1")
	reg := testservers.Registry(t, testservers.Notify(s.url+"/v1/hooks/distribution", "Bearer "+serveToken))
	dest := "docker://" + reg + "/team/app:1"
	out, err := exec.Command("skopeo", "copy", "--dest-tls-verify=false", "oci-archive:../../testdata/images/benign-batch.tar", dest).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	ref, _ := name.ParseReference(reg+"/team/app:1", name.Insecure)
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	digest := desc.Digest.String()
	var v api.Verdict
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if s.get(t, "/v1/images/"+digest+"/verdict", &v) == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verdict for %s after 3 minutes:\n%s", digest, s.stderr.String())
		}
	}
	if v.Verdict != "clean" {
		t.Errorf("benign-batch pushed to a registry: %+v", v)
	}
	var a api.Analysis
	if s.get(t, "/v1/analyses/"+v.Analysis, &a) != http.StatusOK || a.Reason != "webhook" || a.Repository != reg+"/team/app" {
		t.Errorf("analysis %+v", a)
	}
	// The same digest pushed again under another tag: analysed once.
	out, err = exec.Command("skopeo", "copy", "--dest-tls-verify=false", "oci-archive:../../testdata/images/benign-batch.tar", "docker://"+reg+"/team/app:2").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	time.Sleep(2 * time.Second) // the registry delivers within its backoff
	var l api.AnalysisList
	if s.get(t, "/v1/analyses", &l) != http.StatusOK || len(l.Analyses) != 1 {
		t.Errorf("after a second push of the same digest: %+v", l)
	}
}

// TestServeRestart: an analysis queued by an API-only server survives
// its restart and is finished by the next server, which has workers.
func TestServeRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServeIn(t, dir, "--no-workers")
	code, stdout, stderr := sandscan(t, "submit", "--server", s.url, "../../testdata/images/benign-batch.docker.tar")
	if code != 0 {
		t.Fatalf("submit: exit %d %s %s", code, stdout, stderr)
	}
	id := strings.Fields(stdout)[0]
	if code := s.stop(); code != 0 {
		t.Fatalf("serve --no-workers exit %d:\n%s", code, s.stderr.String())
	}
	s = startServeIn(t, dir, "--workers", "1")
	var a api.Analysis
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if s.get(t, "/v1/analyses/"+id, &a) == http.StatusOK && a.Status == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analysis %s after the restart: %+v\n%s", id, a, s.stderr.String())
		}
	}
	if a.Result == nil || a.Result.Verdict != "clean" {
		t.Errorf("benign-batch from a docker archive: %+v", a.Result)
	}
}

func TestServeFlags(t *testing.T) {
	t.Setenv("SANDSCAN_TOKEN", "")
	tests := []struct {
		args []string
		env  map[string]string
		msg  string
	}{
		{[]string{"serve"}, nil, "no API tokens"},
		{[]string{"serve"}, map[string]string{"SANDSCAN_TOKEN": "short"}, "at least 16"},
		{[]string{"serve", "--token-file", "/nonexistent"}, nil, "token file"},
		{[]string{"serve", "--hook-dockerhub-secret", "abc"}, map[string]string{"SANDSCAN_TOKEN": serveToken}, "--hook-dockerhub-secret"},
		{[]string{"serve", "--workers", "0"}, map[string]string{"SANDSCAN_TOKEN": serveToken}, "--workers"},
		{[]string{"serve", "extra"}, nil, "unexpected arguments"},
		{[]string{"submit"}, nil, "name one image"},
		{[]string{"submit", "x.tar"}, map[string]string{"SANDSCAN_SERVER": ""}, "no server"},
		{[]string{"status"}, nil, "name one analysis"},
		{[]string{"status", "--server", "ftp://x", "id"}, nil, "want http(s)"},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		code, _, stderr := sandscan(t, tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, ExitUsage, tt.msg)
		}
		for k := range tt.env {
			t.Setenv(k, "")
		}
	}
}
