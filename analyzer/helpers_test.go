package analyzer

import (
	"path"
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// rb builds synthetic runs the way gVisor's trace shows them: a start
// event, clone then exec per child, opens with numeric flags.
type rb struct {
	run  trace.Run
	t    time.Time
	cwd  string
	env  []string
	exec map[int32]string
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	wr      = oWronly | oCreat | oTrunc
	appendF = oWronly | oCreat | oAppend
	rdonly  = 0
)

// newRun starts a run whose PID 1 runs argv (usually sh -c SCRIPT).
func newRun(argv ...string) *rb {
	b := &rb{t: t0, cwd: "/root", env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, exec: map[int32]string{}}
	b.run = trace.Run{
		Schema: trace.RunSchema, ID: "run-test", Image: trace.Image{Ref: "sandscan.test/x:latest", Digest: "sha256:00"},
		Sandbox: trace.Sandbox{Runtime: "runsc", RuntimeVersion: "test", Platform: "systrap", Network: "sinkhole",
			Limits: trace.Limits{Timeout: trace.Duration(30 * time.Second), MemoryBytes: 512 << 20, Pids: 256, CPUs: 1}},
		Started: t0, Exit: trace.Exit{Reason: trace.EndExited},
	}
	if len(argv) > 0 {
		b.add(trace.Event{Kind: trace.KindStart, PID: 1, Argv: argv, Env: b.env, Path: argv[0]})
	}
	return b
}

func (b *rb) add(e trace.Event) int {
	b.t = b.t.Add(10 * time.Millisecond)
	e.Seq = uint64(len(b.run.Events) + 1)
	e.Time = b.t
	if e.TID == 0 {
		e.TID = e.PID
	}
	if e.Cwd == "" {
		e.Cwd = b.cwd
	}
	b.run.Events = append(b.run.Events, e)
	b.run.EventsTotal++
	b.run.Ended = b.t.Add(time.Second)
	return len(b.run.Events) - 1
}

// spawn forks pid from parent and execs bin with argv.
func (b *rb) spawn(parent, pid int32, bin string, argv ...string) *rb {
	b.add(trace.Event{Kind: trace.KindClone, PID: parent, Child: pid})
	return b.execIn(pid, parent, bin, argv...)
}

// execIn replaces pid's program (exec without fork).
func (b *rb) execIn(pid, ppid int32, bin string, argv ...string) *rb {
	if len(argv) == 0 {
		argv = []string{path.Base(bin)}
	}
	b.add(trace.Event{Kind: trace.KindExec, PID: pid, PPID: ppid, Path: bin, Argv: argv, Env: b.env, SHA256: "sha-" + path.Base(bin), Comm: path.Base(argv[0])})
	b.exec[pid] = bin
	return b
}

// withEnv sets the env of later execs.
func (b *rb) withEnv(env ...string) *rb {
	b.env = append(append([]string(nil), b.env...), env...)
	return b
}

func (b *rb) open(pid int32, p string, flags uint64) *rb {
	b.add(trace.Event{Kind: trace.KindOpen, PID: pid, Path: p, Flags: flags, Ret: 3})
	return b
}

func (b *rb) openFail(pid int32, p string, flags uint64, errno int32) *rb {
	b.add(trace.Event{Kind: trace.KindOpen, PID: pid, Path: p, Flags: flags, Ret: -int64(errno), Errno: errno})
	return b
}

func (b *rb) connect(pid int32, ip string, port uint16, errno int32) *rb {
	fam := trace.FamilyInet
	if len(ip) > 0 && ip[0] == '/' {
		b.add(trace.Event{Kind: trace.KindConnect, PID: pid, FD: 3, Addr: &trace.SockAddr{Family: trace.FamilyUnix, Path: ip}, Errno: errno})
		return b
	}
	b.add(trace.Event{Kind: trace.KindConnect, PID: pid, FD: 3, Addr: &trace.SockAddr{Family: fam, IP: ip, Port: port}, Errno: errno})
	return b
}

func (b *rb) socket(pid int32, domain, typ, proto int32, errno int32) *rb {
	b.add(trace.Event{Kind: trace.KindSocket, PID: pid, Domain: domain, Type: typ, Protocol: proto, Errno: errno})
	return b
}

func (b *rb) syscall(pid int32, name string, errno int32, args ...uint64) *rb {
	b.add(trace.Event{Kind: trace.KindSyscall, PID: pid, Syscall: name, Args: args, Errno: errno})
	return b
}

func (b *rb) file(p, op string, mode uint32) *rb {
	b.run.Files = append(b.run.Files, trace.FileChange{Path: p, Op: op, Type: trace.TypeFile, Mode: mode})
	return b
}

func (b *rb) symlink(p, target string) *rb {
	b.run.Files = append(b.run.Files, trace.FileChange{Path: p, Op: trace.FileCreated, Type: trace.TypeSymlink, Link: target, Mode: 0777})
	return b
}

func (b *rb) net() *trace.Network {
	if b.run.Network == nil {
		b.run.Network = &trace.Network{Mode: "sinkhole"}
	}
	return b.run.Network
}

func (b *rb) dns(name, rcode string) *rb {
	b.net().DNS = append(b.net().DNS, trace.DNSQuery{Time: b.t, Name: name, Type: "A", RCode: rcode})
	return b
}

func (b *rb) conn(c trace.Conn) *rb {
	c.Time = b.t
	b.net().Conns = append(b.net().Conns, c)
	return b
}

// resources sets wall time (s), CPU seconds and the end reason.
func (b *rb) resources(wallS, cpuS float64, timedOut bool) *rb {
	b.run.Timings.Run = trace.Duration(time.Duration(wallS * float64(time.Second)))
	b.run.Ended = b.run.Started.Add(time.Duration(wallS * float64(time.Second)))
	b.run.Resources.CPUTime = trace.Duration(time.Duration(cpuS * float64(time.Second)))
	if timedOut {
		b.run.Exit = trace.Exit{Code: 137, Reason: trace.EndTimeout, TimedOut: true}
	}
	return b
}

func (b *rb) done() *trace.Run {
	r := b.run
	r.Processes = trace.BuildProcesses(r.Events)
	return &r
}

// sh is the usual entry: PID 1 running a script.
func sh(script string) *rb { return newRun("/bin/sh", "-c", script) }

// ruleByID finds a built-in rule.
func ruleByID(t *testing.T, id string) Rule {
	t.Helper()
	for _, r := range Rules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %q", id)
	return Rule{}
}

// ruleCase is one row of a rule file's table test.
type ruleCase struct {
	name string
	rule string
	run  *trace.Run
	want bool
	// tech, when set, must be among the techniques of the findings.
	tech string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.rule+"/"+c.name, func(t *testing.T) {
			r := ruleByID(t, c.rule)
			fs := evaluate(NewIndex(c.run), []Rule{r})
			if got := len(fs) > 0; got != c.want {
				t.Fatalf("fired=%v, want %v; findings: %+v", got, c.want, summaries(fs))
			}
			for _, f := range fs {
				if len(f.Evidence) == 0 && len(f.Files) == 0 && len(f.Connections) == 0 && len(f.DNS) == 0 && len(f.Summary) == 0 {
					t.Errorf("finding without evidence: %+v", f)
				}
				for _, ev := range f.Evidence {
					if ev.Seq == 0 {
						t.Errorf("evidence event without Seq: %+v", ev)
					}
				}
				for _, id := range f.Techniques {
					if !contains(r.Techniques, id) {
						t.Errorf("finding technique %s not declared by rule %s", id, r.ID)
					}
				}
			}
			if c.tech != "" {
				found := false
				for _, f := range fs {
					found = found || contains(f.Techniques, c.tech)
				}
				if !found {
					t.Errorf("technique %s not reported; findings: %+v", c.tech, summaries(fs))
				}
			}
		})
	}
}

func summaries(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Severity.String()+" "+joinStrings(f.Techniques)+": "+joinStrings(f.Summary))
	}
	return out
}

func joinStrings(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += "; "
		}
		out += v
	}
	return out
}
