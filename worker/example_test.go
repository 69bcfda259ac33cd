package worker_test

import (
	"context"
	"fmt"
	"os"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/worker"
)

// Open the default backends under a state dir and queue a rescan of
// everything stored there (nothing yet).
func ExampleOpenBackends() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sandscan-state-")
	defer os.RemoveAll(dir)
	cfg, err := worker.BackendConfigFromEnv(dir, func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	q, st, closeFn, err := worker.OpenBackends(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer closeFn()
	rs, err := worker.Rescan(ctx, q, st, worker.RescanOptions{Mode: queue.ModeReclassify})
	if err != nil {
		panic(err)
	}
	p, err := worker.RescanProgress(ctx, q, st, rs.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(p.Jobs), "jobs; finished:", p.Progress.Finished)
	// Output: 0 jobs; finished: true
}
