package trace

import (
	"path"
	"sort"
	"strings"
)

// BuildProcesses derives the process tree from events: one Process per
// thread group, sorted by start time then pid. Threads (clones that share
// the thread group) are folded into their process.
func BuildProcesses(events []Event) []Process {
	byPID := map[int32]*Process{}
	get := func(e *Event, pid int32) *Process {
		p := byPID[pid]
		if p == nil {
			p = &Process{PID: pid, Start: e.Time}
			byPID[pid] = p
		}
		return p
	}
	for i := range events {
		e := &events[i]
		if e.PID == 0 {
			continue
		}
		p := get(e, e.PID)
		if p.PPID == 0 && e.PPID != 0 {
			p.PPID = e.PPID
		}
		if p.Comm == "" {
			p.Comm = e.Comm
		}
		switch e.Kind {
		case KindStart:
			p.Argv = e.Argv
			p.UID = e.UID
		case KindExec:
			p.Exe, p.Argv, p.UID = e.Path, e.Argv, e.UID
			// The event's Comm is the name before the exec took effect.
			p.Comm = ProgramName(e.Path, e.Argv)
			p.Execs = append(p.Execs, e.Path)
		case KindClone:
			if e.Child != 0 && !e.Thread {
				c := get(e, e.Child)
				c.PPID = e.PID
				if c.Exe == "" {
					c.Exe, c.Argv, c.UID = p.Exe, p.Argv, p.UID
				}
			}
		case KindExit:
			// Every thread reports its exit; the leader's is the process's.
			if e.TID == 0 || e.TID == e.PID {
				p.End, p.Exited, p.ExitStatus = e.Time, true, int32(e.Ret)
			}
		}
	}
	out := make([]Process, 0, len(byPID))
	for _, p := range byPID {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].PID < out[j].PID
	})
	return out
}

// Children returns a map from pid to the pids of its direct children.
func Children(procs []Process) map[int32][]int32 {
	m := map[int32][]int32{}
	for _, p := range procs {
		m[p.PPID] = append(m[p.PPID], p.PID)
	}
	return m
}

// ProgramName names what an exec ran: the binary's base name, or for a
// multi-call binary the name it was invoked by (see Program).
func ProgramName(binary string, argv []string) string {
	name, _ := Program(binary, argv)
	return name
}

// Program names what an exec ran and returns its arguments. Busybox
// applets and programs that re-exec /proc/self/exe carry their real name
// only in argv[0]; `busybox wget URL` names the applet in argv[1].
func Program(binary string, argv []string) (name string, args []string) {
	base := path.Base(binary)
	if binary == "" {
		base = ""
	}
	var a0 string
	if len(argv) > 0 {
		a0 = path.Base(argv[0])
	}
	if len(argv) > 1 {
		args = argv[1:]
	}
	viaArgv0 := argv0Dispatch[base] || strings.HasPrefix(binary, "/proc/self/") ||
		(strings.HasPrefix(binary, "/proc/") && base == "exe") || base == "" || base == "."
	if viaArgv0 && a0 != "" {
		if appletFirst[a0] && len(argv) > 1 {
			a0, args = path.Base(argv[1]), argv[2:]
		}
		base = a0
	}
	// A login shell's argv[0] is "-sh".
	return strings.TrimPrefix(base, "-"), args
}

// argv0Dispatch are multi-call binaries that act as the name they were
// invoked by: the trace's exec names the symlink's target (pgrep,
// systemctl, xtables-nft-multi) while argv[0] says what ran (pkill, reboot,
// iptables). Trusting argv[0] only for these keeps `exec -a` renames of
// ordinary programs visible.
var argv0Dispatch = map[string]bool{
	"busybox": true, "toybox": true, "xtables-nft-multi": true, "xtables-legacy-multi": true, "xtables-multi": true,
	"systemctl": true, "kmod": true, "pgrep": true, "killall5": true, "dropbearmulti": true, "coreutils": true,
}

// appletFirst are the multi-call binaries that also take the applet as
// their first argument (`busybox wget`, `xtables-nft-multi iptables -F`).
var appletFirst = map[string]bool{
	"busybox": true, "toybox": true, "xtables-nft-multi": true, "xtables-legacy-multi": true,
	"xtables-multi": true, "dropbearmulti": true,
}
