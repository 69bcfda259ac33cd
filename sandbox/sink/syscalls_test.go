//go:build linux && amd64

package sink

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The table's numbers must be the kernel's: a wrong one would name
// someone else's syscall in every report.
func TestSyscallNumbers(t *testing.T) {
	want := map[string]uint64{
		"write": unix.SYS_WRITE, "open": unix.SYS_OPEN, "writev": unix.SYS_WRITEV,
		"socket": unix.SYS_SOCKET, "connect": unix.SYS_CONNECT, "accept": unix.SYS_ACCEPT,
		"bind": unix.SYS_BIND, "clone": unix.SYS_CLONE, "fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK,
		"execve": unix.SYS_EXECVE, "kill": unix.SYS_KILL, "chdir": unix.SYS_CHDIR, "fchdir": unix.SYS_FCHDIR,
		"rename": unix.SYS_RENAME, "creat": unix.SYS_CREAT, "link": unix.SYS_LINK, "unlink": unix.SYS_UNLINK,
		"symlink": unix.SYS_SYMLINK, "chmod": unix.SYS_CHMOD, "fchmod": unix.SYS_FCHMOD,
		"ptrace": unix.SYS_PTRACE, "setuid": unix.SYS_SETUID, "setgid": unix.SYS_SETGID,
		"setsid": unix.SYS_SETSID, "setreuid": unix.SYS_SETREUID, "setregid": unix.SYS_SETREGID,
		"setresuid": unix.SYS_SETRESUID, "setresgid": unix.SYS_SETRESGID,
		"personality": unix.SYS_PERSONALITY, "prctl": unix.SYS_PRCTL, "chroot": unix.SYS_CHROOT,
		"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "reboot": unix.SYS_REBOOT,
		"sethostname": unix.SYS_SETHOSTNAME, "init_module": unix.SYS_INIT_MODULE,
		"setxattr": unix.SYS_SETXATTR, "fsetxattr": unix.SYS_FSETXATTR, "tkill": unix.SYS_TKILL,
		"tgkill": unix.SYS_TGKILL, "keyctl": unix.SYS_KEYCTL, "openat": unix.SYS_OPENAT,
		"unlinkat": unix.SYS_UNLINKAT, "renameat": unix.SYS_RENAMEAT, "linkat": unix.SYS_LINKAT,
		"symlinkat": unix.SYS_SYMLINKAT, "fchmodat": unix.SYS_FCHMODAT, "unshare": unix.SYS_UNSHARE,
		"utimensat": unix.SYS_UTIMENSAT, "accept4": unix.SYS_ACCEPT4, "setns": unix.SYS_SETNS,
		"finit_module": unix.SYS_FINIT_MODULE, "renameat2": unix.SYS_RENAMEAT2,
		"memfd_create": unix.SYS_MEMFD_CREATE, "bpf": unix.SYS_BPF, "execveat": unix.SYS_EXECVEAT,
		"pidfd_send_signal": unix.SYS_PIDFD_SEND_SIGNAL,
	}
	if len(want) != len(syscallNames) {
		t.Errorf("table has %d syscalls, test knows %d", len(syscallNames), len(want))
	}
	for nr, name := range syscallNames {
		if w, ok := want[name]; !ok || w != nr {
			t.Errorf("%s is %d here, %d in x/sys/unix", name, nr, w)
		}
	}
	for _, nr := range rawSyscalls {
		if _, ok := syscallNames[nr]; !ok {
			t.Errorf("raw syscall %d has no name", nr)
		}
	}
	if got := SyscallName(unix.SYS_GETPID); got != "sys_39" {
		t.Errorf("untraced syscall named %q", got)
	}
}
