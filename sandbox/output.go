package sandbox

import (
	"sync"

	"github.com/sandscan/sandscan/trace"
)

// cappedBuffer keeps the first max bytes written to it and counts the rest,
// so an output flood costs no memory.
type cappedBuffer struct {
	mu   sync.Mutex
	max  int64
	data []byte
	size int64
}

func newCappedBuffer(max int64) *cappedBuffer { return &cappedBuffer{max: max} }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - int64(len(b.data)); room > 0 {
		n := min(int64(len(p)), room)
		b.data = append(b.data, p[:n]...)
	}
	b.size += int64(len(p))
	return len(p), nil
}

func (b *cappedBuffer) output() trace.Output {
	b.mu.Lock()
	defer b.mu.Unlock()
	return trace.Output{Data: append([]byte(nil), b.data...), Size: b.size, Truncated: b.size > int64(len(b.data))}
}
