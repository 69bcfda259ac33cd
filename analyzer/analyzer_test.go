package analyzer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

func TestAnalyzeNil(t *testing.T) {
	if _, err := New().Analyze(nil); err != ErrNilRun {
		t.Fatalf("err = %v", err)
	}
}

func TestAnalyzeEmptyRun(t *testing.T) {
	rep, err := New().Analyze(&trace.Run{Schema: trace.RunSchema, ID: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictClean || rep.Score != 0 || len(rep.Findings) != 0 || rep.Findings == nil || rep.Techniques == nil {
		t.Errorf("empty run: %+v", rep)
	}
	if rep.Classification.Model != ModelNone || rep.Classification.Label != "unknown" || rep.Analyzer.Model != ModelNone {
		t.Errorf("classification %+v analyzer %+v", rep.Classification, rep.Analyzer)
	}
}

// TestClassifierSeam checks that the model sees the run's features and
// that its opinion moves the score by the documented policy.
func TestClassifierSeam(t *testing.T) {
	run := loadFixture(t, "benign-web")
	var seen Features
	tests := []struct {
		name    string
		cls     Classification
		verdict Verdict
		score   float64
	}{
		{"confident malicious model alone is suspicious", Classification{Label: "miner", Probability: 1, Model: "rf-1"}, VerdictSuspicious, 0.6},
		{"benign model changes nothing", Classification{Label: "benign", Probability: 0.99, Model: "rf-1"}, VerdictClean, 0},
		{"anomaly adds a little", Classification{Label: "benign", Probability: 1, Model: "rf-1", Anomaly: 1}, VerdictClean, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(WithClassifier(ClassifierFunc(func(f Features) Classification { seen = f; return tt.cls })))
			rep, err := a.Analyze(run)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tt.verdict || rep.Score != tt.score {
				t.Errorf("verdict %s score %v, want %s %v (%s)", rep.Verdict, rep.Score, tt.verdict, tt.score, rep.Policy.Reason)
			}
			if rep.Classification.Model != "rf-1" || rep.Analyzer.Model != "rf-1" {
				t.Errorf("model not reported: %+v", rep.Classification)
			}
		})
	}
	if seen.ExecTotal == 0 || seen.Connects == 0 {
		t.Errorf("classifier did not see the run's features: %+v", seen)
	}
}

func TestVerdictExitCode(t *testing.T) {
	for v, want := range map[Verdict]int{VerdictClean: 0, VerdictSuspicious: 1, VerdictMalicious: 2, "unknown": 3} {
		if got := v.ExitCode(); got != want {
			t.Errorf("%s: %d, want %d", v, got, want)
		}
	}
}

func TestPolicy(t *testing.T) {
	f := func(rule string, s Severity, c float64) Finding {
		return Finding{Rule: rule, Severity: s, Confidence: c}
	}
	tests := []struct {
		name     string
		findings []Finding
		want     Verdict
	}{
		{"nothing", nil, VerdictClean},
		{"one low", []Finding{f("a", SeverityLow, 0.7)}, VerdictClean},
		{"three lows from three rules", []Finding{f("a", SeverityLow, 0.7), f("b", SeverityLow, 0.7), f("c", SeverityLow, 0.7), f("d", SeverityLow, 0.7)}, VerdictSuspicious},
		{"one rule many times", []Finding{f("a", SeverityLow, 0.7), f("a", SeverityLow, 0.7), f("a", SeverityLow, 0.7), f("a", SeverityLow, 0.7)}, VerdictClean},
		{"one medium", []Finding{f("a", SeverityMedium, 0.8)}, VerdictSuspicious},
		{"one high", []Finding{f("a", SeverityHigh, 0.9)}, VerdictMalicious},
		{"critical", []Finding{f("a", SeverityCritical, 0.8)}, VerdictMalicious},
		{"info only", []Finding{f("a", SeverityInfo, 1)}, VerdictClean},
	}
	for _, tt := range tests {
		p := decide(tt.findings, Classification{}, false)
		if p.verdict != tt.want {
			t.Errorf("%s: %s (%.3f), want %s", tt.name, p.verdict, p.score, tt.want)
		}
		if p.score < 0 || p.score > 1 {
			t.Errorf("%s: score %v out of range", tt.name, p.score)
		}
	}
}

func TestPolicyModel(t *testing.T) {
	medium := []Finding{{Rule: "a", Severity: SeverityMedium, Confidence: 0.8}}
	tests := []struct {
		name     string
		findings []Finding
		cls      Classification
		want     Verdict
	}{
		{"unsure benign label adds nothing", nil, Classification{Label: "benign", Probability: 0.4}, VerdictClean},
		{"split malicious vote is no evidence", nil, Classification{Label: "dropper", Probability: 0.5}, VerdictClean},
		{"confident model alone: suspicious", nil, Classification{Label: "cryptominer", Probability: 0.95}, VerdictSuspicious},
		{"model alone never malicious", nil, Classification{Label: "cryptominer", Probability: 1, Anomaly: 1}, VerdictSuspicious},
		{"model and a medium finding: malicious", medium, Classification{Label: "cryptominer", Probability: 0.95, Anomaly: 0.8}, VerdictMalicious},
		{"benign model keeps a medium finding suspicious", medium, Classification{Label: "benign", Probability: 0.9}, VerdictSuspicious},
		{"far from benign runs: anomaly alone is not enough", nil, Classification{Label: "benign", Probability: 0.6, Anomaly: 1}, VerdictClean},
	}
	for _, tt := range tests {
		p := decide(tt.findings, tt.cls, true)
		if p.verdict != tt.want {
			t.Errorf("%s: %s (rules %.3f, model %.3f), want %s", tt.name, p.verdict, p.ruleScore, p.modelScore, tt.want)
		}
	}
}

func TestFeatures(t *testing.T) {
	names := FeatureNames()
	docs := FeatureDocs()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || docs[n] == "" {
			t.Errorf("feature %q duplicated or undocumented", n)
		}
		seen[n] = true
	}
	b := sh("x").spawn(1, 10, "/usr/bin/curl", "curl", "http://198.51.100.1:4444/").connect(10, "198.51.100.1", 4444, 0).
		spawn(1, 11, "/usr/bin/python3.11", "python3", "x.py").spawn(1, 12, "/tmp/x", "/tmp/x").open(1, "/tmp/x", wr).
		open(12, "/etc/shadow", rdonly).open(12, "/etc/cron.d/x", wr).syscall(12, "ptrace", 1, 16, 1).
		dns("aGVsbG8gd29ybGQgdGhpcyBpcyBleGZpbA.x.example", "NXDOMAIN").resources(10, 5, true)
	b.run.Resources.OutputBytes = 1234
	f := Extract(NewIndex(b.done()))
	v := f.Vector()
	if len(v) != len(names) {
		t.Fatalf("vector %d, names %d", len(v), len(names))
	}
	want := map[string]float64{
		"exec_total": 3, "exec_shell": 0, "exec_interpreter": 1, "exec_network_tool": 1, "exec_from_writable": 2,
		"connects": 1, "dst_addresses": 1, "dst_ports": 1, "nonstandard_ports": 1, "credential_reads": 1,
		"persistence_writes": 1, "privileged_syscalls": 1, "cpu_share": 0.5, "timed_out": 1, "output_bytes": 1234,
		"dns_queries": 1, "tree_depth": 1,
	}
	m := f.Map()
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %v, want %v", k, m[k], w)
		}
	}
	if m["dns_entropy_max"] < 3.5 || m["dns_label_max"] < 30 {
		t.Errorf("dns entropy %v label %v", m["dns_entropy_max"], m["dns_label_max"])
	}
	for i, n := range names {
		if m[n] != round3(v[i]) {
			t.Errorf("vector[%d] %s = %v, map %v", i, n, v[i], m[n])
		}
	}
}

func TestProgName(t *testing.T) {
	tests := []struct {
		bin  string
		argv []string
		name string
		args string
	}{
		{"/bin/busybox", []string{"wget", "-q", "x"}, "wget", "-q x"},
		{"/bin/busybox", []string{"busybox", "sh"}, "sh", ""},
		{"/proc/self/exe", []string{"crontab", "-"}, "crontab", "-"},
		{"/usr/bin/python3.11", []string{"python3", "-c", "x"}, "python3.11", "-c x"},
		{"/bin/bash", []string{"-bash"}, "bash", ""},
		{"", []string{"/usr/bin/id"}, "id", ""},
		// Multi-call binaries reached through a symlink act as argv[0].
		{"/usr/bin/pgrep", []string{"pkill", "-SIGTERM", "^cron$"}, "pkill", "-SIGTERM ^cron$"},
		{"/usr/bin/systemctl", []string{"reboot"}, "reboot", ""},
		{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-F"}, "iptables", "-F"},
		{"/usr/sbin/xtables-nft-multi", []string{"xtables-nft-multi", "ip6tables", "-X"}, "ip6tables", "-X"},
		{"/bin/kmod", []string{"insmod", "x.ko"}, "insmod", "x.ko"},
		// An ordinary program renamed with `exec -a` keeps its binary's name.
		{"/usr/bin/nc.openbsd", []string{"sshd", "-l", "4444"}, "nc.openbsd", "-l 4444"},
		{"/usr/bin/systemctl", []string{"systemctl", "status"}, "systemctl", "status"},
	}
	for _, tt := range tests {
		n, a := progName(tt.bin, tt.argv)
		if n != tt.name || strings.Join(a, " ") != tt.args {
			t.Errorf("progName(%s, %v) = %s %v", tt.bin, tt.argv, n, a)
		}
	}
	for in, want := range map[string]string{"python3.11": "python", "python3": "python", "perl5.36": "perl", "gcc-12": "gcc", "base64": "base64", "sha256sum": "sha256sum", "7z": "7z"} {
		if got := family(in); got != want {
			t.Errorf("family(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestScriptAndInline(t *testing.T) {
	img := func(name string, args ...string) *Image { return &Image{Name: name, Args: args} }
	tests := []struct {
		img    *Image
		script string
		inline string
		inter  bool
	}{
		{img("sh", "-c", "echo hi"), "", "echo hi", false},
		{img("bash", "-ec", "x"), "", "x", false},
		{img("sh", "/tmp/x.sh", "a"), "/tmp/x.sh", "", false},
		{img("sh"), "", "", true},
		{img("bash", "-i"), "", "", true},
		{img("python3", "-c", "print(1)"), "", "print(1)", false},
		{img("python3", "-m", "venv", "/opt/app"), "", "", false},
		{img("python3", "-W", "ignore", "x.py"), "x.py", "", false},
		{img("awk", "BEGIN{}"), "", "BEGIN{}", false},
		{img("perl", "-e", "print"), "", "print", false},
	}
	for _, tt := range tests {
		if got := scriptArg(tt.img); got != tt.script {
			t.Errorf("scriptArg(%v) = %q", tt.img.Args, got)
		}
		if got := inlineCode(tt.img); got != tt.inline {
			t.Errorf("inlineCode(%s %v) = %q", tt.img.Name, tt.img.Args, got)
		}
		if got := interactiveShell(tt.img); got != tt.inter {
			t.Errorf("interactiveShell(%s %v) = %v", tt.img.Name, tt.img.Args, got)
		}
	}
}

// TestIndexProgramsOverTime checks that an event is attributed to the
// program its process ran at that moment, across fork and exec.
func TestIndexProgramsOverTime(t *testing.T) {
	b := sh("x")
	b.add(trace.Event{Kind: trace.KindClone, PID: 1, Child: 10})
	b.open(10, "/tmp/out", wr)
	b.execIn(10, 1, "/usr/bin/base64", "base64", "-d")
	b.open(10, "/tmp/in", rdonly)
	x := NewIndex(b.done())
	if len(x.Opens) != 2 || x.Opens[0].Img.Name != "sh" || x.Opens[1].Img.Name != "base64" {
		t.Fatalf("opens attributed to %v, %v", x.Opens[0].Img.Name, x.Opens[1].Img.Name)
	}
	if w := writer(x, x.Opens[0]); w == nil || w.Name != "base64" {
		t.Errorf("writer of a redirection = %v", w)
	}
	if got := x.Lineage(10); strings.Join(got, ",") != "base64,sh" {
		t.Errorf("lineage %v", got)
	}
	if p := x.Proc(10); p == nil || p.Depth != 1 || p.Parent != x.Root {
		t.Errorf("proc tree %+v", p)
	}
}

// TestEvidenceCap keeps one finding's evidence bounded however often its
// rule matches (200 writes plus the exec of the writer).
func TestEvidenceCap(t *testing.T) {
	b := sh("x")
	for i := 0; i < 200; i++ {
		b.open(1, fmt.Sprintf("/etc/cron.d/x%d", i), wr)
	}
	rep, err := New().Analyze(b.done())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Rule == "persistence.cron" && (len(f.Evidence) != evidenceCap || f.EvidenceTotal != 201) {
			t.Errorf("evidence %d of %d", len(f.Evidence), f.EvidenceTotal)
		}
	}
}

// FuzzAnalyze feeds arbitrary Run JSON: the analyzer must never panic
// and must give the same bytes twice.
func FuzzAnalyze(f *testing.F) {
	for name := range fixtures() {
		var buf bytes.Buffer
		if err := trace.Encode(&buf, loadFixture(f, name)); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"schema":"sandscan.run/v1","events":[{"seq":1,"kind":"clone","pid":1,"child":1},{"seq":2,"kind":"clone","pid":2,"child":1},{"seq":3,"kind":"exec","pid":1,"argv":[]}]}`))
	f.Add([]byte(`{"schema":"sandscan.run/v1","events":[{"kind":"syscall","syscall":"fchmodat","args":[1]},{"kind":"open","path":"../../x","flags":65},{"kind":"connect"}],"files":[{"path":"","op":"deleted"}],"network":{"dns":[{"name":"...."}],"connections":[{"app":"shell"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var run trace.Run
		if err := json.Unmarshal(data, &run); err != nil {
			return
		}
		a := New()
		r1, err := a.Analyze(&run)
		if err != nil {
			t.Fatalf("analyze: %v", err)
		}
		r2, _ := a.Analyze(&run)
		var b1, b2 bytes.Buffer
		for _, fm := range Formats {
			if err := fm.Write(&b1, r1); err != nil {
				t.Fatal(err)
			}
			_ = fm.Write(&b2, r2)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatal("two analyses of one run differ")
		}
		if r1.Score < 0 || r1.Score > 1 {
			t.Fatalf("score %v", r1.Score)
		}
	})
}

// benchRun is a run of realistic size: a shell script driving many
// short-lived tools, loader noise, connections, about 20k events.
func benchRun() *trace.Run {
	b := sh("for i in $(seq 1 1000); do ...; done")
	pid := int32(10)
	for len(b.run.Events) < 20000 {
		b.pathSearch(1, "tool")
		b.spawn(1, pid, "/usr/bin/tool", "tool", "--item", fmt.Sprint(pid))
		b.loader(pid)
		b.open(pid, fmt.Sprintf("/srv/data/%d.csv", pid), rdonly)
		b.open(pid, fmt.Sprintf("/var/tmp/out/%d", pid), wr)
		if pid%10 == 0 {
			b.connect(pid, "127.0.0.1", 5432, 0)
		}
		b.exit(pid, 0)
		pid++
	}
	b.open(1, "/etc/shadow", rdonly).open(1, "/etc/cron.d/x", wr)
	b.run.Ended = b.run.Started.Add(30 * time.Second)
	return b.done()
}

// BenchmarkAnalyze reports analyses per second of a 20k-event run.
func BenchmarkAnalyze(b *testing.B) {
	run := benchRun()
	a := New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Analyze(run); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric(float64(len(run.Events)), "events/run")
}
