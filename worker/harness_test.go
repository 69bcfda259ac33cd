package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
	"github.com/sandscan/sandscan/worker"
)

// testQueueConfig: short leases so a dead worker's job comes back within
// a test, no backoff between retries.
var testQueueConfig = queue.Config{AckWait: 4 * time.Second, MaxDeliver: 3, Backoff: -1}

// testHeartbeat is well inside testQueueConfig.AckWait.
const testHeartbeat = time.Second

// openLocal opens an embedded queue and an fs store in a fresh dir.
func openLocal(t testing.TB) (queue.Queue, store.Store, worker.BackendConfig) {
	t.Helper()
	cfg := worker.BackendConfig{StateDir: t.TempDir(), QueueConfig: testQueueConfig}
	q, st, closeFn, err := worker.OpenBackends(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	return q, st, cfg
}

func openEmbedded(t *testing.T, cfg worker.BackendConfig) queue.Queue {
	t.Helper()
	q, err := embedded.Open(worker.DefaultQueuePath(cfg.StateDir), cfg.QueueConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func openFS(t *testing.T, cfg worker.BackendConfig) store.Store {
	t.Helper()
	st, err := fs.Open(worker.DefaultStorePath(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sample is a sample image's archive path.
func sample(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "testdata", "images", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample image missing (make testdata): %v", err)
	}
	return p
}

// storeArchive puts an image archive into the store under its digest,
// as the API does with an upload, and returns the digest and format.
func storeArchive(t testing.TB, st store.Store, path string) (string, string) {
	t.Helper()
	info, err := archive.InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.ImageKey(info.ManifestDigest)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := st.Put(context.Background(), key, f, -1); err != nil {
		t.Fatal(err)
	}
	format := analysis.FormatOCI
	if info.Format == archive.FormatDocker {
		format = analysis.FormatDocker
	}
	return info.ManifestDigest, format
}

// storedJob makes the job the API queues for an uploaded archive.
func storedJob(t testing.TB, digest, format, ref string, req analysis.Request) queue.Job {
	t.Helper()
	req.Source, req.Format, req.Ref = analysis.FromStore, format, ref
	p, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return queue.Job{Digest: digest, Image: ref, Reason: queue.ReasonAPI, Mode: queue.ModeDetonate, Payload: p}
}

func enqueue(t testing.TB, q queue.Queue, job queue.Job) queue.Job {
	t.Helper()
	j, existing, err := q.Enqueue(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if existing {
		t.Fatalf("job for %s already queued", job.Digest)
	}
	return j
}

// startWorkers runs worker.Run in the background; stop ends it and
// checks it returned cleanly.
func startWorkers(t testing.TB, cfg worker.Config) (stop func()) {
	t.Helper()
	if cfg.Sandbox == nil {
		_, cfg.Sandbox = testSandbox(t)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = testHeartbeat
	}
	if cfg.Log == nil {
		cfg.Log = testLog(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx, cfg) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker.Run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("worker.Run did not return a minute after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFinal polls a job's status until it is done, failed or dead.
func waitFinal(t testing.TB, q queue.Queue, id string, within time.Duration) queue.Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := q.Status(context.Background(), id)
		if err == nil && !s.State.Active() {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not finished after %v: %+v %v", id, within, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// workerResult is the result a job was acked with.
type workerResult struct {
	analysis.Result
	Digest          string `json:"digest"`
	RequestedDigest string `json:"requested_digest"`
}

func resultOf(t testing.TB, s queue.Status) workerResult {
	t.Helper()
	if s.State != queue.StateDone {
		t.Fatalf("job %s is %s (%s), want done", s.Job.ID, s.State, s.Error)
	}
	var r workerResult
	if err := json.Unmarshal(s.Result, &r); err != nil {
		t.Fatalf("result of %s: %v", s.Job.ID, err)
	}
	if _, ok, err := analysis.DecodeResult(s); !ok || err != nil {
		t.Fatalf("analysis.DecodeResult: %v %v", ok, err)
	}
	return r
}

// checkAnalysis checks that every object of a detonation is stored, and
// that the report names the analysis and the verdict.
func checkAnalysis(t testing.TB, st store.Store, id, digest, verdict string) {
	t.Helper()
	ctx := context.Background()
	for _, a := range store.Artifacts {
		k, _ := store.AnalysisKey(id, a)
		if _, err := st.Stat(ctx, k); err != nil {
			t.Errorf("analysis %s: %s: %v", id, a, err)
		}
	}
	var rep struct {
		Schema  string `json:"schema"`
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
		Image   struct {
			Digest string `json:"digest"`
		} `json:"image"`
	}
	k, _ := store.AnalysisKey(id, store.ArtifactReport)
	if err := store.GetJSON(ctx, st, k, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "sandscan.report/v1" || rep.ID != id || rep.Verdict != verdict || rep.Image.Digest != digest {
		t.Errorf("report of %s: %+v, want verdict %s of %s", id, rep, verdict, digest)
	}
	v, err := store.LatestVerdict(ctx, st, digest)
	if err != nil {
		t.Fatal(err)
	}
	if v.Analysis != id || v.Verdict != verdict {
		t.Errorf("latest verdict of %s: %+v, want %s by %s", digest, v, verdict, id)
	}
}

// containersOf lists the sandbox's containers whose owner label names
// process pid.
func containersOf(t testing.TB, sb *sandbox.Sandbox, pid int) []string {
	t.Helper()
	ctx := namespaced(sb)
	cs, err := sb.Client().Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil {
			continue
		}
		if owner := labels["io.sandscan.owner"]; strings.HasPrefix(owner, itoa(pid)+":") {
			ids = append(ids, c.ID())
		}
	}
	slices.Sort(ids)
	return ids
}

func namespaced(sb *sandbox.Sandbox) context.Context {
	return namespaces.WithNamespace(context.Background(), sb.Runtime().Namespace)
}

func itoa(n int) string { return strconv.Itoa(n) }

// testLog writes the workers' logs to the test's log.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
