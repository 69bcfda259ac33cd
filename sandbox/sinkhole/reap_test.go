package sinkhole

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// crashEnv makes the test binary a helper that brings a Network up and
// exits without closing it, as a killed worker would.
const crashEnv = "SINKHOLE_TEST_CRASH_RUN_ID"

func TestMain(m *testing.M) {
	if id := os.Getenv(crashEnv); id != "" {
		os.Exit(crashHelper(id))
	}
	os.Exit(m.Run())
}

func crashHelper(id string) int {
	_, err := New(context.Background(), Config{RunID: id, Service: newRecorder(), PCAPPath: os.DevNull})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("up")
	// Killed while up: no Close, no deferred cleanup.
	time.Sleep(time.Minute)
	return 2
}

// TestReap: what a process killed mid-run leaves (veth, both namespaces)
// is listed by Leftovers and removed by Reap.
func TestReap(t *testing.T) {
	requireRoot(t)
	id := randomID("crash-")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+id)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if strings.TrimSpace(line) != "up" {
		t.Fatalf("helper said %q", line)
	}
	t.Cleanup(func() { Reap("", id) })

	ids, err := Leftovers("")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, id) {
		t.Fatalf("Leftovers %v lacks the killed run %s", ids, id)
	}
	// The veth outlived its process: the sandbox namespace still has eth0.
	if names := linksIn(t, sandboxNSPath(DefaultNetNSDir, id)); !slices.Contains(names, sandboxIf) {
		t.Fatalf("leftover sandbox namespace has %v, want %s", names, sandboxIf)
	}
	if err := Reap("", id, "never-existed"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sandboxNSPath(DefaultNetNSDir, id), sinkNSPath(DefaultNetNSDir, id)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Reap: %v", p, err)
		}
	}
	if ids, _ := Leftovers(""); slices.Contains(ids, id) {
		t.Errorf("Leftovers still lists %s", id)
	}
	if err := Reap("", "../etc"); err == nil {
		t.Error("Reap accepted a run id with a path in it")
	}
}

// TestLeftoversParsesNames: only names of the two prefixes with a valid
// id count, each id once.
func TestLeftoversParsesNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"sandscan-net-a1", "sandscan-sink-a1", "sandscan-sink-b2", "sandscan-net-", "other", "sandscan-net-.x", "cni-1234"} {
		if err := os.WriteFile(dir+"/"+name, nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := Leftovers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "b2"}; !slices.Equal(ids, want) {
		t.Errorf("Leftovers = %v, want %v", ids, want)
	}
	// Plain files (never mounted) are removed too.
	if err := Reap(dir, ids...); err != nil {
		t.Fatal(err)
	}
	if ids, _ := Leftovers(dir); len(ids) != 0 {
		t.Errorf("after Reap: %v", ids)
	}
	if ids, err := Leftovers(dir + "/missing"); err != nil || ids != nil {
		t.Errorf("missing dir: %v, %v", ids, err)
	}
}
