package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	pb "gvisor.dev/gvisor/pkg/sentry/seccheck/points/points_go_proto"

	"github.com/sandscan/sandscan/trace"
)

var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// newSink listens in a fresh directory and closes the sink with the test.
func newSink(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	s, err := Listen(context.Background(), filepath.Join(t.TempDir(), "sink.sock"), append([]Option{quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client speaks gVisor's side of the protocol, as sinks/remote does.
type client struct {
	t testing.TB
	c *net.UnixConn
}

func dialRaw(t testing.TB, path string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t testing.TB, s *Sink) *client {
	t.Helper()
	c := dialRaw(t, s.Path())
	if _, err := c.Write(marshal(t, &pb.Handshake{Version: 1})); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10240)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("handshake reply: %v", err)
	}
	var hs pb.Handshake
	if err := proto.Unmarshal(buf[:n], &hs); err != nil || hs.Version != 1 {
		t.Fatalf("handshake reply %v, %v", &hs, err)
	}
	return &client{t: t, c: c}
}

func header(typ pb.MessageType, dropped uint32) []byte {
	h := make([]byte, 8)
	binary.LittleEndian.PutUint16(h[0:], 8)
	binary.LittleEndian.PutUint16(h[2:], uint16(typ))
	binary.LittleEndian.PutUint32(h[4:], dropped)
	return h
}

func (c *client) send(typ pb.MessageType, m proto.Message, dropped uint32) {
	c.t.Helper()
	c.raw(append(header(typ, dropped), marshal(c.t, m)...))
}

func (c *client) raw(p []byte) {
	c.t.Helper()
	if _, err := c.c.Write(p); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) close() { c.c.Close() }

func finish(t testing.TB, r *Recorder) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := r.Finish(ctx)
	if ctx.Err() != nil {
		t.Fatal("Finish waited for its deadline: the connection's close was not seen")
	}
	return res
}

// waitMessages waits until the sink has read n packets: Close drops what
// is still unread.
func waitMessages(t testing.TB, s *Sink, n uint64) {
	t.Helper()
	for s.Stats().Messages < n {
		time.Sleep(time.Millisecond)
	}
}

func kinds(evs []trace.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(string(e.Kind))
		if e.Syscall != "" {
			b.WriteString(":" + e.Syscall)
		}
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func TestSinkRecordsAContainer(t *testing.T) {
	s := newSink(t)
	rec := s.Watch("c1")
	c := dial(t, s)
	c.send(pb.MessageType_MESSAGE_CONTAINER_START, &pb.Start{ContextData: ctxData("c1", 1, 1), Args: []string{"/bin/sh"}}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_OPEN, &pb.Open{ContextData: ctxData("c1", 1, 1), Exit: exit(3, 0),
		Sysno: sysOpenat, Fd: atFDCWD, Pathname: "/etc/shadow"}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_WRITE, &pb.Write{ContextData: ctxData("c1", 1, 1), Exit: exit(5, 0),
		Sysno: sysWrite, Fd: 1, FdPath: "host:[1]", Count: 5}, 0)
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: ctxData("c1", 1, 1)}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_OPEN, &pb.Open{ContextData: ctxData("other", 1, 1), Exit: exit(3, 0)}, 0)
	c.close()
	res := finish(t, rec)
	if got, want := kinds(res.Events), "start open:openat exit"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i, e := range res.Events {
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d has Seq %d", i, e.Seq)
		}
	}
	if res.Events[1].Path != "/etc/shadow" || res.Total != 3 || res.Dropped != 0 || res.Malformed != 0 {
		t.Errorf("result %+v", res)
	}
	st := s.Stats()
	if st.Conns != 1 || st.Messages != 5 || st.Skipped != 1 || st.Unwatched != 1 || st.Events != 3 {
		t.Errorf("stats %+v", st)
	}
	// Finish is final: later calls return the same, later events are not kept.
	if again := rec.Finish(context.Background()); again.Total != res.Total || len(again.Events) != len(res.Events) {
		t.Errorf("second Finish %+v", again)
	}
}

func TestSinkPairsEnterAndExit(t *testing.T) {
	s := newSink(t)
	rec := s.Watch("c1")
	c := dial(t, s)
	cd := func(tid int32) *pb.ContextData { return ctxData("c1", 5, tid) }
	addr := sockaddrIn([4]byte{10, 9, 9, 9}, 4444)
	// A successful execve: enter, exit with result 0, then sentry/execve.
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Sysno: sysExecve,
		Pathname: "/tmp/x", Argv: []string{"x", "--pool"}, Envv: []string{"A=1"}}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Exit: exit(0, 0), Sysno: sysExecve}, 0)
	c.send(pb.MessageType_MESSAGE_SENTRY_EXEC, &pb.ExecveInfo{ContextData: cd(5), BinaryPath: "/tmp/x", Argv: []string{"x", "--pool"}}, 0)
	// An execve that fails with an error gVisor reports at exit.
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Sysno: sysExecveat, Fd: 99, Pathname: "y"}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Exit: exit(0, 9), Sysno: sysExecveat}, 0)
	// An execve that fails later (ENOENT): no sentry/execve, the thread goes on.
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Sysno: sysExecve, Pathname: "/nope"}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: cd(5), Exit: exit(0, 0), Sysno: sysExecve}, 0)
	// A connect on another thread, finished, and a raw syscall paired.
	c.send(pb.MessageType_MESSAGE_SYSCALL_CONNECT, &pb.Connect{ContextData: cd(6), Sysno: sysConnect, Fd: 3, Address: addr}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_CONNECT, &pb.Connect{ContextData: cd(6), Exit: exit(0, 111), Sysno: sysConnect, Fd: 3}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_RAW, &pb.Syscall{ContextData: cd(5), Sysno: sysPtrace, Arg1: 16, Arg2: 1}, 0)
	c.send(pb.MessageType_MESSAGE_SYSCALL_RAW, &pb.Syscall{ContextData: cd(5), Exit: exit(0, 1), Sysno: sysPtrace, Arg1: 16, Arg2: 1}, 0)
	// A connect that blocks until the sandbox is torn down: only its enter.
	c.send(pb.MessageType_MESSAGE_SYSCALL_CONNECT, &pb.Connect{ContextData: cd(7), Sysno: sysConnect, Fd: 4, Address: addr}, 0)
	// A kill that never returns: flushed by the thread's exit.
	c.send(pb.MessageType_MESSAGE_SYSCALL_RAW, &pb.Syscall{ContextData: cd(8), Sysno: sysKill, Arg1: 8, Arg2: 9}, 0)
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: cd(8), ExitStatus: 9}, 0)
	c.close()

	res := finish(t, rec)
	// The failed execve is known only when its thread's next syscall comes,
	// after the connect of thread 6.
	want := "execve:execve exec execve:execveat connect:connect execve:execve syscall:ptrace syscall:kill exit connect:connect"
	if got := kinds(res.Events); got != want {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
	ev := res.Events
	if e := ev[0]; e.Path != "/tmp/x" || len(e.Argv) != 2 || len(e.Env) != 1 || e.Ret != 0 || e.Errno != 0 {
		t.Errorf("successful execve %+v", e)
	}
	if e := ev[2]; e.Errno != 9 || e.Ret != -9 || e.Path != "y" {
		t.Errorf("execveat EBADF %+v", e)
	}
	if e := ev[4]; e.Path != "/nope" || e.Ret != -1 || e.Errno != ErrnoUnknown {
		t.Errorf("execve that failed after its exit point %+v", e)
	}
	if e := ev[3]; e.TID != 6 || e.Errno != 111 || e.Addr == nil || e.Addr.IP != "10.9.9.9" || e.Addr.Port != 4444 {
		t.Errorf("refused connect %+v", e)
	}
	if e := ev[5]; e.Errno != 1 || e.Args[0] != 16 {
		t.Errorf("ptrace %+v", e)
	}
	if e := ev[6]; e.TID != 8 || e.Args[1] != 9 || e.Ret != 0 {
		t.Errorf("kill without exit %+v", e)
	}
	if e := ev[8]; e.TID != 7 || e.Addr == nil || e.Addr.Port != 4444 || e.Ret != 0 {
		t.Errorf("blocked connect %+v", e)
	}
	if res.Total != uint64(len(ev)) {
		t.Errorf("total %d for %d events", res.Total, len(ev))
	}
}

func TestSinkCountsDroppedAndCaps(t *testing.T) {
	s := newSink(t, WithEventCap(3))
	rec := s.Watch("c1")
	c := dial(t, s)
	open := &pb.Open{ContextData: ctxData("c1", 1, 1), Exit: exit(3, 0), Sysno: sysOpenat, Pathname: "/x"}
	// gVisor's count is cumulative and wraps at 2^32.
	for _, d := range []uint32{0, 2, 2, 5, 0xfffffffe, 1} {
		c.send(pb.MessageType_MESSAGE_SYSCALL_OPEN, open, d)
	}
	c.close()
	res := finish(t, rec)
	// Drops: 2, then 3, then 0xfffffff9, then 3 across the wrap; plus 3 over the cap.
	wantGVisor := uint64(2 + 3 + (0xfffffffe - 5) + 3)
	if len(res.Events) != 3 || res.Total != 6 || res.Dropped != wantGVisor+3 {
		t.Fatalf("kept %d, total %d, dropped %d (want 3, 6, %d)", len(res.Events), res.Total, res.Dropped, wantGVisor+3)
	}
}

func TestSinkSurvivesMalformedPackets(t *testing.T) {
	s := newSink(t, WithMaxPacket(4096))
	rec := s.Watch("c1")
	c := dial(t, s)
	good := marshal(t, &pb.TaskExit{ContextData: ctxData("c1", 1, 1)})
	c.send(pb.MessageType_MESSAGE_SYSCALL_OPEN, &pb.Open{ContextData: ctxData("c1", 1, 1), Exit: exit(3, 0), Sysno: sysOpen}, 0)
	c.raw([]byte{8, 0, 5})                                                                   // shorter than a header
	c.raw(append([]byte{4, 0, 5, 0, 0, 0, 0, 0}, good...))                                   // header size below 8
	c.raw(append([]byte{0xff, 0x0f, 5, 0, 0, 0, 0, 0}, good...))                             // header size past the packet
	c.raw(append(header(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, 0), 0x0a, 0x7f))            // truncated field
	c.raw(append(header(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, 0), make([]byte, 5000)...)) // over the packet limit
	c.raw(append(header(999, 0), good...))                                                   // unknown type
	// A longer header from a newer gVisor: its size field is honoured.
	long := append([]byte{12, 0, byte(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT), 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd}, good...)
	c.raw(long)
	c.close()
	res := finish(t, rec)
	if got := kinds(res.Events); got != "open:open exit" {
		t.Fatalf("events %q", got)
	}
	if res.Malformed != 5 || res.Unknown != 1 {
		t.Errorf("malformed %d unknown %d, want 5 and 1", res.Malformed, res.Unknown)
	}
	if st := s.Stats(); st.Malformed != 5 || st.Unknown != 1 || st.Messages != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestSinkClosesBadHandshakes(t *testing.T) {
	tests := []struct {
		name string
		hs   []byte
	}{
		{"version zero", marshal(t, &pb.Handshake{Version: 0})},
		{"not a protobuf", []byte{0xff, 0xff, 0xff}},
		{"too long", make([]byte, 2000)},
	}
	s := newSink(t, WithMaxPacket(1024))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, s.Path())
			defer c.Close()
			if _, err := c.Write(tt.hs); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			n, err := c.Read(make([]byte, 64))
			if err == nil && n > 0 {
				t.Fatalf("sink answered a bad handshake with %d bytes", n)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("sink kept the connection open")
			}
		})
	}
	if st := s.Stats(); st.BadHandshakes != uint64(len(tests)) {
		t.Errorf("bad handshakes %d, want %d", st.BadHandshakes, len(tests))
	}
}

func TestSinkHandshakeTimeout(t *testing.T) {
	s := newSink(t, WithHandshakeTimeout(50*time.Millisecond))
	c := dialRaw(t, s.Path())
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 64)); errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
		t.Fatalf("silent peer not dropped: %v", err)
	}
}

func TestSinkTwoContainersAtOnce(t *testing.T) {
	s := newSink(t)
	recs := map[string]*Recorder{"a": s.Watch("a"), "b": s.Watch("b")}
	var wg sync.WaitGroup
	const n = 2000
	for cid := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, s)
			defer c.close()
			for i := range n {
				c.send(pb.MessageType_MESSAGE_SYSCALL_OPEN, &pb.Open{ContextData: ctxData(cid, int32(i+1), int32(i+1)),
					Exit: exit(3, 0), Sysno: sysOpenat, Pathname: "/" + cid}, 0)
			}
		}()
	}
	wg.Wait()
	for cid, r := range recs {
		res := finish(t, r)
		if len(res.Events) != n || res.Total != n {
			t.Fatalf("%s: %d events, total %d, want %d", cid, len(res.Events), res.Total, n)
		}
		for i, e := range res.Events {
			if e.Path != "/"+cid || e.PID != int32(i+1) || e.Seq != uint64(i+1) {
				t.Fatalf("%s: event %d is %+v: mixed or out of order", cid, i, e)
			}
		}
	}
}

func TestFinishWaitsForTheConnection(t *testing.T) {
	s := newSink(t)
	rec := s.Watch("c1")
	c := dial(t, s)
	c.send(pb.MessageType_MESSAGE_SENTRY_CLONE, &pb.CloneInfo{ContextData: ctxData("c1", 1, 1), CreatedThreadGroupId: 2}, 0)
	done := make(chan Result)
	go func() { done <- finish(t, rec) }()
	// The connection is open: Finish must still take this event.
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: ctxData("c1", 1, 1)}, 0)
	c.close()
	if res := <-done; kinds(res.Events) != "clone exit" {
		t.Fatalf("events %q", kinds(res.Events))
	}
}

func TestFinishEndsWithItsContext(t *testing.T) {
	s := newSink(t)
	rec := s.Watch("never-started")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := rec.Finish(ctx); res.Total != 0 || res.Events != nil {
		t.Fatalf("result %+v", res)
	}
	// A cancelled Finish does not wait for an open connection either.
	rec2 := s.Watch("c2")
	c := dial(t, s)
	defer c.close()
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: ctxData("c2", 1, 1)}, 0)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	rec2.Finish(ctx2) // returns at the deadline at the latest
	if ctx2.Err() == nil {
		t.Fatal("Finish returned before its deadline while the connection was open")
	}
}

func TestCloseEndsFinishAndLeavesNoGoroutines(t *testing.T) {
	s, err := Listen(context.Background(), filepath.Join(t.TempDir(), "s.sock"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Watch("c1")
	idle := s.Watch("idle")
	c := dial(t, s)
	defer c.close()
	c.send(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: ctxData("c1", 1, 1), Sysno: sysExecve, Pathname: "/x"}, 0)
	waitMessages(t, s, 1)
	half := dialRaw(t, s.Path()) // never finishes its handshake
	defer half.Close()
	// The client is still connected; Close must end it all the same.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	res := rec.Finish(context.Background())
	if got := kinds(res.Events); got != "execve:execve" {
		t.Errorf("pending enter not flushed at Close: %q", got)
	}
	idle.Finish(context.Background()) // must not block after Close
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "sandbox/sink.(*") || strings.Contains(stacks, "sandbox/sink.Listen") {
		t.Fatalf("sink goroutines left after Close:\n%s", stacks)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func TestListenContextEndsTheSink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Listen(ctx, filepath.Join(t.TempDir(), "s.sock"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Watch("c1")
	cancel()
	rec.Finish(context.Background()) // returns once the sink has shut down
	if _, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: s.Path(), Net: "unixpacket"}); err == nil {
		t.Fatal("sink still accepts after its context ended")
	}
	s.Close()
}

func TestWatchAllAndTakeover(t *testing.T) {
	s := newSink(t)
	all := s.WatchAll()
	first := s.Watch("c1")
	second := s.Watch("c1") // takes over c1
	c := dial(t, s)
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: ctxData("c1", 1, 1)}, 0)
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{ContextData: ctxData("random", 2, 2)}, 0)
	c.send(pb.MessageType_MESSAGE_SENTRY_TASK_EXIT, &pb.TaskExit{}, 0) // no context at all
	c.close()
	if res := finish(t, second); res.Total != 1 {
		t.Errorf("c1 recorder got %d events", res.Total)
	}
	if res := finish(t, all); res.Total != 2 {
		t.Errorf("catch-all got %d events", res.Total)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if res := first.Finish(ctx); res.Total != 0 {
		t.Errorf("replaced recorder got %d events", res.Total)
	}
}

func TestListenPaths(t *testing.T) {
	dir := t.TempDir()
	// A stale socket from a crashed run is replaced.
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: stale, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	s, err := Listen(context.Background(), stale, quiet)
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	fi, err := os.Stat(stale)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, %v", fi.Mode(), err)
	}
	s.Close()
	// Anything else at the path is left alone.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	if _, err := Listen(context.Background(), file, quiet); err == nil {
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, []byte("keep")) {
		t.Fatal("regular file changed")
	}
}

// BenchmarkSink measures events through the socket: one client sending a
// run's mix, the sink decoding, pairing and recording.
func BenchmarkSink(b *testing.B) {
	types, payloads := benchMix(b)
	packets := make([][]byte, len(types))
	for i := range types {
		packets[i] = append(header(pb.MessageType(types[i]), 0), payloads[i]...)
	}
	s := newSink(b, WithEventCap(1<<30))
	rec := s.Watch("0123456789abcdef")
	c := dial(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.raw(packets[i%len(packets)])
	}
	c.close()
	res := finish(b, rec)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if st := s.Stats(); st.Messages != uint64(b.N) {
		b.Fatalf("sent %d, sink read %d", b.N, st.Messages)
	}
	_ = res
}

func withMaxPending(n int) Option { return func(o *options) { o.maxPending = n } }

func TestSinkBoundsPendingEnters(t *testing.T) {
	s := newSink(t, withMaxPending(2))
	rec := s.Watch("c1")
	c := dial(t, s)
	for tid := int32(1); tid <= 3; tid++ {
		c.send(pb.MessageType_MESSAGE_SYSCALL_CONNECT, &pb.Connect{ContextData: ctxData("c1", 1, tid), Sysno: sysConnect}, 0)
	}
	waitMessages(t, s, 3)
	if st := s.Stats(); st.Events != 1 {
		t.Errorf("%d events delivered while 3 enters wait with room for 2", st.Events)
	}
	c.close()
	if res := finish(t, rec); res.Total != 3 {
		t.Errorf("%d of 3 enters delivered", res.Total)
	}
}
