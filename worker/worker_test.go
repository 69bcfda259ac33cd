package worker_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/trace"
	"github.com/sandscan/sandscan/worker"
)

// TestDetonateAndReclassify runs a stored sample image through a worker,
// then reclassifies its run: two analyses, two verdicts in the history.
func TestDetonateAndReclassify(t *testing.T) {
	q, st, _ := openLocal(t)
	ctx := t.Context()
	digest, format := storeArchive(t, st, sample(t, "miner.tar"))
	reg := prometheus.NewRegistry()
	startWorkers(t, worker.Config{Queue: q, Store: st, Registry: reg})

	job := enqueue(t, q, storedJob(t, digest, format, "sandscan.test/miner:latest", analysis.Request{Repository: "sandscan.test/miner"}))
	res := resultOf(t, waitFinal(t, q, job.ID, 2*time.Minute))
	if res.Verdict != "malicious" || res.RunID != job.ID || res.Digest != digest || res.RequestedDigest != "" {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(strings.Join(res.Techniques, ","), "T1496") {
		t.Errorf("techniques %v, want T1496 among them", res.Techniques)
	}
	checkAnalysis(t, st, job.ID, digest, "malicious")
	k, _ := store.AnalysisKey(job.ID, store.ArtifactRun)
	rc, err := store.GetGzip(ctx, st, k)
	if err != nil {
		t.Fatal(err)
	}
	run, err := trace.Decode(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != job.ID || run.Image.Digest != digest || run.Image.Ref != "sandscan.test/miner:latest" || len(run.Events) == 0 {
		t.Errorf("stored run: id %s digest %s ref %s, %d events", run.ID, run.Image.Digest, run.Image.Ref, len(run.Events))
	}
	mk, _ := worker.ImageMetaKey(digest)
	var meta worker.ImageMeta
	if err := store.GetJSON(ctx, st, mk, &meta); err != nil || meta.Format != format || meta.Repository != "sandscan.test/miner" {
		t.Errorf("image metadata %+v, %v", meta, err)
	}

	p, _ := analysis.Request{Source: analysis.FromStore}.Encode()
	re := enqueue(t, q, queue.Job{Digest: digest, Reason: queue.ReasonRescan, Mode: queue.ModeReclassify, Payload: p})
	rres := resultOf(t, waitFinal(t, q, re.ID, time.Minute))
	if rres.Verdict != "malicious" || rres.RunID != job.ID {
		t.Errorf("reclassify result %+v, want malicious from run %s", rres, job.ID)
	}
	checkAnalysis(t, st, re.ID, digest, "malicious")
	hist, err := store.VerdictHistory(ctx, st, digest, "", 10)
	if err != nil || len(hist) != 2 || hist[0].Analysis != job.ID || hist[1].Analysis != re.ID {
		t.Errorf("history %+v, %v; want %s then %s", hist, err, job.ID, re.ID)
	}
	for _, mode := range []string{"detonate", "reclassify"} {
		if got := metricValue(t, reg, worker.MetricAnalyses, map[string]string{"verdict": "malicious", "mode": mode}); got != 1 {
			t.Errorf("%s analyses counted %v, want 1", mode, got)
		}
	}

	// A run of another image, named explicitly, is refused.
	other, _ := storeArchive(t, st, sample(t, "busybox-script.tar"))
	p, _ = analysis.Request{Source: analysis.FromStore, RunID: job.ID}.Encode()
	bad := enqueue(t, q, queue.Job{Digest: other, Reason: queue.ReasonAPI, Mode: queue.ModeReclassify, Payload: p})
	if s := waitFinal(t, q, bad.ID, time.Minute); s.State != queue.StateFailed || !strings.Contains(s.Error, "not "+other) {
		t.Errorf("reclassify of another image's run: %s %q", s.State, s.Error)
	}
}

// metricValue reads one series of a registered counter by its labels
// (0 when absent).
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestBadImage: an archive that is no image fails its job at once, with
// the reason, and is not delivered again.
func TestBadImage(t *testing.T) {
	q, st, _ := openLocal(t)
	ctx := t.Context()
	digest := "sha256:" + strings.Repeat("ab", 32)
	key, _ := store.ImageKey(digest)
	if err := st.Put(ctx, key, bytes.NewReader([]byte("not a tar at all")), -1); err != nil {
		t.Fatal(err)
	}
	missing := "sha256:" + strings.Repeat("cd", 32)
	startWorkers(t, worker.Config{Queue: q, Store: st})
	bad := enqueue(t, q, storedJob(t, digest, analysis.FormatOCI, "bad", analysis.Request{}))
	gone := enqueue(t, q, storedJob(t, missing, analysis.FormatOCI, "gone", analysis.Request{}))
	p, _ := analysis.Request{Source: analysis.FromRegistry, Ref: "oci-archive:/etc/passwd"}.Encode()
	local := enqueue(t, q, queue.Job{Digest: testDigest("local"), Reason: queue.ReasonAPI, Mode: queue.ModeDetonate, Payload: p})
	for _, tt := range []struct {
		id, why string
	}{{bad.ID, "archive"}, {gone.ID, "no stored image"}, {local.ID, "not a registry reference"}} {
		s := waitFinal(t, q, tt.id, time.Minute)
		if s.State != queue.StateFailed || s.Job.Attempts != 1 || !strings.Contains(s.Error, tt.why) {
			t.Errorf("job %s: %s after %d attempts: %q; want failed once with %q", tt.id, s.State, s.Job.Attempts, s.Error, tt.why)
		}
	}
	if v, err := store.LatestVerdict(ctx, st, digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a verdict for a bad image: %+v %v", v, err)
	}
}

// TestStopNacks: a job in hand when the workers stop (no grace) goes back
// to the queue and completes under the next worker.
func TestStopNacks(t *testing.T) {
	q, st, _ := openLocal(t)
	digest, format := storeArchive(t, st, sample(t, "sleeper.tar"))
	job := enqueue(t, q, storedJob(t, digest, format, "sleeper", analysis.Request{Timeout: 4 * time.Second}))
	log := &lineLog{want: `msg="job started"`, seen: make(chan struct{}, 4)}
	stop := startWorkers(t, worker.Config{Queue: q, Store: st, Log: log.logger(t)})
	select {
	case <-log.seen:
	case <-time.After(time.Minute):
		t.Fatal("the job did not start")
	}
	time.Sleep(time.Second)
	stop()
	s, err := q.Status(t.Context(), job.ID)
	if err != nil || s.State != queue.StateQueued || !strings.Contains(s.Error, "cancel") {
		t.Fatalf("after stop: %+v %v; want queued again with the cause", s, err)
	}
	startWorkers(t, worker.Config{Queue: q, Store: st})
	r := resultOf(t, waitFinal(t, q, job.ID, time.Minute))
	if r.Verdict == "" {
		t.Errorf("result %+v", r)
	}
	if s := waitFinal(t, q, job.ID, time.Second); s.Job.Attempts != 2 {
		t.Errorf("attempts %d, want 2", s.Job.Attempts)
	}
}

// TestDockerArchive: a stored docker archive is imported as one.
func TestDockerArchive(t *testing.T) {
	q, st, _ := openLocal(t)
	digest, format := storeArchive(t, st, sample(t, "benign-batch.docker.tar"))
	if format != analysis.FormatDocker {
		t.Fatalf("format %s", format)
	}
	startWorkers(t, worker.Config{Queue: q, Store: st})
	job := enqueue(t, q, storedJob(t, digest, format, "benign-batch", analysis.Request{}))
	r := resultOf(t, waitFinal(t, q, job.ID, 2*time.Minute))
	if r.Verdict != "clean" {
		t.Errorf("verdict %s, want clean", r.Verdict)
	}
	checkAnalysis(t, st, job.ID, digest, "clean")
	// The batch job writes /var/tmp/result.txt: the diff has it, with content.
	k, _ := store.DroppedFileKey(job.ID, "/var/tmp/result.txt")
	if _, err := st.Stat(t.Context(), k); err != nil {
		t.Errorf("dropped file: %v", err)
	}
	fk, _ := store.AnalysisKey(job.ID, store.ArtifactFSDiff)
	rc, _, err := st.Get(t.Context(), fk)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if names := tarNames(t, rc); !slices.Contains(names, "var/tmp/result.txt") {
		t.Errorf("fsdiff.tar holds %v", names)
	}
}

func tarNames(t testing.TB, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("fsdiff.tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

func testDigest(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(h[:])
}

// lineLog is a test logger that also signals each line holding want.
type lineLog struct {
	want string
	seen chan struct{}
}

func (l *lineLog) logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(lineWriter{l, t}, nil))
}

type lineWriter struct {
	l *lineLog
	t testing.TB
}

func (w lineWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	if bytes.Contains(p, []byte(w.l.want)) {
		select {
		case w.l.seen <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// TestSameNameConcurrently: distinct images under one name (a tag pushed
// again, uploads of one app:latest) analysed at once. containerd keeps
// one image record per name, so each import replaces the previous one;
// the worker's lease must keep each job's content until it is done.
func TestSameNameConcurrently(t *testing.T) {
	q, st, _ := openLocal(t)
	dir := t.TempDir()
	var ids []string
	for i := range 24 {
		img, err := imagebuild.Build(t.Context(), imagebuild.Spec{
			Name:  "same",
			Files: imagebuild.BusyboxBase("/bin/busybox"),
			Config: imagebuild.Config{
				Entrypoint: []string{"/bin/sh", "-c", "cat /etc/hostname"},
				Env:        []string{"PATH=/bin", fmt.Sprintf("N=%d", i)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%d.tar", i))
		if err := imagebuild.WriteOCIArchive(p, img, "same/name:latest"); err != nil {
			t.Fatal(err)
		}
		d, f := storeArchive(t, st, p)
		ids = append(ids, enqueue(t, q, storedJob(t, d, f, "same/name:latest", analysis.Request{})).ID)
	}
	startWorkers(t, worker.Config{Queue: q, Store: st, Workers: 3})
	for _, id := range ids {
		if r := resultOf(t, waitFinal(t, q, id, 2*time.Minute)); r.Verdict != "clean" {
			t.Errorf("job %s: verdict %s", id, r.Verdict)
		}
	}
}
