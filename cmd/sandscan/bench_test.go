package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkAnalyzeMiner is a whole `sandscan analyze` of the miner sample
// (set-up check, import, detonation, analysis, report), with the sinkhole
// network beside none, the baseline.
func BenchmarkAnalyzeMiner(b *testing.B) {
	for _, mode := range []string{"sinkhole", "none"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				code := run(context.Background(), []string{"analyze", "--network", mode, "--format", "json",
					"oci-archive:../../testdata/images/miner.tar"}, io.Discard, io.Discard)
				if code >= ExitError {
					b.Fatalf("analyze exit %d", code)
				}
			}
		})
	}
}
