package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func sandscan(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAnalyzeMiner is the acceptance line: a report on stdout and
// the miner's DNS attempt and pool connect in the saved Run.
func TestAnalyzeMiner(t *testing.T) {
	runFile := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := sandscan(t, "analyze", "--format", "json", "--save-run", runFile,
		"oci-archive:../../testdata/images/miner.tar")
	if code >= ExitError {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Schema string `json:"schema"`
		Image  struct {
			Ref, Digest string
		} `json:"image"`
		Verdict string `json:"verdict"`
		Sandbox struct {
			Runtime string `json:"runtime"`
			Events  uint64 `json:"events"`
		} `json:"sandbox"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if rep.Schema != "sandscan.report/v1" || !strings.HasPrefix(rep.Image.Digest, "sha256:") ||
		rep.Sandbox.Runtime != "runsc" || rep.Sandbox.Events == 0 || rep.Verdict == "" {
		t.Errorf("report = %+v", rep)
	}
	f, err := os.Open(runFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := trace.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	var dns, pool bool
	for _, e := range r.Events {
		if e.Kind == trace.KindConnect && e.Addr != nil {
			dns = dns || e.Addr.Port == 53
			pool = pool || e.Addr.Port == 3333
		}
	}
	if !dns || !pool {
		t.Errorf("run.json: DNS attempt %v, connect to 3333 %v", dns, pool)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"analyze"}, ExitUsage, "name an image"},
		{[]string{"analyze", "ftp://x/y"}, ExitUsage, "unknown transport"},
		{[]string{"analyze", "--format", "xml", "oci-archive:x.tar"}, ExitUsage, "unknown format"},
		{[]string{"analyze", "oci-archive:/nonexistent.tar"}, ExitBadInput, "no such file"},
		{[]string{"analyze", "oci-archive:main.go"}, ExitBadInput, "image"},
		{[]string{"frobnicate"}, ExitUsage, "unknown command"},
	}
	for _, tt := range tests {
		code, _, stderr := sandscan(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr, tt.msg)
		}
	}
}

// TestReportFormats reclassifies a stored Run in every format, with no
// sandbox: the analyzer's golden run of the busybox script.
func TestReportFormats(t *testing.T) {
	run := "../../analyzer/testdata/run-busybox-script.json"
	for _, f := range []string{"json", "sarif", "navigator", "summary"} {
		code, out, stderr := sandscan(t, "report", "--format", f, run)
		if code != 0 || len(out) == 0 {
			t.Fatalf("report --format %s: exit %d, %q", f, code, stderr)
		}
		if f == "summary" {
			if !strings.Contains(out, "malicious") {
				t.Errorf("summary = %q", out)
			}
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Errorf("%s is not JSON: %v", f, err)
		}
	}
	code, out, _ := sandscan(t, "analyze", "--from-run", run, "--format", "json")
	if code != ExitMalicious || !strings.Contains(out, `"verdict": "malicious"`) {
		t.Errorf("analyze --from-run: exit %d, %.200s", code, out)
	}
	if code, _, _ := sandscan(t, "report", "/nonexistent.json"); code != ExitBadInput {
		t.Errorf("missing run file: exit %d", code)
	}
	if code, _, _ := sandscan(t, "report", "main.go"); code != ExitBadInput {
		t.Errorf("non-JSON run file: exit %d", code)
	}
}
