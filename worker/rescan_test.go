package worker

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sandscan/sandscan/queue"
)

func TestParseFilter(t *testing.T) {
	d := testDigest("a")
	tests := []struct {
		args []string
		want RescanFilter
		ok   bool
	}{
		{nil, RescanFilter{}, true},
		{[]string{"repository=reg.example/team/"}, RescanFilter{Repository: "reg.example/team/"}, true},
		{[]string{"repo=r", "verdict=clean"}, RescanFilter{Repository: "r", Verdict: "clean"}, true},
		{[]string{"digest=" + d, "digest=" + d}, RescanFilter{Digests: []string{d, d}}, true},
		{[]string{"before=2026-01-02T03:04:05Z"}, RescanFilter{Before: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, true},
		{[]string{"before=yesterday"}, RescanFilter{}, false},
		{[]string{"verdict=evil"}, RescanFilter{}, false},
		{[]string{"digest=sha256:short"}, RescanFilter{}, false},
		{[]string{"color=red"}, RescanFilter{}, false},
		{[]string{"verdict"}, RescanFilter{}, false},
		{[]string{"verdict="}, RescanFilter{}, false},
	}
	for _, tt := range tests {
		got, err := ParseFilter(tt.args)
		if (err == nil) != tt.ok {
			t.Errorf("ParseFilter(%q): err %v, want ok %v", tt.args, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrRescan) {
				t.Errorf("ParseFilter(%q): %v is not ErrRescan", tt.args, err)
			}
			continue
		}
		if got.Repository != tt.want.Repository || got.Verdict != tt.want.Verdict || !slices.Equal(got.Digests, tt.want.Digests) || !got.Before.Equal(tt.want.Before) {
			t.Errorf("ParseFilter(%q) = %+v, want %+v", tt.args, got, tt.want)
		}
	}
}

func TestParseRescanMode(t *testing.T) {
	for in, want := range map[string]queue.Mode{
		"": queue.ModeDetonate, "redetonate": queue.ModeDetonate, "detonate": queue.ModeDetonate,
		"Reclassify": queue.ModeReclassify, "reclassify": queue.ModeReclassify, "again": "",
	} {
		got, err := ParseRescanMode(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseRescanMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRescanKey(t *testing.T) {
	if k, err := RescanKey("abc_1-2"); err != nil || k != "rescans/abc_1-2.json" {
		t.Errorf("RescanKey = %q, %v", k, err)
	}
	for _, bad := range []string{"", "../x", "a/b", "a.json"} {
		if _, err := RescanKey(bad); !errors.Is(err, ErrRescan) {
			t.Errorf("RescanKey(%q): %v", bad, err)
		}
	}
}
