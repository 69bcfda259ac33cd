package worker_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/s3"
	"github.com/sandscan/sandscan/worker"
)

// pushImage builds a small busybox image running script and pushes it
// to ref; it returns the image's digest.
func pushImage(t *testing.T, ref, script string) string {
	t.Helper()
	img, err := imagebuild.Build(t.Context(), imagebuild.Spec{
		Name:  "pushed",
		Files: imagebuild.BusyboxBase("/bin/busybox"),
		Config: imagebuild.Config{
			Entrypoint: []string{"/bin/sh", "-c", script},
			Env:        []string{"PATH=/bin"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return testservers.Push(t, ref, img)
}

func registryJob(t testing.TB, digest, ref string) queue.Job {
	t.Helper()
	p, err := analysis.Request{Source: analysis.FromRegistry, Ref: ref}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return queue.Job{Digest: digest, Image: ref, Reason: queue.ReasonWebhook, Mode: queue.ModeDetonate, Payload: p}
}

// TestRegistryImage pulls a pushed image by reference: the analysis runs
// and a copy of the image lands in the store, from which a redetonation
// needs no registry. A tag that moved after submission is analysed as
// pulled, and the result says so.
func TestRegistryImage(t *testing.T) {
	q, st, _ := openLocal(t)
	ctx := t.Context()
	addr := testservers.Registry(t)
	ref := addr + "/team/app:v1"
	digest := pushImage(t, ref, "echo pulled > /var/tmp/marker")
	startWorkers(t, worker.Config{Queue: q, Store: st})

	job := enqueue(t, q, registryJob(t, digest, ref))
	r := resultOf(t, waitFinal(t, q, job.ID, 2*time.Minute))
	if r.Digest != digest || r.RequestedDigest != "" {
		t.Errorf("result digests %s / %q, want %s", r.Digest, r.RequestedDigest, digest)
	}
	checkAnalysis(t, st, job.ID, digest, r.Verdict)
	key, _ := store.ImageKey(digest)
	path := filepath.Join(t.TempDir(), "kept.tar")
	copyOut(t, st, key, path)
	info, err := archive.InspectFile(path)
	if err != nil || info.ManifestDigest != digest {
		t.Fatalf("kept archive: %+v %v; want the image %s", info, err, digest)
	}
	mk, _ := worker.ImageMetaKey(digest)
	var meta worker.ImageMeta
	if err := store.GetJSON(ctx, st, mk, &meta); err != nil || meta.Repository != addr+"/team/app" || meta.Format != analysis.FormatOCI {
		t.Errorf("image metadata %+v %v", meta, err)
	}

	// The tag moves to another image after the job named the first.
	moved := pushImage(t, ref, "echo moved > /var/tmp/marker")
	late := enqueue(t, q, registryJob(t, testDigest("the digest the webhook saw"), ref))
	lr := resultOf(t, waitFinal(t, q, late.ID, 2*time.Minute))
	if lr.Digest != moved || lr.RequestedDigest != late.Digest {
		t.Errorf("moved tag: result digests %s / %s, want %s / %s", lr.Digest, lr.RequestedDigest, moved, late.Digest)
	}
	if v, err := store.LatestVerdict(ctx, st, moved); err != nil || v.Analysis != late.ID {
		t.Errorf("verdict of the pulled digest: %+v %v", v, err)
	}

	// A missing image fails for good; an unreachable registry is retried.
	gone := enqueue(t, q, registryJob(t, testDigest("gone"), addr+"/team/missing:v1"))
	if s := waitFinal(t, q, gone.ID, time.Minute); s.State != queue.StateFailed || s.Job.Attempts != 1 {
		t.Errorf("missing image: %s after %d attempts (%s)", s.State, s.Job.Attempts, s.Error)
	}
	down := enqueue(t, q, registryJob(t, testDigest("down"), closedPort(t)+"/team/app:v1"))
	if s := waitFinal(t, q, down.ID, time.Minute); s.State != queue.StateDead || s.Job.Attempts != testQueueConfig.MaxDeliver {
		t.Errorf("unreachable registry: %s after %d attempts (%s); want dead after %d", s.State, s.Job.Attempts, s.Error, testQueueConfig.MaxDeliver)
	}
}

// closedPort is a loopback host:port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func copyOut(t testing.TB, st store.Store, key, path string) {
	t.Helper()
	rc, _, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
}

// testWorkerKilled SIGKILLs a worker process in the middle of a run: the
// job is delivered again and completed by another worker (this process),
// the job queued behind it is not lost, and the dead worker's container
// is removed. open opens the backends in this process; shared says they
// admit two processes at once (NATS), so the second worker runs while the
// first is killed rather than after.
func testWorkerKilled(t *testing.T, backends worker.BackendConfig, shared bool) {
	_, sb := testSandbox(t)
	ctx := t.Context()
	q, st, closeFn, err := worker.OpenBackends(ctx, backends)
	if err != nil {
		t.Fatal(err)
	}
	digest, format := storeArchive(t, st, sample(t, "sleeper.tar"))
	d2, f2 := storeArchive(t, st, sample(t, "busybox-script.tar"))
	first := enqueue(t, q, storedJob(t, digest, format, "sleeper", analysis.Request{Timeout: 5 * time.Second}))
	second := enqueue(t, q, storedJob(t, d2, f2, "busybox-script", analysis.Request{}))
	if !shared {
		closeFn() // the embedded file admits one process at a time
	} else {
		t.Cleanup(func() { closeFn() })
	}

	child, started := startChild(t, childSpec{Backends: backends, Heartbeat: testHeartbeat})
	select {
	case id := <-started:
		if id != first.ID {
			t.Fatalf("child started %s, want %s", id, first.ID)
		}
	case <-time.After(time.Minute):
		t.Fatal("child started no job")
	}
	// Mid-run: the child's container exists.
	deadline := time.Now().Add(30 * time.Second)
	for len(containersOf(t, sb, child.Process.Pid)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the child's run never got a container")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stop func()
	if shared {
		stop = startWorkers(t, worker.Config{Queue: q, Store: st})
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if !shared {
		q, st, closeFn, err = worker.OpenBackends(ctx, backends)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeFn() })
		stop = startWorkers(t, worker.Config{Queue: q, Store: st})
	}

	s1 := waitFinal(t, q, first.ID, 2*time.Minute)
	r1 := resultOf(t, s1)
	if s1.Job.Attempts != 2 || r1.Verdict != "clean" {
		t.Errorf("killed job: %d attempts, verdict %s; want 2 and clean", s1.Job.Attempts, r1.Verdict)
	}
	r2 := resultOf(t, waitFinal(t, q, second.ID, 2*time.Minute))
	if r2.Verdict != "malicious" {
		t.Errorf("queued job: verdict %s, want malicious", r2.Verdict)
	}
	checkAnalysis(t, st, first.ID, digest, "clean")
	checkAnalysis(t, st, second.ID, d2, "malicious")
	stop()
	if left := containersOf(t, sb, child.Process.Pid); len(left) > 0 {
		t.Errorf("the dead worker's containers are left: %v", left)
	}
}

func TestWorkerKilledEmbedded(t *testing.T) {
	testWorkerKilled(t, worker.BackendConfig{StateDir: t.TempDir(), QueueConfig: testQueueConfig}, false)
}

func TestWorkerKilledNATS(t *testing.T) {
	srv := testservers.NATS(t)
	testWorkerKilled(t, worker.BackendConfig{
		StateDir: t.TempDir(), QueueConfig: testQueueConfig, Queue: worker.QueueNATS, NATSURL: srv.URL,
	}, true)
}

// TestStoreOutage stops MinIO while a job runs and starts it again a few
// seconds later: the worker keeps its lease and the result lands, on the
// first delivery.
func TestStoreOutage(t *testing.T) {
	_, sb := testSandbox(t)
	srv := testservers.MinIO(t)
	ctx := t.Context()
	backends := worker.BackendConfig{
		StateDir: t.TempDir(), QueueConfig: testQueueConfig, Store: worker.StoreS3,
		S3: s3.Config{Endpoint: srv.Endpoint, Bucket: "outage", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey},
	}
	q, st, closeFn, err := worker.OpenBackends(ctx, backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	digest, format := storeArchive(t, st, sample(t, "sleeper.tar"))
	job := enqueue(t, q, storedJob(t, digest, format, "sleeper", analysis.Request{Timeout: 3 * time.Second}))
	startWorkers(t, worker.Config{Queue: q, Store: st})

	deadline := time.Now().Add(time.Minute)
	for len(containersOf(t, sb, os.Getpid())) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the run never got a container")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Stop()
	// Longer than the run and than the queue's ack wait: only heartbeats
	// keep the job this worker's.
	time.Sleep(testQueueConfig.AckWait + 3*time.Second)
	if s, err := q.Status(ctx, job.ID); err != nil || s.State != queue.StateRunning || s.Job.Attempts != 1 {
		t.Fatalf("while MinIO is down: %+v %v; want running, first attempt", s, err)
	}
	srv.Start(t)
	s := waitFinal(t, q, job.ID, 2*time.Minute)
	if r := resultOf(t, s); r.Verdict != "clean" || s.Job.Attempts != 1 {
		t.Errorf("after the outage: verdict %s, %d attempts", r.Verdict, s.Job.Attempts)
	}
	checkAnalysis(t, st, job.ID, digest, "clean")
}

// TestRescan: three analysed images, rescanned twice (redetonated, then
// reclassified): every job done, the latest verdicts are the rescans',
// and the history keeps all three.
func TestRescan(t *testing.T) {
	q, st, _ := openLocal(t)
	ctx := t.Context()
	startWorkers(t, worker.Config{Queue: q, Store: st, Workers: 2})
	want := map[string]string{}
	var first []string
	for _, tt := range []struct{ name, verdict, repo string }{
		{"busybox-script.tar", "malicious", "reg.example/team/stager"},
		{"benign-batch.tar", "clean", "reg.example/team/batch"},
		{"recon.tar", "suspicious", "reg.example/other/recon"},
	} {
		d, f := storeArchive(t, st, sample(t, tt.name))
		want[d] = tt.verdict
		j := enqueue(t, q, storedJob(t, d, f, tt.name, analysis.Request{Repository: tt.repo}))
		first = append(first, j.ID)
	}
	for _, id := range first {
		resultOf(t, waitFinal(t, q, id, 2*time.Minute))
	}

	for round, mode := range []queue.Mode{queue.ModeDetonate, queue.ModeReclassify} {
		rs, err := worker.Rescan(ctx, q, st, worker.RescanOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Jobs) != 3 || rs.Skipped != 0 {
			t.Fatalf("%s rescan: %+v", mode, rs)
		}
		for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
			p, err := worker.RescanProgress(ctx, q, st, rs.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Progress.Finished {
				if p.Progress.Done != 3 || p.Progress.Total != 3 {
					t.Fatalf("%s rescan finished with %+v", mode, *p.Progress)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s rescan unfinished: %+v", mode, *p.Progress)
			}
		}
		for _, j := range rs.Jobs {
			v, err := store.LatestVerdict(ctx, st, j.Digest)
			if err != nil || v.Analysis != j.ID || v.Verdict != want[j.Digest] {
				t.Errorf("%s rescan: latest verdict of %s: %+v %v; want %s by %s", mode, j.Digest, v, err, want[j.Digest], j.ID)
			}
			hist, err := store.VerdictHistory(ctx, st, j.Digest, "", 10)
			if err != nil || len(hist) != round+2 {
				t.Errorf("%s rescan: history of %s has %d verdicts (%v), want %d", mode, j.Digest, len(hist), err, round+2)
			}
		}
	}

	// Filters: by repository prefix, by verdict, by digest.
	for _, tt := range []struct {
		filter worker.RescanFilter
		n      int
	}{
		{worker.RescanFilter{Repository: "reg.example/team/"}, 2},
		{worker.RescanFilter{Verdict: "malicious"}, 1},
		{worker.RescanFilter{Verdict: "clean", Repository: "reg.example/other/"}, 0},
		{worker.RescanFilter{Digests: []string{storedDigest(t, "recon.tar")}}, 1},
	} {
		rs, err := worker.Rescan(ctx, q, st, worker.RescanOptions{Mode: queue.ModeReclassify, Filter: tt.filter})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Jobs) != tt.n {
			t.Errorf("filter %+v queued %d jobs, want %d", tt.filter, len(rs.Jobs), tt.n)
		}
		for _, j := range rs.Jobs {
			waitFinal(t, q, j.ID, time.Minute)
		}
	}
	if _, err := worker.RescanProgress(ctx, q, st, "no-such-rescan"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown rescan: %v", err)
	}
}

func storedDigest(t testing.TB, name string) string {
	info, err := archive.InspectFile(sample(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return info.ManifestDigest
}
