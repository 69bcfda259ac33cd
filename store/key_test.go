package store

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"images/sha256/" + strings.Repeat("a", 64) + ".tar", true},
		{"analyses/01hx-Y_z/files/%2Ftmp%2Fx", true},
		{"a", true},
		{"a:b@c,d=e+f~g", true},
		{strings.Repeat("a", MaxSegmentLen), true},
		{strings.Repeat("a/", MaxKeyLen/2-1) + "a", true},
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/../b", false},
		{"a/.git", false},
		{"a\\b", false},
		{"a b", false},
		{"a\tb", false},
		{"é", false},
		{"a?b", false},
		{"a*b", false},
		{strings.Repeat("a", MaxSegmentLen+1), false},
		{strings.Repeat("a/", MaxKeyLen/2) + "a", false},
	}
	for _, tt := range tests {
		err := ValidKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("ValidKey(%.40q): %v", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidKey(%.40q) = %v, want ErrInvalid", tt.key, err)
		}
	}
}

func TestValidListArgs(t *testing.T) {
	tests := []struct {
		prefix, after string
		limit         int
		ok            bool
	}{
		{"", "", 1, true},
		{"analyses/", "analyses/x/report.json", 100, true},
		{"analyses/ab", "", 100, true},
		{"", "", 0, false},
		{"/", "", 1, false},
		{"a//", "", 1, false},
		{"a/..", "", 1, false},
		{"", strings.Repeat("a", MaxKeyLen+1), 1, false},
	}
	for _, tt := range tests {
		err := ValidListArgs(tt.prefix, tt.after, tt.limit)
		if (err == nil) != tt.ok {
			t.Errorf("ValidListArgs(%q, %.20q, %d) = %v", tt.prefix, tt.after, tt.limit, err)
		}
	}
}

// FuzzValidKey: a key that validates never escapes a directory it is
// joined to, nor names a hidden file or an empty segment.
func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/./b", "images/sha256/00.tar", "a//b", "%2e%2e/x", ".tmp-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		if joined := path.Join("/root", key); !strings.HasPrefix(joined, "/root/") || joined != "/root/"+key {
			t.Fatalf("key %q joins to %q", key, joined)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg[0] == '.' || len(seg) > MaxSegmentLen {
				t.Fatalf("key %q has segment %q", key, seg)
			}
		}
		if strings.ContainsAny(key, "\\\x00 \n") || len(key) > MaxKeyLen {
			t.Fatalf("key %q accepted", key)
		}
	})
}
