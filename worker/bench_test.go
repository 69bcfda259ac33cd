package worker_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/internal/imagebuild"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/worker"
)

// BenchmarkThroughput detonates b.N distinct small busybox images (each
// a shell script that reads a file, lists a directory and tries one
// connection, which the sinkhole answers) through the embedded queue and
// the fs store with 1, 2 and 3 workers, and reports analyses per minute
// from the workers' start to the last stored verdict. Run it with a fixed
// count for stable numbers: -bench Throughput -benchtime 30x.
func BenchmarkThroughput(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			q, st, _ := openLocal(b)
			dir := b.TempDir()
			ids := make([]string, b.N)
			for i := range b.N {
				img, err := imagebuild.Build(b.Context(), imagebuild.Spec{
					Name:  "small",
					Files: imagebuild.BusyboxBase("/bin/busybox"),
					Config: imagebuild.Config{
						Entrypoint: []string{"/bin/sh", "-c", "cat /etc/hostname; ls /bin > /dev/null; wget -q -T 2 -O /dev/null http://203.0.113.7/ || true"},
						Env:        []string{"PATH=/bin", fmt.Sprintf("RUN=%d-%d", n, i)},
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				p := filepath.Join(dir, fmt.Sprintf("%d.tar", i))
				if err := imagebuild.WriteOCIArchive(p, img, "bench/small:latest"); err != nil {
					b.Fatal(err)
				}
				d, f := storeArchive(b, st, p)
				ids[i] = enqueue(b, q, storedJob(b, d, f, "bench/small", analysis.Request{})).ID
			}
			b.ResetTimer()
			start := time.Now()
			stop := startWorkers(b, worker.Config{Queue: q, Store: st, Workers: n, Heartbeat: 10 * time.Second, Log: slog.New(slog.DiscardHandler)})
			for _, id := range ids {
				if s := waitFinal(b, q, id, 10*time.Minute); s.State != queue.StateDone {
					b.Fatalf("job %s: %s %s", id, s.State, s.Error)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			stop()
			b.ReportMetric(float64(b.N)/elapsed.Minutes(), "analyses/min")
		})
	}
}
