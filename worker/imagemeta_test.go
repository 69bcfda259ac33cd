package worker

import (
	"strings"
	"testing"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
)

func TestImageKeys(t *testing.T) {
	d := testDigest("img")
	h := strings.TrimPrefix(d, "sha256:")
	if k, err := ImageMetaKey(d); err != nil || k != "images/sha256/"+h+".json" {
		t.Errorf("ImageMetaKey = %q %v", k, err)
	}
	if _, err := ImageMetaKey("sha256:nope"); err == nil {
		t.Error("ImageMetaKey took a bad digest")
	}
	tests := []struct {
		key, digest string
		ok          bool
	}{
		{"images/sha256/" + h + ".tar", d, true},
		{"images/sha256/" + h + ".json", "", false},
		{"images/sha256/" + strings.ToUpper(h) + ".tar", "", false},
		{"images/sha256/abc.tar", "", false},
		{"verdicts/sha256/" + h + ".tar", "", false},
	}
	for _, tt := range tests {
		got, ok := digestOfImageKey(tt.key)
		if got != tt.digest || ok != tt.ok {
			t.Errorf("digestOfImageKey(%q) = %q %v", tt.key, got, ok)
		}
	}
}

func TestRefs(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000/team/app:v1":                        "127.0.0.1:5000/team/app",
		"docker.io/library/alpine:latest":                   "docker.io/library/alpine",
		"reg.example/a/b@sha256:" + strings.Repeat("0", 64): "reg.example/a/b",
		"reg.example:443/a":                                 "reg.example:443/a",
	} {
		if got := repositoryOf(in); got != want {
			t.Errorf("repositoryOf(%q) = %q, want %q", in, got, want)
		}
	}
	d := testDigest("x")
	tests := []struct {
		job  queue.Job
		req  analysis.Request
		want string
	}{
		{queue.Job{Image: "upload.tar"}, analysis.Request{Ref: "reg/a:1"}, "reg/a:1"},
		{queue.Job{Image: "upload.tar"}, analysis.Request{}, "upload.tar"},
		{queue.Job{}, analysis.Request{}, d},
	}
	for _, tt := range tests {
		if got := displayRef(tt.job, tt.req, d); got != tt.want {
			t.Errorf("displayRef(%+v, %+v) = %q, want %q", tt.job, tt.req, got, tt.want)
		}
	}
}
