package sandbox

import (
	"errors"
	"testing"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		in   string
		want Source
		err  bool
	}{
		{"oci-archive:testdata/images/miner.tar", Source{Kind: OCIArchive, Path: "testdata/images/miner.tar"}, false},
		{"docker-archive:/tmp/x.tar", Source{Kind: DockerArchive, Path: "/tmp/x.tar"}, false},
		{"oci:/tmp/layout", Source{Kind: OCIDir, Path: "/tmp/layout"}, false},
		{"oci:/tmp/layout:v1", Source{Kind: OCIDir, Path: "/tmp/layout", Ref: "v1"}, false},
		{"docker://127.0.0.1:5000/app:1", Source{Kind: Registry, Ref: "127.0.0.1:5000/app:1"}, false},
		{"alpine", Source{Kind: Registry, Ref: "docker.io/library/alpine:latest"}, false},
		{"library/alpine:3.20", Source{Kind: Registry, Ref: "docker.io/library/alpine:3.20"}, false},
		{"localhost/app", Source{Kind: Registry, Ref: "localhost/app:latest"}, false},
		{"reg.example:5000/team/app@sha256:abc", Source{Kind: Registry, Ref: "reg.example:5000/team/app@sha256:abc"}, false},
		{"", Source{}, true},
		{"oci-archive:", Source{}, true},
		{"ftp://x/y", Source{}, true},
		{"bad ref", Source{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSource(tt.in)
		if tt.err {
			if !errors.Is(err, ErrBadReference) {
				t.Errorf("ParseSource(%q) err = %v, want ErrBadReference", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
