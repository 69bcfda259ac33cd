package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports holds DESIGN.md's limits: the interface package needs only
// the standard library, fs nothing more, s3 only minio-go and what it uses;
// none of them reaches the sandbox, the analyzer or the queue.
func TestImports(t *testing.T) {
	tests := []struct {
		pkg       string
		allowed   []string // exact, or a prefix when ending in "/"
		forbidden []string // prefixes never allowed, even through minio-go
	}{
		{"github.com/sandscan/sandscan/store", nil, nil},
		{"github.com/sandscan/sandscan/store/fs", []string{"github.com/sandscan/sandscan/store"}, nil},
		{"github.com/sandscan/sandscan/store/s3", []string{"github.com/sandscan/sandscan/store", "*"}, []string{"github.com/sandscan/sandscan/"}},
	}
	for _, tt := range tests {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", tt.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", tt.pkg, err, out)
		}
	deps:
		for _, d := range strings.Fields(string(out)) {
			if d == tt.pkg {
				continue
			}
			for _, a := range tt.allowed {
				if d == a {
					continue deps
				}
			}
			for _, f := range tt.forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s imports %s", tt.pkg, d)
					continue deps
				}
			}
			if len(tt.allowed) == 0 || tt.allowed[len(tt.allowed)-1] != "*" {
				t.Errorf("%s imports %s", tt.pkg, d)
			}
		}
	}
}
