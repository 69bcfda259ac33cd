package analyzer

import (
	"math"
	"net"
	"strings"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// Features is the run summarised as numbers, the model's input. Names and
// Vector give a stable order: a feature is only ever appended, never
// renamed or moved, and FeatureDocs says what each one measures.
type Features struct {
	ExecTotal        float64
	ExecShell        float64
	ExecInterpreter  float64
	ExecNetworkTool  float64
	ExecPackageMgr   float64
	ExecCompiler     float64
	ExecMiner        float64
	ExecFromWritable float64
	ExecFailed       float64
	DistinctPrograms float64
	ShellSocketIO    float64

	Connects         float64
	DstAddresses     float64
	DstPorts         float64
	NonStandardPorts float64
	LoopbackConnects float64
	RawSockets       float64
	Listeners        float64

	DNSQueries     float64
	DNSNames       float64
	DNSEntropyMax  float64
	DNSEntropyMean float64
	DNSLabelMax    float64
	StratumConns   float64
	ShellConns     float64
	BytesSent      float64
	BytesReceived  float64

	CredentialReads    float64
	PersistenceWrites  float64
	WrittenThenExec    float64
	DeletedAfterExec   float64
	SetIDBits          float64
	PrivilegedSyscalls float64
	SetIDCalls         float64
	FilesCreated       float64
	FilesModified      float64
	FilesDeleted       float64
	SuspiciousEnv      float64

	CPUShare       float64
	ForkRate       float64
	Processes      float64
	TreeDepth      float64
	MemoryPeakFrac float64
	OutputBytes    float64
	Duration       float64
	TimedOut       float64
	OOM            float64
	Events         float64
	DroppedFrac    float64
}

type featureDef struct {
	name, doc string
	get       func(*Features) float64
}

var featureDefs = []featureDef{
	{"exec_total", "successful program executions", func(f *Features) float64 { return f.ExecTotal }},
	{"exec_shell", "executions of shells (sh, bash, busybox sh...)", func(f *Features) float64 { return f.ExecShell }},
	{"exec_interpreter", "executions of script interpreters (python, perl, node, awk...)", func(f *Features) float64 { return f.ExecInterpreter }},
	{"exec_network_tool", "executions of network tools (curl, wget, nc, ssh, dig, nmap...) other than --version/--help", func(f *Features) float64 { return f.ExecNetworkTool }},
	{"exec_package_manager", "executions of package managers (apt, dpkg, pip, npm, apk...)", func(f *Features) float64 { return f.ExecPackageMgr }},
	{"exec_compiler", "executions of compilers and assemblers", func(f *Features) float64 { return f.ExecCompiler }},
	{"exec_miner", "executions of known cryptocurrency miners", func(f *Features) float64 { return f.ExecMiner }},
	{"exec_from_writable", "executions of binaries or scripts under /tmp, /var/tmp, /dev/shm or a home directory", func(f *Features) float64 { return f.ExecFromWritable }},
	{"exec_failed", "execve attempts refused for a reason other than a PATH miss", func(f *Features) float64 { return f.ExecFailed }},
	{"distinct_programs", "distinct program names executed", func(f *Features) float64 { return f.DistinctPrograms }},
	{"shell_socket_io", "shells whose stdin/stdout is a socket (inferred, or seen by the sinkhole)", func(f *Features) float64 { return f.ShellSocketIO }},
	{"connects", "connect attempts (any address family but unix)", func(f *Features) float64 { return f.Connects }},
	{"dst_addresses", "distinct non-loopback destination addresses", func(f *Features) float64 { return f.DstAddresses }},
	{"dst_ports", "distinct non-loopback destination ports", func(f *Features) float64 { return f.DstPorts }},
	{"nonstandard_ports", "distinct non-loopback destination ports outside well-known services", func(f *Features) float64 { return f.NonStandardPorts }},
	{"loopback_connects", "connect attempts to loopback", func(f *Features) float64 { return f.LoopbackConnects }},
	{"raw_sockets", "raw or packet socket attempts", func(f *Features) float64 { return f.RawSockets }},
	{"listeners", "bind calls on non-loopback inet addresses", func(f *Features) float64 { return f.Listeners }},
	{"dns_queries", "DNS questions the sinkhole saw", func(f *Features) float64 { return f.DNSQueries }},
	{"dns_names", "distinct DNS names asked", func(f *Features) float64 { return f.DNSNames }},
	{"dns_entropy_max", "highest Shannon entropy (bits/char) of a DNS name's leftmost labels", func(f *Features) float64 { return f.DNSEntropyMax }},
	{"dns_entropy_mean", "mean Shannon entropy of the DNS names' leftmost labels", func(f *Features) float64 { return f.DNSEntropyMean }},
	{"dns_label_max", "longest DNS label", func(f *Features) float64 { return f.DNSLabelMax }},
	{"stratum_conns", "connections speaking the stratum mining protocol", func(f *Features) float64 { return f.StratumConns }},
	{"shell_conns", "connections the sinkhole recognised as a remote shell", func(f *Features) float64 { return f.ShellConns }},
	{"bytes_sent", "bytes sent to the network (sinkhole count, else socket writes)", func(f *Features) float64 { return f.BytesSent }},
	{"bytes_received", "bytes received from the sinkhole", func(f *Features) float64 { return f.BytesReceived }},
	{"credential_reads", "reads of credential files by programs that do not own them", func(f *Features) float64 { return f.CredentialReads }},
	{"persistence_writes", "writes (attempts too) to autostart, account and loader configuration", func(f *Features) float64 { return f.PersistenceWrites }},
	{"written_then_executed", "files written during the run and then executed", func(f *Features) float64 { return f.WrittenThenExec }},
	{"deleted_after_exec", "executed files deleted afterwards", func(f *Features) float64 { return f.DeletedAfterExec }},
	{"setid_bits", "files left with setuid or setgid bits, or chmod calls setting them", func(f *Features) float64 { return f.SetIDBits }},
	{"privileged_syscalls", "mount, ptrace, unshare, setns, module loading, bpf, chroot, reboot... (attempts)", func(f *Features) float64 { return f.PrivilegedSyscalls }},
	{"setid_calls", "setuid/setgid family calls", func(f *Features) float64 { return f.SetIDCalls }},
	{"files_created", "files the fs diff lists as created", func(f *Features) float64 { return f.FilesCreated }},
	{"files_modified", "files the fs diff lists as modified", func(f *Features) float64 { return f.FilesModified }},
	{"files_deleted", "files the fs diff lists as deleted", func(f *Features) float64 { return f.FilesDeleted }},
	{"suspicious_env", "executions with LD_PRELOAD, HISTFILE=/dev/null or a proxy variable set", func(f *Features) float64 { return f.SuspiciousEnv }},
	{"cpu_share", "CPU time over wall time (1 = one core busy the whole run)", func(f *Features) float64 { return f.CPUShare }},
	{"fork_rate", "new processes per second of wall time", func(f *Features) float64 { return f.ForkRate }},
	{"processes", "processes in the run", func(f *Features) float64 { return f.Processes }},
	{"tree_depth", "depth of the process tree", func(f *Features) float64 { return f.TreeDepth }},
	{"memory_peak_frac", "peak memory over the memory limit (0 without a limit)", func(f *Features) float64 { return f.MemoryPeakFrac }},
	{"output_bytes", "bytes written to stdout and stderr", func(f *Features) float64 { return f.OutputBytes }},
	{"duration", "wall seconds of the run", func(f *Features) float64 { return f.Duration }},
	{"timed_out", "1 when the run hit its time limit", func(f *Features) float64 { return f.TimedOut }},
	{"oom", "1 when the run was killed for memory", func(f *Features) float64 { return f.OOM }},
	{"events", "events the sink accepted", func(f *Features) float64 { return f.Events }},
	{"dropped_frac", "fraction of events lost", func(f *Features) float64 { return f.DroppedFrac }},
}

// FeatureNames lists the feature names in vector order.
func FeatureNames() []string {
	out := make([]string, len(featureDefs))
	for i, d := range featureDefs {
		out[i] = d.name
	}
	return out
}

// FeatureDocs maps each feature name to what it measures.
func FeatureDocs() map[string]string {
	m := make(map[string]string, len(featureDefs))
	for _, d := range featureDefs {
		m[d.name] = d.doc
	}
	return m
}

// Names lists the feature names in vector order (same as FeatureNames).
func (f Features) Names() []string { return FeatureNames() }

// Vector returns the values in Names order.
func (f Features) Vector() []float64 {
	out := make([]float64, len(featureDefs))
	for i, d := range featureDefs {
		out[i] = d.get(&f)
	}
	return out
}

// Map returns the values by name, rounded for the report.
func (f Features) Map() map[string]float64 {
	m := make(map[string]float64, len(featureDefs))
	for _, d := range featureDefs {
		m[d.name] = round3(d.get(&f))
	}
	return m
}

// wall is the run's wall time: its run phase when known.
func wall(run *trace.Run) time.Duration {
	if d := run.Timings.Run.Std(); d > 0 {
		return d
	}
	if d := run.Ended.Sub(run.Started); d > 0 {
		return d
	}
	return 0
}

// Extract computes the features of an indexed run.
func Extract(x *Index) Features {
	run := x.Run
	var f Features
	progs := map[string]bool{}
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		f.ExecTotal++
		progs[e.Name] = true
		switch {
		case isShell(e.Name):
			f.ExecShell++
		case isInterpreter(e.Name):
			f.ExecInterpreter++
		}
		fam := family(e.Name)
		if networkTools[fam] && !infoOnly(e.Args) {
			f.ExecNetworkTool++
		}
		if packageManagers[fam] {
			f.ExecPackageMgr++
		}
		if compilers[fam] {
			f.ExecCompiler++
		}
		if miners[fam] || miners[e.Name] {
			f.ExecMiner++
		}
		for _, p := range executedFiles(e) {
			if isWritableLocation(p) {
				f.ExecFromWritable++
				break
			}
		}
		if suspiciousEnv(e.Env) {
			f.SuspiciousEnv++
		}
	}
	f.ExecFailed = float64(len(x.FailedExecs))
	f.DistinctPrograms = float64(len(progs))
	f.ShellSocketIO = float64(len(socketShells(x)))

	addrs, ports, odd := map[string]bool{}, map[uint16]bool{}, map[uint16]bool{}
	for _, i := range x.Kind(trace.KindConnect) {
		a := x.Events[i].Addr
		if a == nil || a.Family == trace.FamilyUnix || a.IP == "" {
			continue
		}
		f.Connects++
		if isLoopback(a.IP) {
			f.LoopbackConnects++
			continue
		}
		addrs[a.IP], ports[a.Port] = true, true
		if !standardPort(a.Port) {
			odd[a.Port] = true
		}
	}
	for _, i := range x.Kind(trace.KindSocket) {
		e := &x.Events[i]
		if e.Domain == afPacket || e.Type&0xf == sockRaw {
			f.RawSockets++
		}
	}
	for _, i := range x.Kind(trace.KindBind) {
		if a := x.Events[i].Addr; a != nil && a.IP != "" && !isLoopback(a.IP) && a.Port != 0 {
			f.Listeners++
		}
	}
	if n := run.Network; n != nil {
		names := map[string]bool{}
		var sum float64
		for _, q := range n.DNS {
			f.DNSQueries++
			name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
			if names[name] {
				continue
			}
			names[name] = true
			h := subdomainEntropy(name)
			sum += h
			f.DNSEntropyMax = math.Max(f.DNSEntropyMax, h)
			for _, l := range strings.Split(name, ".") {
				f.DNSLabelMax = math.Max(f.DNSLabelMax, float64(len(l)))
			}
		}
		f.DNSNames = float64(len(names))
		if len(names) > 0 {
			f.DNSEntropyMean = sum / float64(len(names))
		}
		for _, c := range n.Conns {
			if !isLoopback(c.DstIP) {
				addrs[c.DstIP], ports[c.DstPort] = true, true
				if !standardPort(c.DstPort) {
					odd[c.DstPort] = true
				}
			}
			if c.App == "stratum" || c.Stratum != nil {
				f.StratumConns++
			}
			if c.App == "shell" || c.Shell != nil {
				f.ShellConns++
			}
			f.BytesSent += float64(max(c.BytesOut, 0))
			f.BytesReceived += float64(max(c.BytesIn, 0))
		}
	}
	if f.BytesSent == 0 {
		for _, i := range x.Kind(trace.KindWrite) {
			f.BytesSent += float64(max(x.Events[i].Bytes, 0))
		}
	}
	f.DstAddresses, f.DstPorts, f.NonStandardPorts = float64(len(addrs)), float64(len(ports)), float64(len(odd))

	for _, o := range x.Opens {
		if !o.Write() && !o.Failed && credentialFile(o.Path) != "" && !ownsCredential(x, o) {
			f.CredentialReads++
		}
		if o.Persist != "" {
			f.PersistenceWrites++
		}
	}
	f.WrittenThenExec = float64(len(writtenThenExecuted(x)))
	f.DeletedAfterExec = float64(len(deletedAfterExec(x)))
	for _, fc := range run.Files {
		switch fc.Op {
		case trace.FileCreated:
			f.FilesCreated++
		case trace.FileModified:
			f.FilesModified++
		case trace.FileDeleted:
			f.FilesDeleted++
		}
		if fc.Op != trace.FileDeleted && fc.Type == trace.TypeFile && fc.Mode&(modeSetuid|modeSetgid) != 0 {
			f.SetIDBits++
		}
	}
	f.SetIDBits += float64(len(chmodSetID(x)))
	for _, name := range privilegedSyscalls {
		f.PrivilegedSyscalls += float64(len(x.Syscall(name)))
	}
	f.SetIDCalls = float64(len(x.Kind(trace.KindSetID)))

	w := wall(run).Seconds()
	f.Duration = w
	if w > 0 {
		f.CPUShare = run.Resources.CPUTime.Std().Seconds() / w
	}
	procs := float64(len(x.Procs))
	if run.Resources.Processes > 0 && float64(run.Resources.Processes) > procs {
		procs = float64(run.Resources.Processes)
	}
	f.Processes = procs
	if w > 0 {
		f.ForkRate = float64(len(forkChildren(x))) / math.Max(w, 1)
	}
	for _, p := range x.Procs {
		f.TreeDepth = math.Max(f.TreeDepth, float64(p.Depth))
	}
	if lim := run.Sandbox.Limits.MemoryBytes; lim > 0 {
		f.MemoryPeakFrac = float64(run.Resources.MemoryPeak) / float64(lim)
	}
	f.OutputBytes = float64(max(run.Resources.OutputBytes, run.Stdout.Size+run.Stderr.Size))
	if run.Exit.TimedOut {
		f.TimedOut = 1
	}
	if run.Exit.OOM {
		f.OOM = 1
	}
	total := max(run.EventsTotal, uint64(len(run.Events)))
	f.Events = float64(total)
	if total+run.Dropped > 0 {
		f.DroppedFrac = float64(run.Dropped) / float64(total+run.Dropped)
	}
	return f
}

// Linux socket constants.
const (
	afPacket = 17
	sockRaw  = 3
)

// Unix mode bits.
const (
	modeSetuid = 04000
	modeSetgid = 02000
)

// privilegedSyscalls need capabilities a container should not use.
var privilegedSyscalls = []string{"mount", "umount2", "ptrace", "unshare", "setns", "init_module", "finit_module",
	"bpf", "chroot", "reboot", "sethostname", "keyctl", "personality"}

func suspiciousEnv(env []string) bool {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "LD_PRELOAD", "LD_AUDIT":
			if v != "" {
				return true
			}
		case "HISTFILE":
			if v == "/dev/null" || v == "" {
				return true
			}
		case "HISTSIZE", "HISTFILESIZE", "SAVEHIST":
			if v == "0" {
				return true
			}
		}
	}
	return false
}

// isLoopback reports loopback addresses; unparseable ones are not.
func isLoopback(ip string) bool {
	p := net.ParseIP(ip)
	return p != nil && (p.IsLoopback() || p.IsUnspecified())
}

// standardPort lists ports where a connection is ordinary service
// traffic; anything else to a remote host is "non-standard".
func standardPort(p uint16) bool {
	switch p {
	case 20, 21, 22, 25, 43, 53, 80, 110, 123, 143, 389, 443, 465, 587, 636, 853, 993, 995,
		1433, 1521, 2181, 3306, 5432, 5672, 6379, 8080, 8443, 9092, 9200, 9300, 11211, 27017:
		return true
	}
	return false
}

// subdomainEntropy is the Shannon entropy (bits per char) of the labels
// left of the registered domain (the last two labels).
func subdomainEntropy(name string) float64 {
	labels := strings.Split(name, ".")
	if len(labels) <= 2 {
		return 0
	}
	return entropy(strings.Join(labels[:len(labels)-2], ""))
}

func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
