package setup

import (
	"strings"
	"testing"
)

func TestParseContainerdVersion(t *testing.T) {
	tests := []struct {
		out, want string
		ok        bool
	}{
		{"containerd github.com/containerd/containerd/v2 2.4.2+unknown \n", "2.4.2+unknown", true},
		{"containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1\n", "1.6.20~ds1", true},
		{"containerd containerd.io v1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da\n", "v1.7.27", true},
		{"containerd github.com/containerd/containerd/v2 v2.1.5 abc\nsecond line\n", "v2.1.5", true},
		{"", "", false},
		{"containerd", "", false},
		{"containerd github.com/containerd/containerd unknown", "", false},
		{"runc version 1.1.5", "", false},
		{"flag provided but not defined: -version", "", false},
	}
	for _, tt := range tests {
		got, err := parseContainerdVersion(tt.out)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseContainerdVersion(%q) = %q, %v; want %q ok=%v", tt.out, got, err, tt.want, tt.ok)
		}
	}
}

func TestVersionCore(t *testing.T) {
	tests := []struct {
		in   string
		want semver
		ok   bool
	}{
		{"v2.4.2", semver{2, 4, 2}, true},
		{"2.4.2+unknown", semver{2, 4, 2}, true},
		{"1.6.20~ds1", semver{1, 6, 20}, true},
		{"2.0.0-rc.1", semver{2, 0, 0}, true},
		{"v0.0.0-20260701204157-69c2d17aea96", semver{0, 0, 0}, true},
		{"2.4", semver{}, false},
		{"2.4.2.1", semver{}, false},
		{"v2.x.1", semver{}, false},
		{"2..1", semver{}, false},
		{"-1.2.3", semver{}, false},
		{"", semver{}, false},
	}
	for _, tt := range tests {
		got, ok := versionCore(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("versionCore(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSameRelease(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"v2.4.2", "2.4.2+unknown", true},
		{"1.6.20~ds1", "1.6.20", true},
		{"v2.4.2", "2.4.3", false},
		{"v2.4.2", "1.6.20", false},
		{"", "", false},
		{"garbage", "garbage", false},
	}
	for _, tt := range tests {
		if got := sameRelease(tt.a, tt.b); got != tt.want {
			t.Errorf("sameRelease(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestConfigVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"v2.4.2", 3, true},
		{"2.0.0", 3, true},
		{"1.6.20~ds1", 2, true},
		{"1.7.27", 2, true},
		{"1.4.13", 0, false},
		{"nonsense", 0, false},
	}
	for _, tt := range tests {
		got, err := configVersion(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("configVersion(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseContainerdVersion: whatever a binary prints, the parser returns
// a version that versionCore accepts, or an error, and never panics.
func FuzzParseContainerdVersion(f *testing.F) {
	f.Add("containerd github.com/containerd/containerd/v2 2.4.2+unknown \n")
	f.Add("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1\n")
	f.Add("containerd x v1.2.3-")
	f.Fuzz(func(t *testing.T, out string) {
		v, err := parseContainerdVersion(out)
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if _, ok := versionCore(v); !ok || strings.ContainsAny(v, " \n") {
			t.Errorf("parsed %q from %q", v, out)
		}
		if _, err := configVersion(v); err != nil && !strings.Contains(err.Error(), "too old") {
			t.Errorf("configVersion(%q): %v", v, err)
		}
	})
}
