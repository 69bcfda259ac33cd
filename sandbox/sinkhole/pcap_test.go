package sinkhole

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestPCAPWriter(t *testing.T) {
	frame := func(n int) []byte { return bytes.Repeat([]byte{0xab}, n) }
	rec := func(n int) int64 { return pcapRecordLen + int64(n) }
	tests := []struct {
		name             string
		limit            int64
		frames           []int
		written, dropped int64
		lastLen          int
	}{
		{"all fit", 1 << 20, []int{60, 1514, 42}, 3, 0, 42},
		{"limit exact", pcapHeaderLen + rec(60) + rec(100), []int{60, 100, 1}, 2, 1, 100},
		{"limit one short", pcapHeaderLen + rec(60) + rec(100) - 1, []int{60, 100, 1}, 2, 1, 1},
		{"header only", pcapHeaderLen, []int{1}, 0, 1, -1},
		{"truncated to snaplen", 1 << 20, []int{pcapSnapLen + 10}, 1, 0, pcapSnapLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := newPCAPWriter(&buf, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			ts := time.Unix(1700000000, 123456000)
			for _, n := range tt.frames {
				w.write(ts, frame(n))
			}
			if err := w.flush(); err != nil {
				t.Fatal(err)
			}
			if w.packets != tt.written || w.dropped != tt.dropped {
				t.Errorf("written %d dropped %d, want %d %d", w.packets, w.dropped, tt.written, tt.dropped)
			}
			if int64(buf.Len()) > tt.limit || int64(buf.Len()) != w.size {
				t.Errorf("file %d bytes, size %d, limit %d", buf.Len(), w.size, tt.limit)
			}
			p, err := readPCAP(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if p.linkType != linkTypeEthernet || int64(len(p.frames)) != tt.written {
				t.Fatalf("read back link type %d, %d frames", p.linkType, len(p.frames))
			}
			if tt.lastLen >= 0 && len(p.frames[len(p.frames)-1]) != tt.lastLen {
				t.Errorf("last frame %d bytes, want %d", len(p.frames[len(p.frames)-1]), tt.lastLen)
			}
			if tt.name == "truncated to snaplen" {
				if orig := uint32(buf.Bytes()[pcapHeaderLen+12]) | uint32(buf.Bytes()[pcapHeaderLen+13])<<8 | uint32(buf.Bytes()[pcapHeaderLen+14])<<16; orig != pcapSnapLen+10 {
					t.Errorf("original length %d, want %d", orig, pcapSnapLen+10)
				}
			}
		})
	}
}

// failWriter fails every write after the first ok bytes.
type failWriter struct{ ok int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.ok {
		n := w.ok
		w.ok = 0
		return n, errors.New("disk full")
	}
	w.ok -= len(p)
	return len(p), nil
}

// TestPCAPWriterError: a failing file stops the capture, never the
// caller; frames after the error are counted as dropped.
func TestPCAPWriterError(t *testing.T) {
	w, err := newPCAPWriter(&failWriter{ok: 100}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		w.write(time.Now(), make([]byte, 1000))
	}
	if w.flush() == nil {
		t.Error("flush after a failed write succeeded")
	}
	if w.dropped == 0 || w.packets+w.dropped != 200 {
		t.Errorf("packets %d dropped %d, want some dropped and 200 in all", w.packets, w.dropped)
	}
}
