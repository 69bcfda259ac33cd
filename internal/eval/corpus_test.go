package eval

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeCorpus writes a corpus directory; an empty string leaves a file out.
func writeCorpus(t *testing.T, atomics, controls string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{AtomicsFile: atomics, ControlsFile: controls} {
		if content == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const atomicsDoc = `[
 {"technique": "T1053.003", "tactic": "persistence", "tactics": ["execution", "persistence"],
  "legacy_tactics": ["execution", "persistence"], "name": "Cron", "guid": "g-1", "shell": "sh",
  "command": "crontab /tmp/x\n", "setup": "echo '* * * * * id' > /tmp/x",
  "debian_packages": ["cron (provides /etc/cron.d)", "busybox-static (or busybox)", "tshark (optional, not installed)"],
  "signal": "high", "busybox_compatible": true, "caveats": "",
  "gvisor_validation": {"rc": "0", "wall": "0.3s"}},
 {"technique": "T1685.006", "legacy_technique": "T1070.002", "tactic": "defense-impairment",
  "tactics": ["defense-impairment"], "legacy_tactics": ["defense-evasion"], "name": "rm logs", "guid": "g-2",
  "shell": "bash", "command": "rm -rf /var/log/x", "setup": null, "debian_packages": [], "signal": "medium",
  "busybox_compatible": false, "caveats": "DESTRUCTIVE: wipes things",
  "gvisor_validation": {"rc": "124", "wall": "6.3s"}}
]`

const controlsDoc = `[
 {"id": "B01", "name": "nginx", "debian_packages": ["nginx-light", "curl"], "command": "nginx -t",
  "rootfs": "debian-bookworm (debootstrap)", "gvisor_validation": {"rc": "0", "wall": "9s"}},
 {"id": "B06", "name": "go server", "debian_packages": ["golang-go (build stage only)", "busybox-static (probe)"],
  "command": "/usr/local/bin/hello & sleep 1", "rootfs": "busybox-static rootfs (busybox --install -s)",
  "gvisor_validation": {"rc": "0", "wall": "1.2s"},
  "build": "CGO_ENABLED=0 go build -trimpath -o /usr/local/bin/hello .   # go.mod: module example.invalid/hello, go 1.19",
  "build_source": {"main.go": "package main\nfunc main() {}\n"}}
]`

func TestLoad(t *testing.T) {
	c, err := Load(writeCorpus(t, atomicsDoc, controlsDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tests) != 4 || len(c.Atomics()) != 2 || len(c.Controls()) != 2 {
		t.Fatalf("%d tests, %d atomics, %d controls", len(c.Tests), len(c.Atomics()), len(c.Controls()))
	}
	a1, a2, b1, b6 := c.Tests[0], c.Tests[1], c.Tests[2], c.Tests[3]
	if a1.ID != "A01" || a1.Key != "g-1" || a1.Kind != KindAtomic || a1.Setup == "" || a1.Rootfs != RootfsDebian {
		t.Errorf("A01 = %+v", a1)
	}
	if !slices.Equal(a1.Packages, []string{"cron", "busybox-static"}) {
		t.Errorf("A01 packages = %q", a1.Packages)
	}
	if !slices.Equal(a2.Expected(), []string{"T1685.006", "T1070.002"}) || a2.LegacyTactic != "defense-evasion" || !a2.Destructive {
		t.Errorf("A02 = expected %q legacy tactic %q destructive %v", a2.Expected(), a2.LegacyTactic, a2.Destructive)
	}
	if a1.LegacyTactic != "persistence" || a1.Destructive {
		t.Errorf("A01 legacy tactic %q destructive %v", a1.LegacyTactic, a1.Destructive)
	}
	if a2.Timeout != 9*time.Second || a1.Timeout != DefaultTimeout || b1.Timeout != 37*time.Second {
		t.Errorf("timeouts %v %v %v", a2.Timeout, a1.Timeout, b1.Timeout)
	}
	if b1.Kind != KindControl || b1.Rootfs != RootfsDebian || len(b1.Expected()) != 0 {
		t.Errorf("B01 = %+v", b1)
	}
	if b6.Rootfs != RootfsBusybox || b6.Build == nil || b6.Build.Output != "/usr/local/bin/hello" ||
		b6.Build.Module != "example.invalid/hello" || len(b6.Packages) != 1 {
		t.Errorf("B06 = %+v build %+v", b6, b6.Build)
	}
	// B06 runs on busybox, so its busybox-static does not join the union.
	if got := c.DebianPackages(); !slices.Equal(got, []string{"busybox-static", "cron", "curl", "nginx-light"}) {
		t.Errorf("DebianPackages = %q", got)
	}
}

func TestLoadOneFile(t *testing.T) {
	c, err := Load(writeCorpus(t, "", controlsDoc))
	if err != nil || len(c.Tests) != 2 {
		t.Fatalf("controls only: %v, %v", c, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name              string
		atomics, controls string
	}{
		{"no files", "", ""},
		{"not json", "[{", ""},
		{"bad technique", `[{"technique": "1053", "tactic": "x", "command": "id"}]`, ""},
		{"no tactic", `[{"technique": "T1053", "command": "id"}]`, ""},
		{"empty command", `[{"technique": "T1053", "tactic": "x", "command": " "}]`, ""},
		{"bad package", `[{"technique": "T1053", "tactic": "x", "command": "id", "debian_packages": ["Curl;rm"]}]`, ""},
		{"bad wall", `[{"technique": "T1053", "tactic": "x", "command": "id", "gvisor_validation": {"wall": "soon"}}]`, ""},
		{"duplicate key", `[{"technique": "T1053", "tactic": "x", "command": "id", "guid": "g"},
			{"technique": "T1053", "tactic": "x", "command": "id", "guid": "g"}]`, ""},
		{"control without id", "", `[{"name": "x", "command": "id"}]`},
		{"unknown build", "", `[{"id": "B1", "command": "id", "build": "make", "build_source": {"a": "b"}}]`},
		{"build path", "", `[{"id": "B1", "command": "id", "build": "go build -o /x .", "build_source": {"../a.go": "b"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeCorpus(t, tt.atomics, tt.controls))
			if !errors.Is(err, ErrCorpus) {
				t.Errorf("err = %v, want ErrCorpus", err)
			}
		})
	}
}

func TestCleanPackages(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{"curl", "curl"}, []string{"curl"}},
		{[]string{"telnet (-> inetutils-telnet)"}, []string{"telnet"}},
		{[]string{"  procps (sysctl) "}, []string{"procps"}},
		{[]string{"tshark (optional, not installed in validation)"}, nil},
		{[]string{"golang-go (build stage only)", "python3"}, []string{"python3"}},
	}
	for _, tt := range tests {
		got, err := cleanPackages(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("cleanPackages(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := cleanPackages([]string{"$(reboot)"}); err == nil {
		t.Error("a shell expansion passed as a package name")
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		seconds float64
		v       validation
		want    time.Duration
	}{
		{0, validation{}, DefaultTimeout},
		{45, validation{RC: "0", Wall: "1s"}, 45 * time.Second},
		{1000, validation{}, maxTimeout},
		{0, validation{RC: "0", Wall: "0.3s"}, DefaultTimeout},
		{0, validation{RC: "0", Wall: "14.2s"}, 53 * time.Second},
		{0, validation{RC: "124", Wall: "6.3s"}, 9 * time.Second},
		{0, validation{RC: "124", Wall: "0.1s"}, minTimeout},
		{0, validation{RC: "0", Wall: "600s"}, maxTimeout},
	}
	for _, tt := range tests {
		got, err := timeout(tt.seconds, tt.v)
		if err != nil || got != tt.want {
			t.Errorf("timeout(%v, %+v) = %v, %v; want %v", tt.seconds, tt.v, got, err, tt.want)
		}
	}
}

func TestLegacyTactic(t *testing.T) {
	tests := []struct {
		primary         string
		tactics, legacy []string
		want            string
	}{
		{"persistence", []string{"persistence"}, []string{"persistence"}, "persistence"},
		{"stealth", []string{"execution", "stealth"}, []string{"defense-evasion", "execution"}, "defense-evasion"},
		{"defense-impairment", []string{"defense-impairment"}, []string{"defense-evasion"}, "defense-evasion"},
		{"impact", []string{"impact"}, nil, "impact"},
	}
	for _, tt := range tests {
		if got := legacyTactic(tt.primary, tt.tactics, tt.legacy); got != tt.want {
			t.Errorf("legacyTactic(%s) = %s, want %s", tt.primary, got, tt.want)
		}
	}
}

func TestParseGoBuild(t *testing.T) {
	src := map[string]string{"main.go": "package main"}
	b, err := parseGoBuild("go build -o=/opt/srv .", src)
	if err != nil || b.Output != "/opt/srv" || b.Module != "example.invalid/build" {
		t.Errorf("= %+v, %v", b, err)
	}
	for _, bad := range []string{"go build .", "go build -o rel/path .", "cargo build"} {
		if _, err := parseGoBuild(bad, src); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := parseGoBuild("go build -o /x .", nil); err == nil || !strings.Contains(err.Error(), "build_source") {
		t.Errorf("no sources: %v", err)
	}
}
