package trace

import "time"

// Kind says what an Event records and so which of its fields are set.
type Kind string

// Event kinds. The comment on each says which fields it sets besides the
// common ones (Seq, Time, PID, TID, PPID, Comm, Cwd, UID, GID).
const (
	// KindStart: the container's first process. Argv, Env, Cwd.
	KindStart Kind = "start"
	// KindExec: a program image replaced a process (it succeeded).
	// Path (the binary), Argv, Env, Mode (binary's), SHA256.
	KindExec Kind = "exec"
	// KindExecve: an execve/execveat call, whether or not it succeeded.
	// Path, Argv, Env, Ret, Errno.
	KindExecve Kind = "execve"
	// KindClone: a new thread or process. Child, Flags. Thread is true when
	// the child shares the parent's thread group.
	KindClone Kind = "clone"
	// KindExit: a task ended. Ret holds its exit status.
	KindExit Kind = "exit"
	// KindOpen: open/openat/creat. Path, Flags, Mode, Ret (fd), Errno.
	KindOpen Kind = "open"
	// KindConnect: Addr, FD, Ret, Errno.
	KindConnect Kind = "connect"
	// KindSocket: Domain, Type, Protocol, Ret (fd).
	KindSocket Kind = "socket"
	// KindBind: Addr, FD, Ret.
	KindBind Kind = "bind"
	// KindAccept: Addr (the peer), FD, Ret.
	KindAccept Kind = "accept"
	// KindWrite: a write to a socket. FD, Path (the fd's path), Bytes, Ret.
	KindWrite Kind = "write"
	// KindChdir: Path, Ret.
	KindChdir Kind = "chdir"
	// KindSetID: setuid/setgid/setres[ug]id/setre[ug]id. Syscall, IDs.
	KindSetID Kind = "setid"
	// KindSyscall: any other traced syscall, seen through gVisor's raw
	// point: Syscall, Args, Ret, Errno. Pointer arguments are addresses
	// in the sandbox and cannot be read.
	KindSyscall Kind = "syscall"
)

// Event is one thing a sandboxed process did, decoded from gVisor's trace.
// Only the fields its Kind names are set.
type Event struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`

	// Syscall is the syscall's name for syscall-level kinds.
	Syscall string `json:"syscall,omitempty"`

	// Who: ids as the sandbox's pid namespace numbers them.
	PID  int32  `json:"pid"`
	TID  int32  `json:"tid,omitempty"`
	PPID int32  `json:"ppid,omitempty"`
	Comm string `json:"comm,omitempty"`
	Cwd  string `json:"cwd,omitempty"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`

	// Result: Ret is the syscall's return value, Errno its error (0: none).
	Ret   int64 `json:"ret"`
	Errno int32 `json:"errno,omitempty"`

	Path   string   `json:"path,omitempty"`
	Argv   []string `json:"argv,omitempty"`
	Env    []string `json:"env,omitempty"`
	SHA256 string   `json:"sha256,omitempty"`
	Flags  uint64   `json:"flags,omitempty"`
	Mode   uint32   `json:"mode,omitempty"`
	FD     int64    `json:"fd,omitempty"`
	Bytes  int64    `json:"bytes,omitempty"`

	Addr     *SockAddr `json:"addr,omitempty"`
	Domain   int32     `json:"domain,omitempty"`
	Type     int32     `json:"type,omitempty"`
	Protocol int32     `json:"protocol,omitempty"`

	Child  int32 `json:"child,omitempty"`
	Thread bool  `json:"thread,omitempty"`

	// IDs are the uid/gid arguments of a setid call, in argument order.
	IDs  []uint32 `json:"ids,omitempty"`
	Args []uint64 `json:"args,omitempty"`
}

// Failed reports whether the event's syscall returned an error.
func (e *Event) Failed() bool { return e.Errno != 0 }

// Address families a SockAddr can hold.
const (
	FamilyUnix  = "unix"
	FamilyInet  = "inet"
	FamilyInet6 = "inet6"
	FamilyOther = "other"
)

// SockAddr is a decoded socket address.
type SockAddr struct {
	Family string `json:"family"`
	IP     string `json:"ip,omitempty"`
	Port   uint16 `json:"port,omitempty"`
	// Path is a unix socket's path; abstract names start with "@".
	Path string `json:"path,omitempty"`
	// Raw is the family number when Family is "other".
	Raw uint16 `json:"raw_family,omitempty"`
}

// Process is one thread group of the run, built from its events.
type Process struct {
	PID   int32     `json:"pid"`
	PPID  int32     `json:"ppid"`
	Exe   string    `json:"exe,omitempty"`
	Argv  []string  `json:"argv,omitempty"`
	Comm  string    `json:"comm,omitempty"`
	UID   uint32    `json:"uid"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Exited is false when the run ended before the process did.
	Exited     bool  `json:"exited"`
	ExitStatus int32 `json:"exit_status,omitempty"`
	// Execs lists every program the process ran, in order; Exe and Argv
	// are the last of them.
	Execs []string `json:"execs,omitempty"`
}

// File change operations of the diff.
const (
	FileCreated  = "created"
	FileModified = "modified"
	FileDeleted  = "deleted"
)

// File types of a FileChange.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
	TypeOther   = "other"
)

// FileChange is one entry of the filesystem diff against the image.
type FileChange struct {
	Path string `json:"path"`
	Op   string `json:"op"`
	Type string `json:"type"`
	// Mode holds the permission bits plus setuid, setgid and sticky, in
	// the Unix (not Go) encoding.
	Mode   uint32 `json:"mode"`
	UID    uint32 `json:"uid"`
	GID    uint32 `json:"gid"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Link   string `json:"link,omitempty"`
	// Artifact names the Artifact that holds a copy of the content.
	Artifact string `json:"artifact,omitempty"`
}

// Artifact is a copy of a file the run left behind.
type Artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Data is cut at the artifact cap; Truncated says so.
	Data      []byte `json:"data"`
	Truncated bool   `json:"truncated,omitempty"`
}
