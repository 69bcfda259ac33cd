package sink

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	pb "gvisor.dev/gvisor/pkg/sentry/seccheck/points/points_go_proto"

	"github.com/sandscan/sandscan/trace"
)

// Limits on what one decoded message may hold. Anything longer is cut, so a
// hostile sandbox cannot make the recorded run arbitrarily large.
const (
	MaxPath      = 4096     // a path, the cwd, an fd's path
	MaxArgs      = 1024     // argv or env entries
	MaxArgBytes  = 64 << 10 // argv or env, all entries together
	MaxArgLen    = 16 << 10 // one argv or env entry
	maxName      = 256      // process name
	maxContainer = 1024     // container id
)

// Errors Decode returns. A message that is well formed but not recorded
// (a write to a file, a point the sink never asks for) is ErrSkipped.
var (
	ErrUnknownType = errors.New("unknown message type")
	ErrMalformed   = errors.New("malformed message")
	ErrSkipped     = errors.New("message not recorded")
)

// atFDCWD is AT_FDCWD: a *at syscall's dirfd that means "the cwd".
const atFDCWD = -100

// cloneThread is CLONE_THREAD.
const cloneThread = 0x10000

var unmarshal = proto.UnmarshalOptions{DiscardUnknown: true}

// ErrnoUnknown is the Errno of an execve that failed for a reason gVisor's
// trace does not report (its Ret is -1).
const ErrnoUnknown int32 = -1

// decoded is one message turned into an event. enter is true for a
// syscall's enter point: the event has no result yet. await marks an
// execve whose outcome the thread's next event will tell.
type decoded struct {
	ev    trace.Event
	cid   string
	enter bool
	await bool
}

// Decode turns one trace message (its type from the packet header and the
// protobuf payload after it) into an event and the id of the container it
// came from. An enter point's event carries no result (Ret, Errno); the
// Sink pairs it with its exit. Decode never panics on any input.
func Decode(msgType uint16, payload []byte) (trace.Event, string, error) {
	d, err := decode(msgType, payload)
	return d.ev, d.cid, err
}

func decode(msgType uint16, payload []byte) (decoded, error) {
	var d decoded
	switch pb.MessageType(msgType) {
	case pb.MessageType_MESSAGE_CONTAINER_START:
		m := &pb.Start{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		if d.cid == "" {
			d.cid = capString(m.Id, maxContainer)
		}
		d.ev.Kind = trace.KindStart
		d.ev.Argv, d.ev.Env = capList(m.Args), capList(m.Env)
		if m.Cwd != "" {
			d.ev.Cwd = capString(m.Cwd, MaxPath)
		}
	case pb.MessageType_MESSAGE_SENTRY_EXEC:
		m := &pb.ExecveInfo{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.ev.Kind = trace.KindExec
		d.ev.Path = capString(m.BinaryPath, MaxPath)
		d.ev.Argv, d.ev.Env = capList(m.Argv), capList(m.Env)
		d.ev.Mode = m.BinaryMode
		if len(m.BinarySha256) == 32 {
			d.ev.SHA256 = hex.EncodeToString(m.BinarySha256)
		}
	case pb.MessageType_MESSAGE_SENTRY_CLONE:
		m := &pb.CloneInfo{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.ev.Kind = trace.KindClone
		d.ev.Flags = m.Flags
		d.ev.Thread = m.Flags&cloneThread != 0 ||
			(m.ContextData != nil && m.CreatedThreadGroupId == m.ContextData.ThreadGroupId)
		d.ev.Child = m.CreatedThreadGroupId
		if d.ev.Thread {
			d.ev.Child = m.CreatedThreadId
		}
	case pb.MessageType_MESSAGE_SENTRY_TASK_EXIT:
		m := &pb.TaskExit{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.ev.Kind = trace.KindExit
		d.ev.Ret = int64(exitCode(uint32(m.ExitStatus)))
	case pb.MessageType_MESSAGE_SYSCALL_RAW:
		m := &pb.Syscall{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Syscall = SyscallName(m.Sysno)
		if m.Sysno == sysSetreuid || m.Sysno == sysSetregid {
			d.ev.Kind = trace.KindSetID
			d.ev.IDs = []uint32{uint32(m.Arg1), uint32(m.Arg2)}
		} else {
			d.ev.Kind = trace.KindSyscall
			d.ev.Args = []uint64{m.Arg1, m.Arg2, m.Arg3, m.Arg4, m.Arg5, m.Arg6}
		}
	case pb.MessageType_MESSAGE_SYSCALL_OPEN:
		m := &pb.Open{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindOpen, SyscallName(m.Sysno)
		d.ev.Path = resolve(m.Pathname, m.Fd, m.FdPath, d.ev.Cwd)
		d.ev.Flags, d.ev.Mode = uint64(m.Flags), m.Mode
	case pb.MessageType_MESSAGE_SYSCALL_CONNECT:
		m := &pb.Connect{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindConnect, SyscallName(m.Sysno)
		d.ev.FD, d.ev.Addr = m.Fd, DecodeSockAddr(m.Address)
	case pb.MessageType_MESSAGE_SYSCALL_EXECVE:
		m := &pb.Execve{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindExecve, SyscallName(m.Sysno)
		fd := int64(atFDCWD)
		if m.Sysno == sysExecveat {
			fd = m.Fd
		}
		d.ev.Path = resolve(m.Pathname, fd, m.FdPath, d.ev.Cwd)
		d.ev.Argv, d.ev.Env = capList(m.Argv), capList(m.Envv)
		d.ev.Flags = uint64(m.Flags)
	case pb.MessageType_MESSAGE_SYSCALL_SOCKET:
		m := &pb.Socket{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSocket, SyscallName(m.Sysno)
		d.ev.Domain, d.ev.Type, d.ev.Protocol = m.Domain, m.Type, m.Protocol
	case pb.MessageType_MESSAGE_SYSCALL_CHDIR:
		m := &pb.Chdir{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindChdir, SyscallName(m.Sysno)
		if m.Sysno == sysFchdir {
			d.ev.FD, d.ev.Path = m.Fd, capString(m.FdPath, MaxPath)
		} else {
			d.ev.Path = resolve(m.Pathname, atFDCWD, "", d.ev.Cwd)
		}
	case pb.MessageType_MESSAGE_SYSCALL_SETID:
		m := &pb.Setid{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSetID, SyscallName(m.Sysno)
		if m.Sysno != sysSetsid {
			d.ev.IDs = []uint32{m.Id}
		}
	case pb.MessageType_MESSAGE_SYSCALL_SETRESID:
		m := &pb.Setresid{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSetID, SyscallName(m.Sysno)
		d.ev.IDs = []uint32{m.Rid, m.Eid, m.Sid}
	case pb.MessageType_MESSAGE_SYSCALL_CHROOT:
		m := &pb.Chroot{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSyscall, SyscallName(m.Sysno)
		d.ev.Path = resolve(m.Pathname, atFDCWD, "", d.ev.Cwd)
	case pb.MessageType_MESSAGE_SYSCALL_CLONE:
		m := &pb.Clone{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSyscall, SyscallName(m.Sysno)
		d.ev.Flags, d.ev.Args = m.Flags, []uint64{m.Flags}
	case pb.MessageType_MESSAGE_SYSCALL_FORK:
		m := &pb.Fork{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindSyscall, SyscallName(m.Sysno)
	case pb.MessageType_MESSAGE_SYSCALL_BIND:
		m := &pb.Bind{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindBind, SyscallName(m.Sysno)
		d.ev.FD, d.ev.Addr = int64(m.Fd), DecodeSockAddr(m.Address)
	case pb.MessageType_MESSAGE_SYSCALL_ACCEPT:
		m := &pb.Accept{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindAccept, SyscallName(m.Sysno)
		d.ev.FD, d.ev.Addr = int64(m.Fd), DecodeSockAddr(m.Address)
		d.ev.Flags = uint64(uint32(m.Flags))
	case pb.MessageType_MESSAGE_SYSCALL_WRITE:
		// Most writes go to files and pipes (stdout of a flooding image):
		// look at fd_path before paying for a full decode.
		sock, err := isSocketWrite(payload)
		if err != nil {
			return d, err
		}
		if !sock {
			return d, ErrSkipped
		}
		m := &pb.Write{}
		if err := unmarshalMsg(payload, m); err != nil {
			return d, err
		}
		d.cid = setContext(&d.ev, m.ContextData)
		d.enter = setExit(&d.ev, m.Exit)
		d.ev.Kind, d.ev.Syscall = trace.KindWrite, SyscallName(m.Sysno)
		d.ev.FD, d.ev.Path = m.Fd, capString(m.FdPath, MaxPath)
		d.ev.Bytes = int64(min(m.Count, math.MaxInt64))
	default:
		if _, known := pb.MessageType_name[int32(msgType)]; known && msgType != 0 {
			return d, ErrSkipped
		}
		return d, fmt.Errorf("%w %d", ErrUnknownType, msgType)
	}
	return d, nil
}

func unmarshalMsg(b []byte, m proto.Message) error {
	if err := unmarshal.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// setContext copies the common fields and returns the container id.
func setContext(ev *trace.Event, c *pb.ContextData) string {
	if c == nil {
		return ""
	}
	if c.TimeNs != 0 {
		ev.Time = time.Unix(0, c.TimeNs).UTC()
	}
	ev.PID, ev.TID, ev.PPID = c.ThreadGroupId, c.ThreadId, c.ParentThreadGroupId
	ev.Comm = capString(c.ProcessName, maxName)
	ev.Cwd = capString(c.Cwd, MaxPath)
	if cr := c.Credentials; cr != nil {
		ev.UID, ev.GID = cr.EffectiveUid, cr.EffectiveGid
	}
	return capString(c.ContainerId, maxContainer)
}

// setExit copies a syscall's result and reports whether the message is an
// enter point (it has no result). A failed call gets Ret = -errno, as the
// kernel returns it, when gVisor left Ret at 0.
func setExit(ev *trace.Event, x *pb.Exit) (enter bool) {
	if x == nil {
		return true
	}
	ev.Ret = x.Result
	ev.Errno = int32(max(min(x.Errorno, math.MaxInt32), math.MinInt32))
	if ev.Errno > 0 && ev.Ret == 0 {
		ev.Ret = -int64(ev.Errno)
	}
	return false
}

// exitCode turns a wait status into what a shell shows: the exit code, or
// 128 plus the signal that killed the task.
func exitCode(ws uint32) int32 {
	if sig := ws & 0x7f; sig != 0 {
		return 128 + int32(sig)
	}
	return int32(ws>>8) & 0xff
}

// resolve makes a syscall's path argument absolute when it can: relative
// to the directory fd's path, or to the cwd, then cleaned lexically.
func resolve(p string, fd int64, fdPath, cwd string) string {
	p = capString(p, MaxPath)
	switch {
	case p == "":
		// execveat(fd, "", AT_EMPTY_PATH) and friends name the fd itself.
		if fd != atFDCWD && strings.HasPrefix(fdPath, "/") {
			return capString(fdPath, MaxPath)
		}
		return ""
	case strings.HasPrefix(p, "/"):
		return path.Clean(p)
	case fd != atFDCWD && strings.HasPrefix(fdPath, "/"):
		return capString(path.Join(fdPath, p), MaxPath)
	case fd == atFDCWD && strings.HasPrefix(cwd, "/"):
		return capString(path.Join(cwd, p), MaxPath)
	}
	return p
}

// isSocketWrite reads only the fd_path field (5) of a Write message and
// reports whether it names a socket ("socket:[inode]").
func isSocketWrite(b []byte) (bool, error) {
	var fdPath []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, fmt.Errorf("%w: %w", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if num == 5 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false, fmt.Errorf("%w: %w", ErrMalformed, protowire.ParseError(n))
			}
			fdPath, b = v, b[n:] // the last occurrence wins, as in proto
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return false, fmt.Errorf("%w: %w", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return strings.HasPrefix(string(fdPath), "socket:"), nil
}

// capString cuts s to at most n bytes on a rune boundary. A cut string is
// copied so that it does not keep the whole original alive.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.Clone(s[:i])
}

// capList bounds an argv or env: at most MaxArgs entries, each at most
// MaxArgLen bytes, MaxArgBytes in all.
func capList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(l), MaxArgs))
	left := MaxArgBytes
	for _, s := range l[:min(len(l), MaxArgs)] {
		if left <= 0 {
			break
		}
		s = capString(s, min(MaxArgLen, left))
		left -= len(s)
		out = append(out, s)
	}
	return out
}
