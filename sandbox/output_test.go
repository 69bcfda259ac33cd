package sandbox

import "testing"

func TestCappedBuffer(t *testing.T) {
	tests := []struct {
		max    int64
		writes []string
		want   string
		size   int64
		trunc  bool
	}{
		{10, []string{"hello"}, "hello", 5, false},
		{4, []string{"hello"}, "hell", 5, true},
		{6, []string{"abc", "defg", "hij"}, "abcdef", 10, true},
		{0, []string{"x"}, "", 1, true},
	}
	for _, tt := range tests {
		b := newCappedBuffer(tt.max)
		for _, w := range tt.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		o := b.output()
		if string(o.Data) != tt.want || o.Size != tt.size || o.Truncated != tt.trunc {
			t.Errorf("max %d writes %q: got %q size %d trunc %v", tt.max, tt.writes, o.Data, o.Size, o.Truncated)
		}
	}
}
