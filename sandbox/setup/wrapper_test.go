package setup

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// echoRunsc stands in for runsc where the test is about the argument list
// the script builds: it prints each argument on a line.
const echoRunsc = "#!/bin/sh\nfor a do printf '%s\\n' \"$a\"; done\n"

// scriptEnv writes the wrapper for a fake runsc under a dir with a quote and
// a space in its name, to prove the script's quoting.
func scriptEnv(t *testing.T, runscBody string) *Env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "it's a dir")
	env := &Env{
		Runsc:         filepath.Join(dir, "runsc"),
		Wrapper:       filepath.Join(dir, "runsc-wrapper"),
		RunscFlagsDir: filepath.Join(dir, "flags"),
	}
	if err := os.MkdirAll(env.RunscFlagsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(env.Runsc, []byte(runscBody), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(env.Wrapper, []byte(wrapperScript(env.Runsc, env.RunscFlagsDir)), 0o755); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestWrapperArguments(t *testing.T) {
	defaults := []string{"--platform=systrap", "--overlay2=none", "--network=none"}
	tests := []struct {
		name  string
		files map[string]string // flags files by container id
		args  []string
		want  []string // flags expected between the defaults and args
	}{
		{
			name: "no flags file",
			args: []string{"--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/p", "c1"},
		},
		{
			name:  "create with flags",
			files: map[string]string{"c1": "--network=sandbox\n--pod-init-config=/w/pod init.json\n"},
			args:  []string{"--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/p", "c1"},
			want:  []string{"--network=sandbox", "--pod-init-config=/w/pod init.json"},
		},
		{
			name:  "id before a signal",
			files: map[string]string{"c1": "--pcap-log=/w/c1.pcap\n"},
			args:  []string{"--root", "/r", "kill", "c1", "9"},
			want:  []string{"--pcap-log=/w/c1.pcap"},
		},
		{
			name:  "lines not starting with -- are ignored, last line without newline kept",
			files: map[string]string{"c1": "# comment\nrm -rf /\n-x\n--\n\n--debug"},
			args:  []string{"delete", "--force", "c1"},
			want:  []string{"--debug"},
		},
		{
			name:  "other container's file unused",
			files: map[string]string{"c2": "--network=host\n"},
			args:  []string{"state", "c1"},
		},
		{
			name:  "paths and options never name a container",
			files: map[string]string{"json": "--network=host\n"},
			args:  []string{"--log-format=json", "--bundle", "/x/json", "state", "c1"},
		},
		{
			name:  "the last argument naming a container wins",
			files: map[string]string{"a": "--debug\n", "b": "--strace\n"},
			args:  []string{"exec", "a", "b"},
			want:  []string{"--strace"},
		},
		{
			name: "no arguments",
		},
		{
			name: "arguments with spaces, quotes and globs stay whole",
			args: []string{"exec", "--process", "/p q/'x'*", "", "c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := scriptEnv(t, echoRunsc)
			for id, body := range tt.files {
				if err := os.WriteFile(filepath.Join(env.RunscFlagsDir, id), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command(env.Wrapper, tt.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			want := slices.Concat(defaults, tt.want, tt.args)
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if !slices.Equal(got, want) {
				t.Errorf("runsc got\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestWrapperExitStatusAndStdin(t *testing.T) {
	// The runc shim reads runsc's exit status and feeds some commands on
	// stdin (update --resources -): exec keeps both.
	env := scriptEnv(t, "#!/bin/sh\ncat\nexit 7\n")
	cmd := exec.Command(env.Wrapper, "update", "--resources", "-", "c1")
	cmd.Stdin = strings.NewReader("{\"pids\":{}}")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("exit: %v, want status 7", err)
	}
	if string(out) != "{\"pids\":{}}" {
		t.Errorf("stdin not passed: %q", out)
	}
}

// TestWrapperRealRunsc runs the wrapper Ensure writes in front of the real
// runsc: a flags file's bad value must reach runsc's flag parser, and
// without a file runsc gets valid defaults and looks for the container.
func TestWrapperRealRunsc(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := WriteRunscFlags(env, "c-bad", []string{"--network=bogus"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(env.Wrapper, "--root", root, "state", "c-bad").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `invalid network type "bogus"`) {
		t.Errorf("flags file not passed to runsc: %v\n%s", err, out)
	}
	out, err = exec.Command(env.Wrapper, "--root", root, "state", "c-none").CombinedOutput()
	if err == nil || strings.Contains(string(out), "invalid") || !strings.Contains(string(out), "does not exist") {
		t.Errorf("runsc with default flags: %v\n%s", err, out)
	}
	if err := RemoveRunscFlags(env, "c-bad"); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command(env.Wrapper, "--root", root, "state", "c-bad").CombinedOutput()
	if strings.Contains(string(out), "bogus") {
		t.Errorf("flags still used after RemoveRunscFlags:\n%s", out)
	}
}

func TestWriteRunscFlags(t *testing.T) {
	env := &Env{RunscFlagsDir: filepath.Join(t.TempDir(), "flags")}
	tests := []struct {
		id    string
		flags []string
		ok    bool
	}{
		{"c1", []string{"--network=none", "--pod-init-config=/a b/c.json"}, true},
		{"ss-0a1b2c.run_1", nil, true},
		{"c1", []string{"network=none"}, false},
		{"c1", []string{"--"}, false},
		{"c1", []string{"--pcap-log=/x\n--network=host"}, false},
		{"../etc", []string{"--debug"}, false},
		{"a/b", nil, false},
		{"", nil, false},
		{".", nil, false},
		{"-c1", nil, false},
		{strings.Repeat("a", 77), nil, false},
	}
	for _, tt := range tests {
		err := WriteRunscFlags(env, tt.id, tt.flags)
		if (err == nil) != tt.ok {
			t.Errorf("WriteRunscFlags(%q, %q) = %v, want ok=%v", tt.id, tt.flags, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(env.RunscFlagsDir, tt.id))
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		for _, f := range tt.flags {
			want += f + "\n"
		}
		if string(b) != want {
			t.Errorf("file holds %q, want %q", b, want)
		}
		if err := RemoveRunscFlags(env, tt.id); err != nil {
			t.Error(err)
		}
		if err := RemoveRunscFlags(env, tt.id); err != nil {
			t.Errorf("second remove: %v", err)
		}
	}
	left, _ := os.ReadDir(env.RunscFlagsDir)
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestShQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "it's", "'", "a b\tc\nd", "$HOME `x` \\ \"q\""} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shQuote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("shQuote(%q) reads back as %q", s, out)
		}
	}
}
