package queue

import (
	"context"
	"time"
)

// Heartbeat calls l.InProgress every interval until stop is called or ctx
// ends, so a long run keeps its lease; pick an interval well inside the
// ack wait (a third of it, say). stop returns the first InProgress error,
// ErrLeaseLost among them: the job has gone to another worker, and this
// worker's result will be refused.
func Heartbeat(ctx context.Context, l Lease, interval time.Duration) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-t.C:
				if err := l.InProgress(ctx); err != nil && ctx.Err() == nil {
					done <- err
					return
				}
			}
		}
	}()
	return func() error {
		cancel()
		return <-done
	}
}
