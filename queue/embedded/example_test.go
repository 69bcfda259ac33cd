package embedded_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
)

// A submitter queues an image's digest; a worker takes the job, keeps its
// lease alive while the sandbox runs, and acks it with a summary.
func Example() {
	dir, _ := os.MkdirTemp("", "queue-example")
	defer os.RemoveAll(dir)
	q, err := embedded.Open(filepath.Join(dir, "queue.db"), queue.Config{AckWait: time.Minute}, nil)
	if err != nil {
		panic(err)
	}
	defer q.Close()
	ctx := context.Background()

	job := queue.Job{
		Digest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		Image:  "oci-archive:/srv/uploads/app.tar",
		Reason: queue.ReasonAPI,
		Mode:   queue.ModeDetonate,
	}
	first, _, _ := q.Enqueue(ctx, job)
	again, existing, _ := q.Enqueue(ctx, job) // the same digest, still queued
	fmt.Println("deduplicated:", existing && again.ID == first.ID)

	l, _ := q.Dequeue(ctx)
	stop := queue.Heartbeat(ctx, l, 20*time.Second)
	// ... run the image, store the report ...
	if err := stop(); err != nil {
		panic(err)
	}
	l.Ack(ctx, json.RawMessage(`{"verdict":"clean"}`))

	st, _ := q.Status(ctx, first.ID)
	fmt.Println(st.State, string(st.Result))
	// Output:
	// deduplicated: true
	// done {"verdict":"clean"}
}
