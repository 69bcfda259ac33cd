package sink

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func runscPath() string {
	dir := os.Getenv("SANDSCAN_TOOLS_DIR")
	if dir == "" {
		dir = "/var/lib/sandscan/tools"
	}
	return filepath.Join(dir, "bin", "runsc")
}

// runscPoints reads `runsc trace metadata`: each point with its optional
// and context fields.
func runscPoints(t *testing.T) map[string][2][]string {
	t.Helper()
	out, err := exec.Command(runscPath(), "trace", "metadata").Output()
	if err != nil {
		t.Fatalf("runsc trace metadata: %v", err)
	}
	re := regexp.MustCompile(`(?m)^Name: ([^,]+), optional fields: \[([^\]]*)\], context fields: \[([^\]]*)\]$`)
	pts := map[string][2][]string{}
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		pts[m[1]] = [2][]string{strings.Split(m[2], "|"), strings.Split(m[3], "|")}
	}
	if len(pts) < 100 {
		t.Fatalf("only %d points parsed from runsc's metadata", len(pts))
	}
	return pts
}

func TestPointsExistInRunsc(t *testing.T) {
	have := runscPoints(t)
	seen := map[string]bool{}
	for _, p := range Points() {
		if seen[p.Name] {
			t.Errorf("point %s twice", p.Name)
		}
		seen[p.Name] = true
		meta, ok := have[p.Name]
		if !ok {
			t.Errorf("runsc has no point %s", p.Name)
			continue
		}
		for _, f := range p.OptionalFields {
			if !slices.Contains(meta[0], f) {
				t.Errorf("%s: runsc has no optional field %q (has %v)", p.Name, f, meta[0])
			}
		}
		for _, f := range p.ContextFields {
			if !slices.Contains(meta[1], f) {
				t.Errorf("%s: runsc has no context field %q", p.Name, f)
			}
		}
	}
	// Every raw syscall is traced at enter too: gVisor fills a raw exit's
	// context from the enter point's fields.
	for _, nr := range rawSyscalls {
		for _, dir := range []string{"enter", "exit"} {
			if name := "syscall/sysno/" + itoa(nr) + "/" + dir; !seen[name] {
				t.Errorf("%s not configured", name)
			}
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestPodInitConfig(t *testing.T) {
	b, err := PodInitConfig("/run/sandscan/sink.sock", WithRetries(5, time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		TraceSession struct {
			Name   string `json:"name"`
			Points []struct {
				Name           string   `json:"name"`
				OptionalFields []string `json:"optional_fields"`
				ContextFields  []string `json:"context_fields"`
			} `json:"points"`
			Sinks []struct {
				Name   string         `json:"name"`
				Config map[string]any `json:"config"`
			} `json:"sinks"`
		} `json:"trace_session"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	ts := cfg.TraceSession
	if ts.Name != "Default" || len(ts.Points) != len(Points()) || len(ts.Sinks) != 1 {
		t.Fatalf("session %+v", ts)
	}
	sk := ts.Sinks[0]
	if sk.Name != "remote" || sk.Config["endpoint"] != "/run/sandscan/sink.sock" ||
		sk.Config["retries"] != 5.0 || sk.Config["backoff"] != "1ms" || sk.Config["backoff_max"] != "20ms" {
		t.Errorf("sink %+v", sk)
	}
	var execEnter bool
	for _, p := range ts.Points {
		if len(p.ContextFields) != len(contextFields) {
			t.Errorf("%s has context fields %v", p.Name, p.ContextFields)
		}
		if p.Name == "syscall/execve/enter" && slices.Contains(p.OptionalFields, "envv") {
			execEnter = true
		}
	}
	if !execEnter {
		t.Error("execve enter without envv")
	}
}

func TestPodInitConfigRejects(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		opts     []ConfigOption
	}{
		{"no endpoint", "", nil},
		{"negative retries", "/s", []ConfigOption{WithRetries(-1, time.Millisecond, time.Second)}},
		{"backoff above its max", "/s", []ConfigOption{WithRetries(1, time.Second, time.Millisecond)}},
	}
	for _, tt := range tests {
		if _, err := PodInitConfig(tt.endpoint, tt.opts...); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
