package embedded

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/queuetest"
)

func BenchmarkEnqueueDequeueAck(b *testing.B) {
	q, err := Open(filepath.Join(b.TempDir(), "q.db"), queue.Config{AckWait: time.Minute}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	queuetest.Bench(b, q)
}
