package storetest

import (
	"bytes"
	"io"
	"testing"

	"github.com/sandscan/sandscan/store"
)

// BenchPutGet measures storing and reading back a 1 MiB object.
func BenchPutGet(b *testing.B, s store.Store) {
	data := pattern(9, 1<<20)
	ctx := b.Context()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Put(ctx, "bench/object", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
		rc, _, err := s.Get(ctx, "bench/object")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
