package queuetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandscan/sandscan/queue"
)

// childEnv names the variable that turns a test binary into a worker child.
const childEnv = "SANDSCAN_QUEUETEST_CHILD"

// childLife bounds a child whose parent died before killing it.
const childLife = 2 * time.Minute

// ChildMain must be called first in the TestMain of a backend's tests.
// In a child started by the WorkerKilled test it opens the queue that arg
// names, dequeues one job, reports it on stdout and then hangs, holding the
// lease, until the parent kills it; it never returns. Otherwise it returns
// at once.
func ChildMain(open func(arg string) (queue.Queue, error)) {
	arg, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), childLife)
	defer cancel()
	q, err := open(arg)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	l, err := q.Dequeue(ctx)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	fmt.Printf("LEASED %s %d\n", l.Job().ID, l.Job().Attempts)
	<-ctx.Done()
	os.Exit(4)
}

// startChild re-executes the test binary as a worker child and returns it
// once it holds a lease, with the job id and attempt it reported.
func startChild(t *testing.T, arg string) (*exec.Cmd, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("worker child said nothing (%v): does TestMain call queuetest.ChildMain?", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "LEASED" {
		t.Fatalf("worker child: %q", line)
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		t.Fatalf("worker child: %q", line)
	}
	return cmd, f[1], n
}

// testWorkerKilled: a worker process SIGKILLed while it holds a job; the
// job is delivered again and completes, and nothing else is lost.
func testWorkerKilled(t *testing.T, newEnv NewEnv) {
	env := newEnv(t, queue.Config{AckWait: 2 * time.Second, MaxDeliver: 3, Backoff: -1})
	q := env.Open(t)
	a := mustEnqueue(t, q, NewJob("killed-a"))
	b := mustEnqueue(t, q, NewJob("killed-b"))
	// The embedded file admits one process at a time.
	q.Close()

	cmd, id, attempt := startChild(t, env.ChildArg())
	if id != a.ID || attempt != 1 {
		t.Fatalf("child leased %s attempt %d, want %s attempt 1", id, attempt, a.ID)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child ended with %v, want killed", err)
	}

	q = env.Open(t)
	defer q.Close()
	got := map[string]int{}
	for range 2 {
		l := mustDequeue(t, q, 20*time.Second)
		got[l.Job().ID] = l.Job().Attempts
		if err := l.Ack(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got[a.ID] != 2 || got[b.ID] != 1 {
		t.Fatalf("deliveries after the kill: %v, want %s twice in all and %s once", got, a.ID, b.ID)
	}
	for _, id := range []string{a.ID, b.ID} {
		if s := mustStatus(t, q, id); s.State != queue.StateDone {
			t.Errorf("%s: %s, want done", id, s.State)
		}
	}
}
