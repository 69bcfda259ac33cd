package sink

import "strconv"

// Syscall numbers are those of x86-64, the only architecture Sandscan runs
// sandboxes on; gVisor's raw trace points are named by these numbers.
const (
	sysWrite           = 1
	sysOpen            = 2
	sysWritev          = 20
	sysSocket          = 41
	sysConnect         = 42
	sysAccept          = 43
	sysBind            = 49
	sysClone           = 56
	sysFork            = 57
	sysVfork           = 58
	sysExecve          = 59
	sysKill            = 62
	sysChdir           = 80
	sysFchdir          = 81
	sysRename          = 82
	sysCreat           = 85
	sysLink            = 86
	sysUnlink          = 87
	sysSymlink         = 88
	sysChmod           = 90
	sysFchmod          = 91
	sysPtrace          = 101
	sysSetuid          = 105
	sysSetgid          = 106
	sysSetsid          = 112
	sysSetreuid        = 113
	sysSetregid        = 114
	sysSetresuid       = 117
	sysSetresgid       = 119
	sysPersonality     = 135
	sysPrctl           = 157
	sysChroot          = 161
	sysMount           = 165
	sysUmount2         = 166
	sysReboot          = 169
	sysSethostname     = 170
	sysInitModule      = 175
	sysSetxattr        = 188
	sysFsetxattr       = 190
	sysTkill           = 200
	sysTgkill          = 234
	sysKeyctl          = 250
	sysOpenat          = 257
	sysUnlinkat        = 263
	sysRenameat        = 264
	sysLinkat          = 265
	sysSymlinkat       = 266
	sysFchmodat        = 268
	sysUnshare         = 272
	sysUtimensat       = 280
	sysAccept4         = 288
	sysSetns           = 308
	sysFinitModule     = 313
	sysRenameat2       = 316
	sysMemfdCreate     = 319
	sysBpf             = 321
	sysExecveat        = 322
	sysPidfdSendSignal = 424
)

// syscallNames names every syscall the sink asks gVisor to trace, whether
// through a schematized point or a raw one.
var syscallNames = map[uint64]string{
	sysWrite: "write", sysOpen: "open", sysWritev: "writev",
	sysSocket: "socket", sysConnect: "connect", sysAccept: "accept",
	sysBind: "bind", sysClone: "clone", sysFork: "fork", sysVfork: "vfork",
	sysExecve: "execve", sysKill: "kill", sysChdir: "chdir",
	sysFchdir: "fchdir", sysRename: "rename", sysCreat: "creat",
	sysLink: "link", sysUnlink: "unlink", sysSymlink: "symlink",
	sysChmod: "chmod", sysFchmod: "fchmod", sysPtrace: "ptrace",
	sysSetuid: "setuid", sysSetgid: "setgid", sysSetsid: "setsid",
	sysSetreuid: "setreuid", sysSetregid: "setregid",
	sysSetresuid: "setresuid", sysSetresgid: "setresgid",
	sysPersonality: "personality", sysPrctl: "prctl", sysChroot: "chroot",
	sysMount: "mount", sysUmount2: "umount2", sysReboot: "reboot",
	sysSethostname: "sethostname", sysInitModule: "init_module",
	sysSetxattr: "setxattr", sysFsetxattr: "fsetxattr", sysTkill: "tkill",
	sysTgkill: "tgkill", sysKeyctl: "keyctl", sysOpenat: "openat",
	sysUnlinkat: "unlinkat", sysRenameat: "renameat", sysLinkat: "linkat",
	sysSymlinkat: "symlinkat", sysFchmodat: "fchmodat",
	sysUnshare: "unshare", sysUtimensat: "utimensat", sysAccept4: "accept4",
	sysSetns: "setns", sysFinitModule: "finit_module",
	sysRenameat2: "renameat2", sysMemfdCreate: "memfd_create",
	sysBpf: "bpf", sysExecveat: "execveat",
	sysPidfdSendSignal: "pidfd_send_signal",
}

// rawSyscalls are traced through gVisor's raw points (syscall/sysno/N),
// because gVisor has no schematized point for them. Their pointer
// arguments are addresses inside the sandbox and cannot be read.
var rawSyscalls = []uint64{
	sysUnlink, sysUnlinkat, sysRename, sysRenameat, sysRenameat2,
	sysChmod, sysFchmod, sysFchmodat, sysPtrace, sysMount, sysUmount2,
	sysUnshare, sysSetns, sysInitModule, sysFinitModule, sysMemfdCreate,
	sysKill, sysTkill, sysTgkill, sysPidfdSendSignal, sysPrctl, sysBpf,
	sysSymlink, sysSymlinkat, sysLink, sysLinkat, sysUtimensat,
	sysSetxattr, sysFsetxattr, sysReboot, sysSethostname, sysPersonality,
	sysKeyctl, sysSetreuid, sysSetregid,
}

// SyscallName returns the name of an x86-64 syscall the sink traces, or
// "sys_N" for any other number.
func SyscallName(sysno uint64) string {
	if n, ok := syscallNames[sysno]; ok {
		return n
	}
	return "sys_" + strconv.FormatUint(sysno, 10)
}
