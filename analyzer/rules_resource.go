package analyzer

import (
	"strconv"

	"github.com/sandscan/sandscan/trace"
)

// Resource abuse thresholds. A run is short (seconds to a minute), so
// these judge what the run managed before its limits stopped it.
const (
	// cpuBusyShare: CPU time over wall time (1 = one core the whole run).
	cpuBusyShare = 0.8
	// cpuMinWall: shorter runs are start-up noise.
	cpuMinWall = 5.0
	// cpuExitedWall: a run that ended by itself must have burned this
	// long to count (batch jobs finish; miners do not).
	cpuExitedWall = 60.0
	// cpuQuietShare: a run killed while a compute loop spun, on a host
	// where other load held it below cpuBusyShare (seen: 77% and 51% for
	// the same loop), still used this much of the time since its first
	// event; idle runs use 10-20%...
	cpuQuietShare = 0.4
	// cpuQuietTail: ...and traced nothing for this share of that time
	// (a loop makes no syscalls; start-up work makes plenty).
	cpuQuietTail = 0.5
	// forkStormProcs: process creations in one run.
	forkStormProcs = 500
	// forkStormRate: process creations per second (over at least 2 s).
	forkStormRate = 100.0
	// pidsLimitFrac / memLimitFrac: share of the sandbox's limit reached.
	pidsLimitFrac = 0.9
	memLimitFrac  = 0.9
	// outputFloodBytes: stdout+stderr volume of a flood, or
	// outputFloodRate sustained for two seconds.
	outputFloodBytes = 64 << 20
	outputFloodRate  = 8 << 20
	// failedForks: clone calls refused (EAGAIN) when the pid limit bites.
	failedForks = 20
	errEAGAIN   = 11
)

func resourceRules() []Rule {
	return []Rule{
		{
			ID: "resource.cpu", Title: "CPU kept busy",
			Description: "CPU time stayed above 80% of wall time for at least 5 s and the run was still busy when its time limit hit (or burned a minute or more before exiting), or a run killed at its limit used 40% of a core since its first event while tracing nothing for the second half: compute hijacked, as a miner or a busy loop does.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1496", "T1496.001"},
			Match: matchCPU,
		},
		{
			ID: "resource.fork-storm", Title: "Process table flooded",
			Description: "500 or more processes created, 100 or more a second for 2 s, the pid limit 90% used, or 20 forks refused for lack of pids: a fork bomb.",
			Severity:    SeverityHigh, Confidence: 0.9, Techniques: []string{"T1499", "T1499.001"},
			Match: matchForkStorm,
		},
		{
			ID: "resource.memory", Title: "Memory exhausted",
			Description: "The run was killed for memory, or its peak reached 90% of the memory limit.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1499", "T1499.001"},
			Match: matchMemory,
		},
		{
			ID: "resource.output-flood", Title: "Output flood",
			Description: "64 MiB or more written to stdout/stderr, or 8 MiB/s for at least 2 s: filling logs and disks.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1499"},
			Match: matchOutputFlood,
		},
	}
}

func matchCPU(x *Index) []Hit {
	run := x.Run
	w := wall(run).Seconds()
	share := cpuShare(run)
	stillBusy := run.Exit.TimedOut || run.Exit.Reason == trace.EndTimeout || run.Exit.Reason == trace.EndKilled
	if share >= cpuBusyShare && w >= cpuMinWall && (stillBusy || w >= cpuExitedWall) {
		return []Hit{{Summary: "CPU " + strconv.FormatFloat(share*100, 'f', 0, 64) + "% of wall time over " + strconv.FormatFloat(w, 'f', 1, 64) + " s"}}
	}
	if stillBusy {
		if h, ok := quietSpin(x); ok {
			return []Hit{h}
		}
	}
	return nil
}

// quietSpin finds a compute loop the timeout killed: CPU time over the
// span from the first event to the end, with the trace silent (exits
// aside) for most of it. The span leaves out the sandbox's boot, which
// the wall time includes.
func quietSpin(x *Index) (Hit, bool) {
	run := x.Run
	if len(x.Events) == 0 {
		return Hit{}, false
	}
	first := x.Events[0].Time
	end := run.Started.Add(wall(run))
	if run.Ended.After(end) {
		end = run.Ended
	}
	lastActive, lastEv := first, 0
	for i := range x.Events {
		e := &x.Events[i]
		if e.Kind == trace.KindExit || e.Time.After(end) {
			continue
		}
		if e.Time.After(lastActive) {
			lastActive, lastEv = e.Time, i
		}
	}
	span := end.Sub(first).Seconds()
	if span < cpuMinWall {
		return Hit{}, false
	}
	share := run.Resources.CPUTime.Std().Seconds() / span
	quiet := end.Sub(lastActive).Seconds()
	if share < cpuQuietShare || quiet < cpuQuietTail*span {
		return Hit{}, false
	}
	h := Hit{Summary: "CPU " + strconv.FormatFloat(share*100, 'f', 0, 64) + "% of " + strconv.FormatFloat(span, 'f', 1, 64) +
		" s, nothing traced for the last " + strconv.FormatFloat(quiet, 'f', 1, 64) + " s until the limit killed it", Confidence: 0.6}
	// The busy program is most likely the last one started.
	if img := x.ImageAt(lastEv); img != nil && img.Ev >= 0 {
		h.Events = []int{img.Ev}
	}
	return h, true
}

func matchForkStorm(x *Index) []Hit {
	run := x.Run
	kids := forkChildren(x)
	n := len(kids)
	if run.Resources.Processes > n {
		n = run.Resources.Processes
	}
	w := wall(run).Seconds()
	var why string
	switch {
	case n >= forkStormProcs:
		why = strconv.Itoa(n) + " processes created"
	case w >= 2 && float64(n)/w >= forkStormRate:
		why = strconv.FormatFloat(float64(n)/w, 'f', 0, 64) + " processes a second"
	case run.Sandbox.Limits.Pids > 0 && float64(run.Resources.PidsPeak) >= pidsLimitFrac*float64(run.Sandbox.Limits.Pids):
		why = "pid limit reached (" + strconv.FormatInt(run.Resources.PidsPeak, 10) + "/" + strconv.FormatInt(run.Sandbox.Limits.Pids, 10) + ")"
	}
	var refused []int
	for _, i := range x.Kind(trace.KindClone) {
		if x.Events[i].Errno == errEAGAIN {
			refused = append(refused, i)
		}
	}
	if why == "" && len(refused) >= failedForks {
		why = strconv.Itoa(len(refused)) + " forks refused"
	}
	if why == "" {
		return nil
	}
	var ev []int
	for _, i := range x.Kind(trace.KindClone) {
		if len(ev) >= 8 {
			break
		}
		ev = append(ev, i)
	}
	return []Hit{{Events: ev, Summary: why}}
}

func matchMemory(x *Index) []Hit {
	run := x.Run
	switch {
	case run.Exit.OOM:
		return []Hit{{Summary: "killed for memory"}}
	case run.Sandbox.Limits.MemoryBytes > 0 && float64(run.Resources.MemoryPeak) >= memLimitFrac*float64(run.Sandbox.Limits.MemoryBytes):
		return []Hit{{Summary: "memory peak " + strconv.FormatInt(run.Resources.MemoryPeak>>20, 10) + " MiB of " + strconv.FormatInt(run.Sandbox.Limits.MemoryBytes>>20, 10) + " MiB"}}
	}
	return nil
}

func matchOutputFlood(x *Index) []Hit {
	run := x.Run
	n := max(run.Resources.OutputBytes, run.Stdout.Size+run.Stderr.Size)
	w := wall(run).Seconds()
	if n >= outputFloodBytes || (w >= 2 && float64(n)/w >= outputFloodRate) {
		return []Hit{{Summary: strconv.FormatInt(n>>20, 10) + " MiB of output in " + strconv.FormatFloat(w, 'f', 1, 64) + " s"}}
	}
	return nil
}
