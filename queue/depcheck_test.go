package queue_test

import (
	"os/exec"
	"strings"
	"testing"
)

// nonStdDeps lists what pkg imports, directly or not, outside the
// standard library, pkg itself excluded.
func nonStdDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	var deps []string
	for _, d := range strings.Fields(string(out)) {
		if d != pkg {
			deps = append(deps, d)
		}
	}
	return deps
}

// TestImports holds DESIGN.md's limits: the interface package needs only
// the standard library; each backend adds its own client and nothing of
// the sandbox or the analyzer.
func TestImports(t *testing.T) {
	tests := []struct {
		pkg     string
		allowed []string // prefixes
	}{
		{"github.com/sandscan/sandscan/queue", nil},
		{"github.com/sandscan/sandscan/queue/embedded", []string{"github.com/sandscan/sandscan/queue", "go.etcd.io/bbolt", "go.etcd.io/bbolt/", "golang.org/x/sys/"}},
		{"github.com/sandscan/sandscan/queue/jetstream", []string{"github.com/sandscan/sandscan/queue", "github.com/nats-io/", "github.com/klauspost/compress/", "golang.org/x/crypto/", "golang.org/x/sys/"}},
	}
	for _, tt := range tests {
	deps:
		for _, d := range nonStdDeps(t, tt.pkg) {
			for _, a := range tt.allowed {
				if d == a || strings.HasSuffix(a, "/") && strings.HasPrefix(d, a) {
					continue deps
				}
			}
			t.Errorf("%s imports %s", tt.pkg, d)
		}
	}
}
