package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/api"
	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
)

const token = "client-test-token-0123456789"

type server struct {
	url string
	q   queue.Queue
	st  store.Store
}

// newServer runs the real API over the embedded queue and fs store.
func newServer(t *testing.T, maxQueued int) server {
	t.Helper()
	dir := t.TempDir()
	q, err := embedded.Open(filepath.Join(dir, "q.db"), queue.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	st, err := fs.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := api.NewTokens(token)
	srv, err := api.New(api.Config{Queue: q, Store: st, Tokens: toks, MaxQueued: maxQueued, RetryAfter: time.Second,
		Log: slog.New(slog.DiscardHandler), UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return server{ts.URL, q, st}
}

func archive(t *testing.T, seed string) string {
	t.Helper()
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
		Name: seed, Files: []imagebuild.File{{Path: "/seed", Content: []byte(seed)}},
		Config: imagebuild.Config{Entrypoint: []string{"/seed"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), seed+".tar")
	if err := imagebuild.WriteOCIArchive(p, img, "client.test/"+seed+":1"); err != nil {
		t.Fatal(err)
	}
	return p
}

// ack finishes the next job as a worker does: report stored, result
// acked. It runs in goroutines, so it reports with Errorf.
func ack(t *testing.T, s server, verdict string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := s.q.Dequeue(ctx)
	if err != nil {
		t.Errorf("dequeue: %v", err)
		return
	}
	k, _ := store.AnalysisKey(l.Job().ID, store.ArtifactReport)
	rep := `{"schema":"sandscan.report/v1","id":"` + l.Job().ID + `","verdict":"` + verdict + `","score":0.9}`
	if err := s.st.Put(ctx, k, strings.NewReader(rep), int64(len(rep))); err != nil {
		t.Errorf("put report: %v", err)
	}
	res, _ := json.Marshal(analysis.Result{Verdict: verdict, Score: 0.9, Techniques: []string{"T1496"}, RunID: l.Job().ID})
	if err := l.Ack(ctx, res); err != nil {
		t.Errorf("ack: %v", err)
	}
}

func TestUploadWaitReport(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, 0)
	c, err := New(s.url, token)
	if err != nil {
		t.Fatal(err)
	}
	path := archive(t, "upload")
	var calls atomic.Int64
	var last atomic.Int64
	a, err := c.Upload(ctx, path, UploadOptions{Network: "none", Progress: func(sent, total int64) {
		calls.Add(1)
		last.Store(sent)
		if sent > total {
			t.Errorf("progress %d of %d", sent, total)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != "queued" || a.ID == "" || calls.Load() == 0 {
		t.Fatalf("upload: %+v, %d progress calls", a, calls.Load())
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		ack(t, s, "malicious")
	}()
	var polls int
	done, err := c.Wait(ctx, a.ID, WaitOptions{First: 50 * time.Millisecond, OnPoll: func(api.Analysis) { polls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "done" || done.Result == nil || done.Result.Verdict != "malicious" || polls < 2 {
		t.Errorf("waited: %+v (%d polls)", done, polls)
	}
	var buf bytes.Buffer
	if err := c.Report(ctx, a.ID, "json", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"verdict":"malicious"`) {
		t.Errorf("report %s", buf.String())
	}
	l, err := c.List(ctx, nil)
	if err != nil || len(l.Analyses) != 1 || l.Analyses[0].ID != a.ID {
		t.Errorf("list %+v %v", l, err)
	}
}

func TestSubmitByDigest(t *testing.T) {
	s := newServer(t, 0)
	c, _ := New(s.url+"/", token)
	ref := "registry.example.com/team/app@sha256:" + strings.Repeat("d", 64)
	a, err := c.Submit(context.Background(), api.SubmitRequest{Image: ref, Credentials: &api.Credentials{Username: "u", Password: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.q.Status(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, err := analysis.DecodeRequest(st.Job)
	if err != nil {
		t.Fatal(err)
	}
	if req.Ref != ref || req.Credentials == nil || req.Credentials.Password != "p" || req.Repository != "registry.example.com/team/app" {
		t.Errorf("queued %+v", req)
	}
	if a.Digest != "sha256:"+strings.Repeat("d", 64) {
		t.Errorf("digest %s", a.Digest)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, 1)
	tests := []struct {
		name   string
		token  string
		call   func(c *Client) error
		status int
	}{
		{"unknown analysis", token, func(c *Client) error { _, err := c.Analysis(ctx, "nosuch"); return err }, 404},
		{"bad token", "wrong-token-000000000000", func(c *Client) error { _, err := c.Analysis(ctx, "x"); return err }, 401},
		{"bad report format", token, func(c *Client) error { return c.Report(ctx, "x", "pdf", io.Discard) }, 400},
		{"unknown verdict", token, func(c *Client) error { _, err := c.Verdict(ctx, "sha256:"+strings.Repeat("0", 64)); return err }, 404},
		{"bad upload", token, func(c *Client) error {
			_, err := c.Upload(ctx, "client.go", UploadOptions{})
			return err
		}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := New(s.url, tt.token)
			err := tt.call(c)
			if !IsStatus(err, tt.status) {
				t.Fatalf("error %v, want status %d", err, tt.status)
			}
			var e *Error
			if !asError(err, &e) || e.Problem.Detail == "" || !strings.Contains(err.Error(), e.Problem.Detail) {
				t.Errorf("error %#v lacks the problem's detail", err)
			}
		})
	}
	if _, err := New("ftp://x", token); err == nil {
		t.Error("an ftp server was accepted")
	}
}

// TestBusy: with the queue full, 429 comes back with its Retry-After, and
// WithBusyRetries waits it out once a worker takes the job in the way.
func TestBusy(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, 1)
	c, _ := New(s.url, token)
	if _, err := c.Upload(ctx, archive(t, "first"), UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	second := archive(t, "second")
	_, err := c.Upload(ctx, second, UploadOptions{})
	var e *Error
	if !asError(err, &e) || e.StatusCode != http.StatusTooManyRequests || e.RetryAfter != time.Second {
		t.Fatalf("over the limit: %v", err)
	}
	go func() {
		time.Sleep(500 * time.Millisecond)
		ack(t, s, "clean")
	}()
	patient, _ := New(s.url, token, WithBusyRetries(5, 2*time.Second))
	a, err := patient.Upload(ctx, second, UploadOptions{})
	if err != nil || a.Status != "queued" {
		t.Fatalf("with retries: %+v %v", a, err)
	}
}

func asError(err error, e **Error) bool {
	var x *Error
	ok := err != nil && errorsAs(err, &x)
	*e = x
	return ok
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }
