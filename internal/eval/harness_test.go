package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/internal/testenv"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

func TestSelect(t *testing.T) {
	c := &Corpus{Tests: []Test{
		{ID: "A01", Key: "k1", Kind: KindAtomic, Technique: "T1070.004", Destructive: true, Shell: "sh", BusyboxCompatible: true, Rootfs: RootfsDebian},
		{ID: "A02", Key: "k2", Kind: KindAtomic, Technique: "T1053.003", Shell: "sh", BusyboxCompatible: true, Rootfs: RootfsDebian},
		{ID: "A03", Key: "k3", Kind: KindAtomic, Technique: "T1136.001", Shell: "bash", BusyboxCompatible: true, Rootfs: RootfsDebian},
		{ID: "A04", Key: "k4", Kind: KindAtomic, Technique: "T1082", Shell: "sh", Rootfs: RootfsDebian},
		{ID: "B01", Key: "B01", Kind: KindControl, Shell: "sh", Rootfs: RootfsDebian},
	}}
	ids := func(ts []Test) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID+":"+t.Rootfs)
		}
		return out
	}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"all, destructive last", Config{}, []string{"A02:debian", "A03:debian", "A04:debian", "B01:debian", "A01:debian"}},
		{"only by technique", Config{Only: regexp.MustCompile(`^T1053`)}, []string{"A02:debian"}},
		{"only by id", Config{Only: regexp.MustCompile(`^B`)}, []string{"B01:debian"}},
		{"busybox atomics: sh and compatible only", Config{AtomicsOnBusybox: true}, []string{"A02:busybox", "B01:debian", "A01:busybox"}},
	}
	for _, tt := range tests {
		if got := ids(Select(c, tt.cfg)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

const e2eAtomics = `[
 {"technique": "T1053.003", "tactic": "persistence", "tactics": ["execution", "persistence"],
  "legacy_tactics": ["execution", "persistence"], "name": "Cron - Replace crontab with referenced file",
  "guid": "e2e-cron", "shell": "sh",
  "command": "crontab -l > /tmp/notevil\necho \"* * * * * /tmp/evil.sh\" > /tmp/persistevil && crontab /tmp/persistevil\n",
  "setup": null, "debian_packages": ["cron"], "signal": "high", "busybox_compatible": true,
  "gvisor_validation": {"rc": "0", "wall": "0.3s", "busybox_rc": "0"}},
 {"technique": "T1136.001", "tactic": "persistence", "tactics": ["persistence"], "name": "needs Debian",
  "guid": "e2e-debian", "shell": "bash", "command": "useradd x", "busybox_compatible": false}
]`

const e2eControls = `[
 {"id": "B13", "name": "busybox httpd static site", "debian_packages": ["busybox-static"],
  "command": "mkdir -p /www && echo ok > /www/index.html && { busybox httpd -f -p 127.0.0.1:8081 -h /www & PID=$!; sleep 1; wget -q -O - http://127.0.0.1:8081/; kill $PID; }",
  "rootfs": "busybox-static rootfs (busybox --install -s)", "gvisor_validation": {"rc": "0", "wall": "1.2s"}}
]`

// TestDetonateEndToEnd runs a two-test corpus through the real sandbox:
// a busybox-compatible atomic on the busybox rootfs and a busybox control.
// It checks what reached the Run, that runs are saved, and that re-scoring
// the saved runs gives the same results.
func TestDetonateEndToEnd(t *testing.T) {
	env := testenv.Setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.RuntimeOf(env))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	c, err := Load(writeCorpus(t, e2eAtomics, e2eControls))
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	cfg := Config{
		RunsDir:          t.TempDir(),
		Images:           NewImages(t.TempDir(), "/bin/busybox", nil),
		AtomicsOnBusybox: true,
		KeepAlive:        DefaultKeepAlive,
		Network:          sandbox.NetworkSinkhole,
		Progress:         &progress,
	}
	res, err := Detonate(ctx, sb, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tests) != 2 {
		t.Fatalf("%d results, want 2 (the Debian-only atomic left out): %+v", len(res.Tests), res.Tests)
	}
	for _, r := range res.Tests {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.ID, r.Error)
		}
		if r.Events == 0 || r.Verdict == "" || r.Seconds <= 0 {
			t.Errorf("%s: events %d verdict %q seconds %v", r.ID, r.Events, r.Verdict, r.Seconds)
		}
	}
	atomic, control := res.Tests[0], res.Tests[1]
	if atomic.ID != "A01" || atomic.Rootfs != RootfsBusybox || atomic.Detection == "" || control.ID != "B13" {
		t.Errorf("results %+v / %+v", atomic, control)
	}
	if control.ExitCode != 0 || control.TimedOut {
		t.Errorf("control exit %d timed out %v", control.ExitCode, control.TimedOut)
	}
	if !strings.Contains(progress.String(), "A01") || !strings.Contains(progress.String(), "B13") {
		t.Errorf("progress %q", progress.String())
	}

	run, err := LoadRun(RunPath(cfg.RunsDir, c.Tests[0]))
	if err != nil {
		t.Fatal(err)
	}
	if run.Sandbox.Network != sandbox.NetworkSinkhole {
		t.Errorf("run network %q: the mode did not reach the sandbox", run.Sandbox.Network)
	}
	if !strings.Contains(string(run.Stdout.Data), Marker) {
		t.Errorf("stdout %q lacks the marker", run.Stdout.Data)
	}
	var crontab bool
	for _, e := range run.Events {
		if e.Kind == trace.KindExec && len(e.Argv) > 1 && e.Argv[0] == "crontab" && e.Argv[1] == "/tmp/persistevil" {
			crontab = true
		}
	}
	if !crontab {
		t.Error("no exec of crontab /tmp/persistevil in the trace")
	}
	crun, err := LoadRun(RunPath(cfg.RunsDir, c.Tests[2]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(crun.Stdout.Data), "ok") {
		t.Errorf("control stdout %q: the httpd did not answer", crun.Stdout.Data)
	}

	again, err := Rescore(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Tests {
		o := res.Tests[i]
		if r.ID != o.ID || r.Detection != o.Detection || r.FalsePositive != o.FalsePositive ||
			!slices.Equal(r.ReportedIDs(), o.ReportedIDs()) || r.Verdict != o.Verdict {
			t.Errorf("rescore %s: %+v, detonation gave %+v", r.ID, r, o)
		}
	}
	if again.Analyzer.Model != "none" {
		t.Errorf("model %q, want none (rules only)", again.Analyzer.Model)
	}
	if !again.Rescored || again.Network != sandbox.NetworkSinkhole {
		t.Errorf("rescored %v network %q", again.Rescored, again.Network)
	}

	var buf bytes.Buffer
	if err := res.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Schema != ResultsSchema || len(back.Tests) != 2 ||
		back.Summary.Controls.Total != 1 || back.Summary.Atomics.Tests != 1 {
		t.Errorf("JSON round trip: %v, %+v", err, back.Summary)
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil || !strings.Contains(table.String(), "| A01 | T1053.003 |") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
}

func TestRescoreWithoutRuns(t *testing.T) {
	c, err := Load(writeCorpus(t, e2eAtomics, e2eControls))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Rescore(context.Background(), c, Config{RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tests) != 3 {
		t.Fatalf("%d results", len(res.Tests))
	}
	for _, r := range res.Tests {
		if r.Detection != DetectError || r.Error != errNoRun.Error() {
			t.Errorf("%s: %q %q", r.ID, r.Detection, r.Error)
		}
	}
	if s := res.Summary; s.Atomics.Errors != 2 || s.Controls.Errors != 1 {
		t.Errorf("summary %+v", s)
	}
}

func TestSawNetwork(t *testing.T) {
	tests := []struct {
		modes []string
		want  string
	}{
		{nil, ""},
		{[]string{"sinkhole", "sinkhole"}, "sinkhole"},
		{[]string{"", "none"}, "none"},
		{[]string{"none", "", "none"}, "none"},
		{[]string{"none", "sinkhole", "none"}, "mixed"},
	}
	for _, tt := range tests {
		var res Results
		for _, m := range tt.modes {
			res.sawNetwork(m)
		}
		if res.Network != tt.want {
			t.Errorf("%q: %q, want %q", tt.modes, res.Network, tt.want)
		}
	}
}
