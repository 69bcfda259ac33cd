package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"

	"github.com/sandscan/sandscan/sandbox/setup"
)

// ensureTimeout covers a cold first run: two builds of about a minute each
// on a shared machine, plus apt.
const ensureTimeout = 15 * time.Minute

var (
	once   sync.Once
	env    *setup.Env
	envErr error
)

// Setup returns the runtime, set up by the first call in this test binary;
// later calls share its result, failure included.
func Setup(t testing.TB) *setup.Env {
	t.Helper()
	RequireRoot(t)
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ensureTimeout)
		defer cancel()
		env, envErr = setup.Ensure(ctx, setup.Config{})
	})
	if envErr != nil {
		t.Fatalf("testenv: runtime set-up failed: %v", envErr)
	}
	e := *env
	return &e
}

// RequireRoot fails the test unless it runs as root: containerd, runsc and
// the sandbox all need it. Run tests with `make test` or as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		t.Fatal(notRoot(uid))
	}
}

func notRoot(uid int) string {
	return fmt.Sprintf("testenv: this test needs root (running as uid %d): run it with `make test` or as root", uid)
}

// Client returns a containerd client for the runtime with Sandscan's
// namespace, closed when the test ends.
func Client(t testing.TB) (*setup.Env, *containerd.Client) {
	t.Helper()
	e := Setup(t)
	c, err := e.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return e, c
}
