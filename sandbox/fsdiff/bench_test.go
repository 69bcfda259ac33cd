package fsdiff

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkDiff diffs an upper of 5,000 files in 50 directories over a lower
// of the same shape: half the files modified, half created, 50 deleted.
func BenchmarkDiff(b *testing.B) {
	root := b.TempDir()
	lower, upper := filepath.Join(root, "lower"), filepath.Join(root, "upper")
	var ln, un []node
	for d := range 50 {
		for f := range 100 {
			p := fmt.Sprintf("d%02d/f%03d", d, f)
			data := fmt.Sprintf("content %d %d %0512d", d, f, 0)
			if f%2 == 0 {
				ln = append(ln, file(p, data, 0o644))
			}
			un = append(un, file(p, data+"!", 0o644))
		}
		ln = append(ln, file(fmt.Sprintf("d%02d/gone", d), "x", 0o644))
		un = append(un, whiteout(fmt.Sprintf("d%02d/gone", d)))
	}
	build(b, lower, ln...)
	build(b, upper, un...)
	b.ResetTimer()
	for b.Loop() {
		r, err := Diff(context.Background(), upper, []string{lower})
		if err != nil || len(r.Changes) != 5050 {
			b.Fatalf("changes %d err %v", len(r.Changes), err)
		}
	}
}
