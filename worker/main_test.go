package worker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/setup"
	"github.com/sandscan/sandscan/worker"
)

// childEnv turns the test binary into a worker process (see childMain),
// so a test can SIGKILL a worker mid-run.
const childEnv = "SANDSCAN_WORKER_TEST_CHILD"

// childSpec is what a child worker is told through childEnv.
type childSpec struct {
	Backends  worker.BackendConfig `json:"backends"`
	Heartbeat time.Duration        `json:"heartbeat"`
}

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(childEnv); ok {
		childMain(spec)
		return
	}
	code := m.Run()
	if shared.sb != nil {
		shared.sb.Close()
	}
	os.Exit(code)
}

// childMain runs workers on the backends the parent named until it is
// killed; it logs to stderr, where the parent watches for "job started".
func childMain(spec string) {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	// The parent may die without killing us: don't outlive it for long.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	env, err := setup.Ensure(ctx, setup.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	sb, err := sandbox.New(ctx, sandbox.RuntimeOf(env))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	q, st, closeFn, err := worker.OpenBackends(ctx, cs.Backends)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	defer closeFn()
	err = worker.Run(ctx, worker.Config{Queue: q, Store: st, Sandbox: sb, Heartbeat: cs.Heartbeat, Log: log})
	fmt.Fprintln(os.Stderr, "child: run ended:", err)
	os.Exit(4)
}

// startChild starts a worker process on backends and returns it with a
// channel that yields the id of each job it starts.
func startChild(t *testing.T, cs childSpec) (*exec.Cmd, <-chan string) {
	t.Helper()
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	started := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			t.Log("child:", line)
			if strings.Contains(line, `msg="job started"`) {
				for f := range strings.FieldsSeq(line) {
					if id, ok := strings.CutPrefix(f, "job="); ok {
						started <- id
					}
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	return cmd, started
}

// shared holds the one Sandbox of this test binary: its trace sink's
// socket is named by the process id.
var shared struct {
	once sync.Once
	env  *setup.Env
	sb   *sandbox.Sandbox
	err  error
}

func testSandbox(t testing.TB) (*setup.Env, *sandbox.Sandbox) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the worker tests run containerd and runsc: run them as root (make test)")
	}
	shared.once.Do(func() {
		ctx := context.Background()
		shared.env, shared.err = setup.Ensure(ctx, setup.Config{})
		if shared.err != nil {
			return
		}
		shared.sb, shared.err = sandbox.New(ctx, sandbox.RuntimeOf(shared.env))
	})
	if shared.err != nil {
		t.Fatalf("sandbox: %v", shared.err)
	}
	return shared.env, shared.sb
}
