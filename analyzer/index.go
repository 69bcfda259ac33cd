package analyzer

import (
	"path"
	"sort"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// Linux open(2) flags (octal), as the trace carries them.
const (
	oAccMode = 03
	oWronly  = 01
	oRdwr    = 02
	oCreat   = 0100
	oTrunc   = 01000
	oAppend  = 02000
)

// Linux errno values the rules care about.
const (
	errENOENT = 2
	// errEINPROGRESS is a non-blocking connect under way: how Go, curl and
	// most event loops connect, so it counts as reaching the network.
	errEINPROGRESS = 115
	errENOTDIR     = 20
)

// Image is a program a process ran: one exec, or the container's start.
// A forked child that has not exec'd yet runs its parent's Image.
type Image struct {
	Ev   int // index of the exec (or start) event in Run.Events
	Seq  uint64
	PID  int32
	Path string // the binary as the trace named it
	// Name is the program's normalised name: the binary's base name, or
	// argv[0]'s for busybox applets and /proc/self/exe re-execs.
	Name string
	// Fam is family(Name), computed once.
	Fam string
	// Args are the arguments after the program name (after the applet
	// name for `busybox APPLET ...`).
	Args   []string
	Argv   []string
	Env    []string
	UID    uint32
	SHA256 string
	Cwd    string
	// Start is true for the container's first process.
	Start bool
}

// Proc is one process (thread group) of the run.
type Proc struct {
	PID, PPID int32
	Parent    *Proc
	Children  []*Proc
	Images    []*Image
	// Depth is 0 for the container's root process.
	Depth int
	// Origin is the image the process was forked from (its parent's at
	// clone time); nil for the root.
	Origin *Image
}

// Exec is one successful program start.
type Exec struct {
	*Image
	Proc *Proc
	// Prev is what the process ran just before: for a fork+exec the
	// parent program, for an in-place exec the replaced program.
	Prev *Image
}

// Open is one open/openat/creat event with its path resolved.
type Open struct {
	Ev     int
	PID    int32 // the process that opened it
	Path   string
	Flags  uint64
	Failed bool
	Errno  int32
	Img    *Image // the program that opened it (nil if unknown)
	// Persist is persistenceKind(Path) for writes, computed once.
	Persist string
}

// Write reports whether the open asked for write access or creation.
func (o *Open) Write() bool {
	return o.Flags&oAccMode != 0 || o.Flags&(oCreat|oTrunc) != 0
}

// Truncates reports whether the open truncated an existing file.
func (o *Open) Truncates() bool { return o.Flags&oTrunc != 0 && o.Flags&oAccMode != 0 }

// Index is what rules query: the run's events sorted into lookups once,
// so each rule is a cheap scan of the few events it cares about.
type Index struct {
	Run    *trace.Run
	Events []trace.Event

	// Execs are successful program starts in event order, the container's
	// start first.
	Execs []*Exec
	// FailedExecs are execve calls that failed for a reason other than a
	// PATH lookup miss (ENOENT/ENOTDIR): an attempt gVisor refused.
	FailedExecs []int
	Opens       []*Open
	Procs       []*Proc // by first appearance
	Root        *Proc

	byKind    map[trace.Kind][]int
	bySyscall map[string][]int
	procs     map[int32]*Proc
	evImage   []*Image
	files     map[string]*trace.FileChange
	// installMemo caches installing() per pid; rules run one at a time.
	installMemo map[int32]bool
}

// NewIndex builds the index of a run. It never fails: a malformed run
// (unknown pids, missing fields) just yields a sparser index.
func NewIndex(run *trace.Run) *Index {
	x := &Index{
		Run:       run,
		Events:    run.Events,
		byKind:    map[trace.Kind][]int{},
		bySyscall: map[string][]int{},
		procs:     map[int32]*Proc{},
		evImage:   make([]*Image, len(run.Events)),
		files:     map[string]*trace.FileChange{},

		installMemo: map[int32]bool{},
	}
	for i := range run.Files {
		f := &run.Files[i]
		x.files[f.Path] = f
	}
	haveExec := false
	for i := range run.Events {
		if run.Events[i].Kind == trace.KindExec {
			haveExec = true
			break
		}
	}
	cur := map[int32]*Image{}
	for i := range run.Events {
		e := &run.Events[i]
		x.byKind[e.Kind] = append(x.byKind[e.Kind], i)
		if e.Kind == trace.KindSyscall && e.Syscall != "" {
			x.bySyscall[e.Syscall] = append(x.bySyscall[e.Syscall], i)
		}
		p := x.proc(e.PID, e.PPID)
		switch e.Kind {
		case trace.KindStart:
			img := x.newImage(i, e)
			img.Start = true
			if x.Root == nil {
				x.Root = p
			}
			x.addExec(p, img, cur[e.PID])
			cur[e.PID] = img
		case trace.KindExec:
			img := x.newImage(i, e)
			x.addExec(p, img, cur[e.PID])
			cur[e.PID] = img
		case trace.KindExecve:
			// Without sentry/execve points the syscall's success is the
			// only record of an exec.
			if e.Errno == 0 && !haveExec && len(e.Argv)+len(e.Path) > 0 {
				img := x.newImage(i, e)
				x.addExec(p, img, cur[e.PID])
				cur[e.PID] = img
			}
			if e.Errno != 0 && e.Errno != errENOENT && e.Errno != errENOTDIR {
				x.FailedExecs = append(x.FailedExecs, i)
			}
		case trace.KindClone:
			if e.Child != 0 && !e.Thread && e.Child != e.PID {
				c := x.proc(e.Child, e.PID)
				if c.Parent == nil && c != p && !isAncestor(c, p) {
					c.PPID, c.Parent = e.PID, p
					p.Children = append(p.Children, c)
				}
				if c.Origin == nil {
					c.Origin = cur[e.PID]
				}
				if cur[e.Child] == nil {
					cur[e.Child] = cur[e.PID]
				}
			}
		}
		if cur[e.PID] == nil && p.Parent != nil {
			cur[e.PID] = latest(p.Parent)
		}
		x.evImage[i] = cur[e.PID]
		if e.Kind == trace.KindOpen {
			o := &Open{
				Ev: i, PID: e.PID, Path: resolve(e.Cwd, e.Path), Flags: e.Flags,
				Failed: e.Errno != 0, Errno: e.Errno, Img: cur[e.PID],
			}
			if o.Write() {
				o.Persist = persistenceKind(o.Path)
			}
			x.Opens = append(x.Opens, o)
		}
	}
	if x.Root == nil && len(x.Procs) > 0 {
		x.Root = x.Procs[0]
	}
	for _, p := range x.Procs {
		p.Depth = depth(p)
	}
	return x
}

func (x *Index) proc(pid, ppid int32) *Proc {
	p := x.procs[pid]
	if p == nil {
		p = &Proc{PID: pid, PPID: ppid}
		x.procs[pid] = p
		x.Procs = append(x.Procs, p)
		if pp := x.procs[ppid]; pp != nil && pp != p {
			p.Parent = pp
			pp.Children = append(pp.Children, p)
		}
	}
	return p
}

func (x *Index) newImage(i int, e *trace.Event) *Image {
	name, args := progName(e.Path, e.Argv)
	return &Image{
		Ev: i, Seq: e.Seq, PID: e.PID, Path: e.Path, Name: name, Fam: family(name), Args: args,
		Argv: e.Argv, Env: e.Env, UID: e.UID, SHA256: e.SHA256, Cwd: e.Cwd,
	}
}

func (x *Index) addExec(p *Proc, img, prev *Image) {
	if prev == nil {
		prev = p.Origin
	}
	p.Images = append(p.Images, img)
	x.Execs = append(x.Execs, &Exec{Image: img, Proc: p, Prev: prev})
}

// isAncestor reports whether a is an ancestor of p (guards against cycles
// a hostile trace could build).
func isAncestor(a, p *Proc) bool {
	for n := 0; p != nil && n < 4096; n++ {
		if p == a {
			return true
		}
		p = p.Parent
	}
	return false
}

func depth(p *Proc) int {
	d := 0
	for q := p.Parent; q != nil && d < 4096; q = q.Parent {
		d++
	}
	return d
}

func latest(p *Proc) *Image {
	for q := p; q != nil; q = q.Parent {
		if n := len(q.Images); n > 0 {
			return q.Images[n-1]
		}
		if q.Origin != nil {
			return q.Origin
		}
	}
	return nil
}

// Kind returns the indexes of the events of one kind, in order.
func (x *Index) Kind(k trace.Kind) []int { return x.byKind[k] }

// Syscall returns the indexes of raw syscall events with that name.
func (x *Index) Syscall(name string) []int { return x.bySyscall[name] }

// ImageAt is the program the event's process was running.
func (x *Index) ImageAt(i int) *Image {
	if i < 0 || i >= len(x.evImage) {
		return nil
	}
	return x.evImage[i]
}

// Proc returns the process with that pid, or nil.
func (x *Index) Proc(pid int32) *Proc { return x.procs[pid] }

// File returns the fs diff entry of a path, or nil.
func (x *Index) File(p string) *trace.FileChange { return x.files[p] }

// Lineage lists the programs of a process and its ancestors, nearest
// first; it answers "is this running under dpkg/apt/logrotate?".
func (x *Index) Lineage(pid int32) []string {
	var out []string
	for q, n := x.procs[pid], 0; q != nil && n < 4096; q, n = q.Parent, n+1 {
		for i := len(q.Images) - 1; i >= 0; i-- {
			out = append(out, q.Images[i].Name)
		}
		if len(q.Images) == 0 && q.Origin != nil {
			out = append(out, q.Origin.Name)
		}
	}
	return out
}

// UnderAny reports whether a process runs under (or is) one of the named
// programs.
func (x *Index) UnderAny(pid int32, set map[string]bool) bool {
	for _, img := range x.LineageImages(pid) {
		if set[img.Fam] || set[img.Name] {
			return true
		}
	}
	return false
}

// ExecsOf returns successful execs whose program family is in set.
func (x *Index) ExecsOf(set map[string]bool) []*Exec {
	var out []*Exec
	for _, e := range x.Execs {
		if set[e.Fam] || set[e.Name] {
			out = append(out, e)
		}
	}
	return out
}

// WritesMatching returns write opens (attempts included) whose path
// satisfies pred.
func (x *Index) WritesMatching(pred func(string) bool) []*Open {
	var out []*Open
	for _, o := range x.Opens {
		if o.Write() && pred(o.Path) {
			out = append(out, o)
		}
	}
	return out
}

// ReadsMatching returns successful read-only opens whose path satisfies pred.
func (x *Index) ReadsMatching(pred func(string) bool) []*Open {
	var out []*Open
	for _, o := range x.Opens {
		if !o.Write() && !o.Failed && pred(o.Path) {
			out = append(out, o)
		}
	}
	return out
}

// FilesMatching returns fs diff entries with one of the ops whose path
// satisfies pred.
func (x *Index) FilesMatching(pred func(string) bool, ops ...string) []trace.FileChange {
	var out []trace.FileChange
	for _, f := range x.Run.Files {
		if (len(ops) == 0 || contains(ops, f.Op)) && pred(f.Path) {
			out = append(out, f)
		}
	}
	return out
}

// ExecutedPaths maps every file that was run, as a binary or as the
// script an interpreter was given, to its execs.
func (x *Index) ExecutedPaths() map[string][]*Exec {
	m := map[string][]*Exec{}
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			m[p] = append(m[p], e)
		}
	}
	return m
}

// executedFiles are the files an exec ran: the binary and, for an
// interpreter, its script argument.
func executedFiles(e *Exec) []string {
	var out []string
	if e.Path != "" && !strings.HasPrefix(e.Path, "/proc/self/") {
		out = append(out, resolve(e.Cwd, e.Path))
	}
	if len(e.Argv) > 0 && strings.Contains(e.Argv[0], "/") {
		if p := resolve(e.Cwd, e.Argv[0]); !contains(out, p) {
			out = append(out, p)
		}
	}
	if isShell(e.Name) || isInterpreter(e.Name) {
		if s := scriptArg(e.Image); s != "" {
			if p := resolve(e.Cwd, s); !contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// resolve makes p absolute against cwd and cleans it.
func resolve(cwd, p string) string {
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		if cwd == "" {
			cwd = "/"
		}
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
