package trace

import (
	"path"
	"sort"
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

// multiCall binaries pick their behaviour from argv[0] (busybox applets
// exec as /bin/busybox or /proc/self/exe with the applet name there).
var multiCall = map[string]bool{"busybox": true, "exe": true, "toybox": true}

// ProgramName names what an exec ran: the binary's base name, or argv[0]'s
// for busybox-style multi-call binaries.
func ProgramName(binary string, argv []string) string {
	name := path.Base(binary)
	if (multiCall[name] || binary == "") && len(argv) > 0 && argv[0] != "" {
		return path.Base(argv[0])
	}
	return name
}
