package queuetest

import (
	"fmt"
	"testing"

	"github.com/sandscan/sandscan/queue"
)

// Bench measures one job's round trip through q: enqueue, dequeue, ack.
func Bench(b *testing.B, q queue.Queue) {
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := q.Enqueue(ctx, NewJob(fmt.Sprint("bench", i))); err != nil {
			b.Fatal(err)
		}
		l, err := q.Dequeue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Ack(ctx, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
