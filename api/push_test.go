package api

import (
	"strings"
	"testing"
	"time"
)

func TestPushValidate(t *testing.T) {
	d := "sha256:" + strings.Repeat("0", 64)
	tests := []struct {
		name string
		p    Push
		ok   bool
	}{
		{"tag and digest", Push{Registry: "r.example:5000", Repository: "team/app", Tag: "v1.2-rc_1", Digest: d}, true},
		{"deep name", Push{Registry: "r", Repository: "a/b.c/d-e/f__g", Tag: "x", Digest: d}, true},
		{"ipv6 host", Push{Registry: "[::1]:5000", Repository: "a", Tag: "1"}, true},
		{"upper-case name", Push{Registry: "r", Repository: "Team/app", Tag: "1"}, false},
		{"name with ..", Push{Registry: "r", Repository: "a/../b", Tag: "1"}, false},
		{"empty component", Push{Registry: "r", Repository: "a//b", Tag: "1"}, false},
		{"tag starting with a dot", Push{Registry: "r", Repository: "a", Tag: ".x"}, false},
		{"tag too long", Push{Registry: "r", Repository: "a", Tag: strings.Repeat("x", 129)}, false},
		{"host with a slash", Push{Registry: "r/x", Repository: "a", Tag: "1"}, false},
		{"host with a space", Push{Registry: "r x", Repository: "a", Tag: "1"}, false},
		{"neither tag nor digest", Push{Registry: "r", Repository: "a"}, false},
		{"bad digest", Push{Registry: "r", Repository: "a", Tag: "1", Digest: "sha256:abc"}, false},
	}
	for _, tt := range tests {
		if err := tt.p.validate(false); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	if (Push{Registry: "r", Repository: "a", Tag: "1"}).validate(true) == nil {
		t.Error("a push without digest passed where one is needed")
	}
	if got := (Push{Registry: "r:1", Repository: "a/b", Tag: "t", Digest: d}).Ref(); got != "r:1/a/b:t@"+d {
		t.Errorf("Ref = %s", got)
	}
}

func TestSplitResourceURL(t *testing.T) {
	d := "sha256:" + strings.Repeat("1", 64)
	tests := []struct {
		in                          string
		registry, repo, tag, digest string
		err                         bool
	}{
		{"hub.harbor.com/test-webhook/debian:latest", "hub.harbor.com", "test-webhook/debian", "latest", "", false},
		{"harbor.example.com:8443/library/app:v1", "harbor.example.com:8443", "library/app", "v1", "", false},
		{"h.example/p/r@" + d, "h.example", "p/r", "", d, false},
		{"h.example:443/p/r:t@" + d, "h.example:443", "p/r", "t", d, false},
		{"https://h.example/p/r:t", "h.example", "p/r", "t", "", false},
		{"debian", "", "", "", "", true},
	}
	for _, tt := range tests {
		reg, repo, tag, digest, err := splitResourceURL(tt.in)
		if (err != nil) != tt.err || reg != tt.registry || repo != tt.repo || tag != tt.tag || digest != tt.digest {
			t.Errorf("%q: %q %q %q %q %v", tt.in, reg, repo, tag, digest, err)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, repo, id string
		ok           bool
	}{
		{"alpine", "docker.io/library/alpine", "latest", true},
		{"team/app:1", "docker.io/team/app", "1", true},
		{"127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app", "v2", true},
		{"r.example/a@sha256:" + strings.Repeat("a", 64), "r.example/a", "sha256:" + strings.Repeat("a", 64), true},
		{"", "", "", false},
		{"UPPER/case", "", "", false},
		{"a b", "", "", false},
	}
	for _, tt := range tests {
		ref, err := parseRef(tt.in, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if err == nil && (repositoryOf(ref.Context()) != tt.repo || ref.Identifier() != tt.id) {
			t.Errorf("%q: %s %s", tt.in, repositoryOf(ref.Context()), ref.Identifier())
		}
	}
}

func TestIndexKeys(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	older, newer := indexKey("aaa", t0), indexKey("bbb", t0.Add(time.Millisecond))
	if !(newer < older) {
		t.Errorf("a newer analysis's key %s does not sort before %s", newer, older)
	}
	if id, ok := idFromIndexKey(older); !ok || id != "aaa" {
		t.Errorf("id of %s: %q %v", older, id, ok)
	}
	for _, bad := range []string{"index/analyses/x.json", "images/sha256/x.tar", indexPrefix + strings.Repeat("1", 19) + "-bad id.json"} {
		if _, ok := idFromIndexKey(bad); ok {
			t.Errorf("%q read as an index key", bad)
		}
	}
	if k, err := decodeCursor(encodeCursor(older)); err != nil || k != older {
		t.Errorf("cursor round trip: %q %v", k, err)
	}
}
