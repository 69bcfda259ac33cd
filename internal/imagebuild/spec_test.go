package imagebuild

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "/usr/local/bin/miner", want: "usr/local/bin/miner"},
		{in: "etc/passwd", want: "etc/passwd"},
		{in: "//etc//cron.d/", want: "etc/cron.d"},
		{in: "/etc/./shadow", want: "etc/shadow"},
		{in: "/../etc/passwd", wantErr: true},
		{in: "/etc/../../x", wantErr: true},
		{in: "a/..", wantErr: true},
		{in: "/", wantErr: true},
		{in: "", wantErr: true},
		{in: ".", wantErr: true},
		{in: "/etc/pa\x00sswd", wantErr: true},
		{in: "/etc/..x", want: "etc/..x"},
	}
	for _, tt := range tests {
		got, err := cleanPath(tt.in)
		if tt.wantErr {
			if !errors.Is(err, errUnsafePath) {
				t.Errorf("cleanPath(%q) = %q, %v; want errUnsafePath", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/usr/bin/x", "../x", "a/../../b", "//a//b/", ".", "/a/./b/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := cleanPath(p)
		if err != nil {
			return
		}
		if got == "" || strings.HasPrefix(got, "/") || path.Clean(got) != got {
			t.Fatalf("cleanPath(%q) = %q: not a clean relative path", p, got)
		}
		for _, part := range strings.Split(got, "/") {
			if part == ".." {
				t.Fatalf("cleanPath(%q) = %q climbs out", p, got)
			}
		}
	})
}

func TestTarMode(t *testing.T) {
	tests := []struct {
		in   fs.FileMode
		want int64
	}{
		{0o644, 0o644},
		{0o777 | fs.ModeSticky, 0o1777},
		{0o755 | fs.ModeSetuid, 0o4755},
		{0o2750&0o777 | fs.ModeSetgid, 0o2750},
		{fs.ModeDir | 0o700, 0o700},
	}
	for _, tt := range tests {
		if got := tarMode(tt.in); got != tt.want {
			t.Errorf("tarMode(%v) = %o, want %o", tt.in, got, tt.want)
		}
	}
}
