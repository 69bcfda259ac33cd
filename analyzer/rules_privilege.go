package analyzer

import (
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func privilegeRules() []Rule {
	return []Rule{
		{
			ID: "privesc.setuid", Title: "Setuid/setgid bit or capability set on a file",
			Description: "chmod set a setuid or setgid bit (call or command, attempts too), the fs diff holds a new setuid/setgid file, or setcap granted a file privileges, outside a package install.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1548.001"},
			Match: matchSetuid,
		},
		{
			ID: "privesc.sudoers", Title: "sudo policy changed",
			Description: "/etc/sudoers or /etc/sudoers.d was written or edited in place (sed -i, tee, cp), or a command line set NOPASSWD or timestamp_timeout. Reading sudoers, as sudo does, is not it.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1548.003"},
			Match: matchSudoers,
		},
		{
			ID: "privesc.escape", Title: "Container escape attempt",
			Description: "A mount of a block device or host path, a mount/setns/chroot call, nsenter into PID 1's namespaces, a write to core_pattern or a cgroup release_agent, or a connection to a container runtime's socket. Under gVisor these fail: the attempt is what counts.",
			Severity:    SeverityCritical, Confidence: 0.8, Techniques: []string{"T1611", "T1609"},
			Match: matchEscape,
		},
		{
			ID: "privesc.namespace-unshare", Title: "New user or mount namespace requested",
			Description: "unshare(2) asked for a user or mount namespace, or the unshare command ran with -r/-U/-m: the first step of most container escapes and kernel exploits.",
			Severity:    SeverityMedium, Confidence: 0.6, Techniques: []string{"T1611"},
			Match: matchUnshare,
		},
		{
			ID: "privesc.ptrace", Title: "Process attached with ptrace",
			Description: "ptrace(2) attach, seize or memory poke on another process, or gdb/strace attached to a pid: code injection or memory theft.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1055.008"},
			Match: matchPtrace,
		},
		{
			ID: "privesc.proc-mem-write", Title: "Another process's memory opened for writing",
			Description: "/proc/<pid>/mem of another process was opened for writing: injecting code through procfs.",
			Severity:    SeverityCritical, Confidence: 0.85, Techniques: []string{"T1055.009"},
			Match: matchProcMemWrite,
		},
	}
}

func matchSetuid(x *Index) []Hit {
	var hits []Hit
	for _, i := range chmodSetID(x) {
		if img := x.ImageAt(i); img != nil && installing(x, img.PID) {
			continue
		}
		e := &x.Events[i]
		s := "chmod sets setuid/setgid"
		if e.Kind == trace.KindSyscall && len(e.Args) > 0 {
			s = e.Syscall + " mode " + strconv.FormatUint(e.Args[len(e.Args)-1]&07777, 8)
			for _, a := range e.Args {
				if a&(modeSetuid|modeSetgid) != 0 && a <= 07777 {
					s = e.Syscall + " mode 0" + strconv.FormatUint(a, 8)
					break
				}
			}
		} else if img := x.ImageAt(i); img != nil {
			s = cmdline(img)
		}
		hits = append(hits, Hit{Events: []int{i}, Summary: s})
	}
	installed := len(x.ExecsOf(packageManagers)) > 0
	for _, f := range x.Run.Files {
		if f.Op == trace.FileDeleted || f.Type != trace.TypeFile || f.Mode&(modeSetuid|modeSetgid) == 0 {
			continue
		}
		if installed && isSystemBin(f.Path) {
			continue
		}
		hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: setuid/setgid file " + f.Path})
	}
	for _, e := range x.ExecsOf(set("setcap")) {
		if installing(x, e.PID) || infoOnly(e.Args) || hasArg(e.Args, "-r") {
			continue
		}
		for _, a := range e.Args {
			la := strings.ToLower(a)
			if strings.HasPrefix(la, "cap_") || strings.Contains(la, "+ep") || strings.Contains(la, "=ep") || strings.Contains(la, "+eip") {
				hits = append(hits, hitExec(e, "capabilities granted: "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

func isSudoers(p string) bool { return p == "/etc/sudoers" || under(p, "/etc/sudoers.d") }

func matchSudoers(x *Index) []Hit {
	var hits []Hit
	for _, o := range persistenceWrites(x, "sudoers") {
		hits = append(hits, hitOpen(o, "wrote "+o.Path))
	}
	for _, e := range x.Execs {
		if e.Start || installing(x, e.PID) {
			continue
		}
		fam := family(e.Name)
		ops := operands(e.Args)
		switch {
		case (fam == "sed" || fam == "perl") && hasArgPrefix(e.Args, "-i", "-pi", "--in-place"):
			for _, op := range ops {
				if isSudoers(resolve(e.Cwd, op)) {
					hits = append(hits, hitExec(e, "edited in place: "+cmdline(e.Image)))
					break
				}
			}
		case fam == "tee" || fam == "cp" || fam == "mv" || fam == "install" || fam == "ln" || fam == "dd":
			if len(ops) > 0 && isSudoers(resolve(e.Cwd, strings.TrimPrefix(ops[len(ops)-1], "of="))) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		}
		if fam == "sudo" || fam == "visudo" {
			continue
		}
		for _, a := range e.Args {
			if strings.Contains(a, "timestamp_timeout") || (strings.Contains(a, "NOPASSWD") && (isShell(fam) || fam == "sed" || fam == "tee" || fam == "echo" || fam == "printf" || fam == "perl")) {
				hits = append(hits, hitExec(e, "sudo policy text on the command line"))
				break
			}
		}
	}
	for _, f := range persistenceDiff(x, nil, "sudoers") {
		if len(hits) == 0 {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "fs diff: " + f.Op + " " + f.Path})
		}
	}
	return hits
}

// blockDevice reports a disk device path a host mount would use.
func blockDevice(p string) bool {
	for _, pre := range []string{"/dev/sd", "/dev/vd", "/dev/xvd", "/dev/hd", "/dev/nvme", "/dev/dm-", "/dev/mapper/", "/dev/root", "/dev/mmcblk", "/dev/loop", "/dev/disk/"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

var runtimeSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock", "/run/podman/podman.sock",
	"/var/run/podman/podman.sock", "/run/k3s/containerd/containerd.sock", "/var/run/dockershim.sock"}

func matchEscape(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("mount")) {
		for _, op := range operands(e.Args) {
			if blockDevice(op) || op == "/proc/1/root" || strings.HasPrefix(op, "/proc/1/") && !strings.HasPrefix(op, "/proc/1/fd") {
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "mount of host device or path: " + cmdline(e.Image), Techniques: []string{"T1611"}})
				break
			}
		}
	}
	for _, e := range x.ExecsOf(set("nsenter")) {
		for i, a := range e.Args {
			if (a == "-t" || a == "--target") && i+1 < len(e.Args) && e.Args[i+1] == "1" || a == "--target=1" || a == "-t1" {
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "nsenter into PID 1: " + cmdline(e.Image), Techniques: []string{"T1611"}})
				break
			}
		}
	}
	for _, e := range x.ExecsOf(set("chroot")) {
		if ops := operands(e.Args); len(ops) > 0 && (ops[0] == "/host" || strings.HasPrefix(ops[0], "/proc/1/root") || strings.HasPrefix(ops[0], "/mnt")) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "chroot into a host path: " + cmdline(e.Image), Techniques: []string{"T1611"}})
		}
	}
	for _, name := range []string{"mount", "setns", "chroot", "pivot_root"} {
		for _, i := range x.Syscall(name) {
			if img := x.ImageAt(i); img != nil && (installing(x, img.PID) || family(img.Name) == "mount" && hasArg(img.Args, "-B", "--bind", "-o") && !anyBlockDevice(img.Args)) {
				continue
			}
			s := name + " called"
			if x.Events[i].Errno != 0 {
				s += " (refused)"
			}
			hits = append(hits, Hit{Events: []int{i}, Summary: s, Techniques: []string{"T1611"}})
		}
	}
	escapeWrite := func(p string) bool {
		return p == "/proc/sys/kernel/core_pattern" || p == "/proc/sys/fs/binfmt_misc/register" ||
			strings.HasSuffix(p, "/release_agent") || strings.HasSuffix(p, "/notify_on_release") && under(p, "/sys/fs/cgroup") ||
			p == "/proc/sys/kernel/modprobe" || p == "/sys/kernel/uevent_helper" || p == "/proc/sys/kernel/hotplug"
	}
	for _, o := range x.WritesMatching(escapeWrite) {
		hits = append(hits, Hit{Events: []int{o.Ev}, Summary: "write to host-executed hook " + o.Path, Techniques: []string{"T1611"}})
	}
	for _, i := range x.Kind(trace.KindConnect) {
		a := x.Events[i].Addr
		if a != nil && a.Family == trace.FamilyUnix && contains(runtimeSockets, a.Path) {
			hits = append(hits, Hit{Events: []int{i}, Summary: "connect to container runtime socket " + a.Path})
		}
	}
	for _, o := range x.Opens {
		if contains(runtimeSockets, o.Path) {
			hits = append(hits, Hit{Events: []int{o.Ev}, Summary: "open of container runtime socket " + o.Path})
		}
	}
	return hits
}

func anyBlockDevice(args []string) bool {
	for _, a := range args {
		if blockDevice(a) {
			return true
		}
	}
	return false
}

// Linux clone/unshare flags.
const (
	cloneNewNS   = 0x00020000
	cloneNewUser = 0x10000000
)

func matchUnshare(x *Index) []Hit {
	var hits []Hit
	for _, i := range x.Syscall("unshare") {
		e := &x.Events[i]
		if len(e.Args) > 0 && e.Args[0]&(cloneNewNS|cloneNewUser) != 0 {
			hits = append(hits, Hit{Events: []int{i}, Summary: "unshare(0x" + strconv.FormatUint(e.Args[0], 16) + ")"})
		}
	}
	for _, e := range x.ExecsOf(set("unshare")) {
		if hasArg(e.Args, "-r", "-U", "--user", "-m", "--mount", "--map-root-user") || hasArgPrefix(e.Args, "-rm", "-mr", "-Ur", "-rU") {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

// ptrace requests that read or change another process.
var ptraceAttach = map[uint64]string{4: "POKETEXT", 5: "POKEDATA", 13: "SETREGS", 16: "ATTACH", 0x4206: "SEIZE", 1: "PEEKTEXT", 2: "PEEKDATA"}

func matchPtrace(x *Index) []Hit {
	var hits []Hit
	for _, i := range x.Syscall("ptrace") {
		e := &x.Events[i]
		if len(e.Args) == 0 {
			continue
		}
		if req, ok := ptraceAttach[e.Args[0]]; ok {
			target := ""
			if len(e.Args) > 1 {
				target = " pid " + strconv.FormatUint(e.Args[1], 10)
			}
			hits = append(hits, Hit{Events: []int{i}, Summary: "ptrace(PTRACE_" + req + ")" + target})
		}
	}
	for _, e := range x.ExecsOf(set("gdb", "strace", "ltrace", "gcore")) {
		if hasArg(e.Args, "-p", "--pid", "attach") || family(e.Name) == "gcore" && len(operands(e.Args)) > 0 {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

func matchProcMemWrite(x *Index) []Hit {
	var hits []Hit
	for _, o := range x.Opens {
		if !o.Write() {
			continue
		}
		pid, leaf, ok := procPIDLeaf(o.Path)
		if !ok || leaf != "mem" || pid == "self" || pid == "thread-self" {
			continue
		}
		if o.Img != nil && strconv.Itoa(int(o.PID)) == pid {
			continue
		}
		hits = append(hits, hitOpen(o, "opened "+o.Path+" for writing"))
	}
	return hits
}
