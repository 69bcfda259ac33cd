package corpus

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestVariants(t *testing.T) {
	vs := Variants()
	names := map[string]bool{}
	groups := map[string]map[string]bool{}
	perLabel := map[string]int{}
	for _, v := range vs {
		if err := v.Validate(); err != nil {
			t.Error(err)
		}
		if names[v.Name] {
			t.Errorf("variant %s named twice", v.Name)
		}
		names[v.Name] = true
		if groups[v.Label] == nil {
			groups[v.Label] = map[string]bool{}
		}
		groups[v.Label][v.Group] = true
		perLabel[v.Label]++
		// The guard must come first: nothing may run outside gVisor
		// (behave, run directly, has its own).
		if want := "#!" + v.Base.Shell() + "\n" + guard; len(v.Exec) == 0 && !strings.HasPrefix(string(v.Entrypoint()), want) {
			t.Errorf("%s: entrypoint does not start with the gVisor guard", v.Name)
		}
	}
	for _, l := range Labels {
		// A held-out evaluation needs families to hold out.
		if len(groups[l]) < 3 || perLabel[l] < 20 {
			t.Errorf("%s: %d variants in %d families, want >= 20 in >= 3", l, perLabel[l], len(groups[l]))
		}
	}
	if len(vs) < 300 {
		t.Errorf("%d variants, want hundreds", len(vs))
	}
}

var (
	ipv4   = regexp.MustCompile(`\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b`)
	domain = regexp.MustCompile(`[a-z0-9-]+(\.[a-z0-9-]+)+`)
	// publicTLD: names under these could reach someone real.
	publicTLD = regexp.MustCompile(`\.(com|net|org|io|ru|cn|xyz|top|internal|local|svc|cluster)$`)
)

// TestRemoteEndsAreReserved: every address a variant may reach is
// loopback, a documentation range (RFC 5737) or a reserved name (RFC 2606).
func TestRemoteEndsAreReserved(t *testing.T) {
	docNet := regexp.MustCompile(`^(127\.|0\.0\.0\.0$|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.)`)
	for _, v := range Variants() {
		text := v.Script + strings.Join(v.Env, " ") + strings.Join(v.Exec, " ")
		for _, f := range v.Files {
			text += " " + string(f.Content)
		}
		for _, ip := range ipv4.FindAllString(text, -1) {
			if !docNet.MatchString(ip) {
				t.Errorf("%s: address %s is neither loopback nor a documentation address", v.Name, ip)
			}
		}
		for _, d := range domain.FindAllString(text, -1) {
			if publicTLD.MatchString(d) && !regexp.MustCompile(`(^|\.)example\.(com|net|org)$`).MatchString(d) && d != "rc.local" && d != "kubernetes.io" { // a file name, a path component
				t.Errorf("%s: name %s is not a reserved name", v.Name, d)
			}
		}
	}
}

// TestGuardStopsOutsideGVisor runs the guard (not a variant) on the host:
// it must exit 0 before the next line.
func TestGuardStopsOutsideGVisor(t *testing.T) {
	for _, sh := range []string{"/bin/sh", "/bin/bash"} {
		out, err := exec.Command(sh, "-c", guard+"echo RAN\n").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", sh, err, out)
		}
		if strings.Contains(string(out), "RAN") || !strings.Contains(string(out), "not inside gVisor") {
			t.Errorf("%s: guard let the script go on: %q", sh, out)
		}
	}
}

func TestBehaveDoesNothingOutsideGVisor(t *testing.T) {
	bin := t.TempDir() + "/behave"
	if out, err := exec.Command("go", "build", "-o", bin, "./behave").CombinedOutput(); err != nil {
		t.Fatalf("build behave: %v: %s", err, out)
	}
	for _, args := range [][]string{{"encrypt", "-dir", t.TempDir()}, {"escape"}, {"burn", "-secs", "60"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "not inside gVisor") {
			t.Errorf("behave %v on the host: err %v, output %q", args, err, out)
		}
	}
}
