package sink

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// runDo runs script with `runsc do` (gVisor over the host's root, read
// only, with an overlay) traced into a fresh sink, and returns what the
// sink recorded. runsc needs root; this machine and CI run as root.
func runDo(t *testing.T, script string) Result {
	t.Helper()
	res, st := traceDo(t, script)
	if res.Dropped != 0 || res.Malformed != 0 || res.Unknown != 0 || res.Total != uint64(len(res.Events)) {
		t.Errorf("total %d, kept %d, dropped %d, malformed %d, unknown %d",
			res.Total, len(res.Events), res.Dropped, res.Malformed, res.Unknown)
	}
	if st.Conns != 1 || st.BadHandshakes != 0 {
		t.Errorf("stats %+v", st)
	}
	return res
}

func traceDo(tb testing.TB, script string, opts ...ConfigOption) (Result, Stats) {
	tb.Helper()
	dir := tb.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Listen(ctx, filepath.Join(dir, "sink.sock"), quiet)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	// runsc do makes up the container id: take whatever comes.
	rec := s.WatchAll()
	cfg, err := PodInitConfig(s.Path(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "pod-init.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, runscPath(), "--root="+filepath.Join(dir, "root"), "--network=none",
		"--pod-init-config="+cfgPath, "do", "--", "/bin/sh", "-c", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("runsc do: %v\n%s", err, out.Bytes())
	}
	// runsc has exited, so the sandbox and its connection are gone.
	res := rec.Finish(ctx)
	if ctx.Err() != nil {
		tb.Fatal("the sandbox's connection never closed")
	}
	return res, s.Stats()
}

func find(evs []trace.Event, f func(e *trace.Event) bool) *trace.Event {
	for i := range evs {
		if f(&evs[i]) {
			return &evs[i]
		}
	}
	return nil
}

func TestRunscTrace(t *testing.T) {
	script := "cat /etc/hostname; echo hi > /tmp/x"
	res := runDo(t, script)
	evs := res.Events

	start := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindStart })
	if start == nil || !slices.Equal(start.Argv, []string{"/bin/sh", "-c", script}) || start.PID == 0 || len(start.Env) == 0 {
		t.Fatalf("container start: %+v", start)
	}
	execve := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindExecve && e.Path == "/usr/bin/cat" })
	if execve == nil || !slices.Equal(execve.Argv, []string{"cat", "/etc/hostname"}) || execve.Failed() || len(execve.Env) == 0 {
		t.Fatalf("execve of cat: %+v", execve)
	}
	exe := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindExec && e.Path == "/usr/bin/cat" })
	if exe == nil || len(exe.SHA256) != 64 || exe.Mode&0o111 == 0 || exe.PID != execve.PID || exe.Seq <= execve.Seq {
		t.Fatalf("exec of cat: %+v", exe)
	}
	open := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindOpen && e.Path == "/etc/hostname" })
	if open == nil || open.PID != exe.PID || open.Comm != "cat" || open.Ret < 0 || open.Seq <= exe.Seq {
		t.Fatalf("open of /etc/hostname: %+v", open)
	}
	creat := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindOpen && e.Path == "/tmp/x" })
	if creat == nil || creat.Flags&0o100 == 0 || creat.PID != start.PID {
		t.Fatalf("open of /tmp/x by the shell, with O_CREAT: %+v", creat)
	}
	procs := trace.BuildProcesses(evs)
	var cat *trace.Process
	for i := range procs {
		if procs[i].Exe == "/usr/bin/cat" {
			cat = &procs[i]
		}
	}
	if cat == nil || cat.PPID != start.PID || !cat.Exited || cat.ExitStatus != 0 {
		t.Fatalf("cat in the process tree: %+v", cat)
	}
	for _, e := range evs {
		if e.Time.IsZero() || e.PID == 0 || e.TID == 0 {
			t.Fatalf("event without its context: %+v", e)
		}
	}
}

// TestRunscTraceSyscalls checks the points that need more than decoding:
// raw syscalls (traced at enter for their context), a connect that fails,
// an execve that fails after gVisor's exit point said 0.
func TestRunscTraceSyscalls(t *testing.T) {
	res := runDo(t, "/nonexistent-binary; /bin/busybox chmod 4755 /tmp; /bin/busybox nc 10.1.2.3 4444 </dev/null; true")
	evs := res.Events
	failed := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindExecve && e.Path == "/nonexistent-binary" })
	if failed == nil || !failed.Failed() || failed.Errno != ErrnoUnknown {
		t.Errorf("failed execve: %+v", failed)
	}
	if find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindExec && e.Path == "/nonexistent-binary" }) != nil {
		t.Error("exec event for a binary that does not exist")
	}
	chmod := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindSyscall && e.Syscall == "chmod" })
	if chmod == nil || chmod.PID == 0 || chmod.Comm != "busybox" || len(chmod.Args) != 6 || chmod.Args[1] != 0o4755 {
		t.Errorf("raw chmod: %+v", chmod)
	}
	conn := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindConnect })
	if conn == nil || conn.Addr == nil || conn.Addr.IP != "10.1.2.3" || conn.Addr.Port != 4444 || !conn.Failed() {
		t.Errorf("connect with --network=none: %+v", conn)
	}
	sock := find(evs, func(e *trace.Event) bool { return e.Kind == trace.KindSocket })
	if sock == nil || sock.Domain != 2 || sock.Ret < 0 {
		t.Errorf("socket: %+v", sock)
	}
}

// BenchmarkRunscWriteFlood runs a shell that writes many small lines to
// its stdout, as the outputflood image does: every write is a trace
// message the sink must read and skip. It reports how many were lost.
func BenchmarkRunscWriteFlood(b *testing.B) {
	const lines = 50000
	script := "i=0; while [ $i -lt " + strconv.Itoa(lines) + " ]; do echo x; i=$((i+1)); done"
	for _, retries := range []int{0, 3} {
		b.Run("retries="+strconv.Itoa(retries), func(b *testing.B) {
			var dropped, skipped uint64
			start := time.Now()
			for range b.N {
				res, st := traceDo(b, script, WithRetries(retries, 100*time.Microsecond, 5*time.Millisecond))
				dropped += res.Dropped
				skipped += st.Skipped
			}
			b.ReportMetric(float64(dropped)/float64(b.N), "dropped/run")
			b.ReportMetric(float64(skipped)/time.Since(start).Seconds(), "writes/s")
		})
	}
}
