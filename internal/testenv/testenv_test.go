package testenv

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSetupSharesOneRuntime(t *testing.T) {
	a := Setup(t)
	b := Setup(t)
	if a == b {
		t.Error("callers share one *Env: one could change the other's")
	}
	if *a != *b {
		t.Errorf("two calls, two runtimes:\n%+v\n%+v", a, b)
	}
	_, c := Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != a.ContainerdVersion {
		t.Errorf("daemon %q, Env %q", v.Version, a.ContainerdVersion)
	}
}

func TestNotRootMessage(t *testing.T) {
	if msg := notRoot(1000); !strings.Contains(msg, "uid 1000") || !strings.Contains(msg, "root") {
		t.Errorf("message %q", msg)
	}
}
