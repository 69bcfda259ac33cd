package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/jetstream"
	"github.com/sandscan/sandscan/store/s3"
)

// TestJetStreamAndMinIO runs the API's happy path on the distributed
// backends: NATS JetStream as the queue, MinIO as the store.
func TestJetStreamAndMinIO(t *testing.T) {
	ctx := context.Background()
	ns := testservers.NATS(t)
	ms := testservers.MinIO(t)
	q, err := jetstream.Connect(ctx, ns.URL, jetstream.Config{Config: queue.Config{}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	st, err := s3.Open(ctx, s3.Config{Endpoint: ms.Endpoint, Bucket: "sandscan-api", AccessKey: ms.AccessKey, SecretKey: ms.SecretKey}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, q, st)
	path := smallImage(t, "distributed", false)

	r := uploadTar(e, path, "")
	wantStatus(t, r, http.StatusAccepted)
	var a Analysis
	r.json(t, &a)
	r = uploadTar(e, path, "")
	wantStatus(t, r, http.StatusOK)
	var again Analysis
	r.json(t, &again)
	if again.ID != a.ID {
		t.Errorf("JetStream dedupe: %s then %s", a.ID, again.ID)
	}

	e.finish(ctx, minerRun)
	r = e.get(a.Links.Self)
	wantStatus(t, r, http.StatusOK)
	var done Analysis
	r.json(t, &done)
	if done.Status != "done" || done.Result == nil || done.Result.Verdict != "malicious" {
		t.Fatalf("on JetStream and MinIO: %+v", done)
	}
	wantStatus(t, e.get(done.Links.Report+"?format=sarif"), http.StatusOK)
	wantStatus(t, e.get(done.Links.Verdict), http.StatusOK)
	wantStatus(t, e.get(a.Links.Self+"/artifacts/files/var/tmp/payload.sh"), http.StatusOK)
	r = e.get("/v1/analyses?verdict=malicious")
	wantStatus(t, r, http.StatusOK)
	var l AnalysisList
	r.json(t, &l)
	if len(l.Analyses) != 1 || l.Analyses[0].ID != a.ID {
		t.Errorf("list on MinIO: %+v", l)
	}
	wantStatus(t, e.do(request{method: "GET", path: "/readyz", header: map[string]string{"Authorization": ""}}), http.StatusOK)
}
