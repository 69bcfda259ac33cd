package sink_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sandscan/sandscan/sandbox/sink"
)

// A run: listen, hand runsc the trace session, watch the container before
// it starts, and collect its events once the sandbox is gone.
func Example() {
	ctx := context.Background()
	s, err := sink.Listen(ctx, "/run/sandscan/trace.sock")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	cfg, err := sink.PodInitConfig(s.Path())
	if err != nil {
		fmt.Println(err)
		return
	}
	// runsc --pod-init-config=/run/sandscan/run-1.json ...
	if err := os.WriteFile("/run/sandscan/run-1.json", cfg, 0o600); err != nil {
		fmt.Println(err)
		return
	}
	rec := s.Watch("run-1")

	// ... create, start and wait for container "run-1", delete it ...

	// Bound the wait in case the sandbox never connected.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res := rec.Finish(fctx)
	fmt.Println(len(res.Events), res.Total, res.Dropped)
}
