package storetest

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/sandscan/sandscan/store"
)

func testGzip(t *testing.T, s store.Store) {
	key, err := store.AnalysisKey("run1", store.ArtifactRun)
	if err != nil {
		t.Fatal(err)
	}
	run := bytes.Repeat([]byte(`{"kind":"exec","argv":["/bin/sh","-c","id"]}`+"\n"), 20000)
	if err := store.PutGzip(t.Context(), s, key, bytes.NewReader(run)); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size <= 0 || info.Size >= int64(len(run))/10 {
		t.Fatalf("compressed run of %d bytes from %d", info.Size, len(run))
	}
	rc, err := store.GetGzip(t.Context(), s, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, run) {
		t.Fatalf("decompressed %d bytes (err %v), want %d", len(got), err, len(run))
	}
	// A failing source fails the put and stores nothing.
	bad := io.MultiReader(bytes.NewReader(run[:1000]), &failingReader{err: errors.New("source died")})
	if err := store.PutGzip(t.Context(), s, "analyses/run2/run.json.gz", bad); err == nil {
		t.Fatal("gzip put from a failing source succeeded")
	}
	if _, err := s.Stat(t.Context(), "analyses/run2/run.json.gz"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed gzip put left an object: %v", err)
	}
	put(t, s, "plain", []byte("not gzip"))
	if _, err := store.GetGzip(t.Context(), s, "plain"); err == nil {
		t.Fatal("GetGzip of plain bytes succeeded")
	}
}

func testJSON(t *testing.T, s store.Store) {
	type doc struct {
		Schema string   `json:"schema"`
		Items  []string `json:"items"`
	}
	in := doc{"sandscan.report/v1", []string{"T1496", "T1053.003"}}
	if err := store.PutJSON(t.Context(), s, "analyses/j/report.json", in); err != nil {
		t.Fatal(err)
	}
	var out doc
	if err := store.GetJSON(t.Context(), s, "analyses/j/report.json", &out); err != nil {
		t.Fatal(err)
	}
	if out.Schema != in.Schema || !slices.Equal(out.Items, in.Items) {
		t.Fatalf("got %+v", out)
	}
	if err := store.GetJSON(t.Context(), s, "analyses/j/missing.json", &out); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing JSON: %v", err)
	}
	put(t, s, "analyses/j/broken.json", []byte("{"))
	if err := store.GetJSON(t.Context(), s, "analyses/j/broken.json", &out); err == nil {
		t.Fatal("decoding broken JSON succeeded")
	}
}

func testVerdicts(t *testing.T, s store.Store) {
	digest := "sha256:" + string(bytes.Repeat([]byte("ab"), 32))
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if _, err := store.LatestVerdict(t.Context(), s, digest); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("latest verdict of a new image: %v", err)
	}
	vs := []store.Verdict{
		{Digest: digest, Analysis: "first", Verdict: "clean", Score: 0.1, Time: t0},
		{Digest: digest, Analysis: "third", Verdict: "malicious", Score: 0.95, Techniques: []string{"T1496"}, Time: t0.Add(2 * time.Hour)},
		// Finishes last, but ran before "third": history yes, latest no.
		{Digest: digest, Analysis: "second", Verdict: "suspicious", Score: 0.5, Time: t0.Add(time.Hour)},
	}
	for _, v := range vs {
		if err := store.PutVerdict(t.Context(), s, v); err != nil {
			t.Fatal(err)
		}
	}
	latest, err := store.LatestVerdict(t.Context(), s, digest)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Analysis != "third" || latest.Verdict != "malicious" || !slices.Equal(latest.Techniques, []string{"T1496"}) {
		t.Fatalf("latest %+v, want the analysis \"third\"", latest)
	}
	hist, err := store.VerdictHistory(t.Context(), s, digest, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, v := range hist {
		order = append(order, v.Analysis)
	}
	if !slices.Equal(order, []string{"first", "second", "third"}) {
		t.Fatalf("history %q, want oldest first", order)
	}
	next, _ := store.VerdictHistoryKey(digest, hist[0].Time, hist[0].Analysis)
	if rest, err := store.VerdictHistory(t.Context(), s, digest, next, 1); err != nil || len(rest) != 1 || rest[0].Analysis != "second" {
		t.Fatalf("history page after the first: %+v %v", rest, err)
	}
	if err := store.PutVerdict(t.Context(), s, store.Verdict{Digest: digest, Analysis: "x", Verdict: "fine", Time: t0}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown verdict word: %v", err)
	}
}
