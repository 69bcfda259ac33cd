package eval

import (
	"slices"
	"testing"
	"time"
)

func TestScript(t *testing.T) {
	tests := []struct {
		name string
		test Test
		want string
	}{
		{"setup and command", Test{ID: "A1", Shell: "sh", Setup: "mkdir -p ~/.ssh\n", Command: "cat ~/.ssh/x\n"},
			"#!/bin/sh\nmkdir -p ~/.ssh\necho '" + Marker + "'\ncat ~/.ssh/x\n"},
		{"no setup, bash", Test{ID: "A2", Shell: "bash", Command: "trap 'x' DEBUG\necho hi"},
			"#!/bin/bash\necho '" + Marker + "'\ntrap 'x' DEBUG\necho hi\n"},
		{"blank setup", Test{ID: "A3", Shell: "sh", Setup: " \n", Command: "id"},
			"#!/bin/sh\necho '" + Marker + "'\nid\n"},
		// The command keeps its quirks verbatim: the corpus's text is
		// the test, mistakes included.
		{"verbatim quirks", Test{ID: "A4", Shell: "sh", Command: `echo "a "b" c" > /etc/cron.d/x`},
			"#!/bin/sh\necho '" + Marker + "'\n" + `echo "a "b" c" > /etc/cron.d/x` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Script(tt.test)
			if err != nil || string(got) != tt.want {
				t.Errorf("Script = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
	if _, err := Script(Test{ID: "A5", Shell: "pwsh", Command: "id"}); err == nil {
		t.Error("unknown shell: no error")
	}
}

func TestEntrypoint(t *testing.T) {
	tests := []struct {
		shell string
		keep  time.Duration
		want  []string
	}{
		{"sh", 3 * time.Second, []string{"/bin/sh", "-c", "/bin/sh " + ScriptPath + "; sleep 3"}},
		{"bash", 2500 * time.Millisecond, []string{"/bin/sh", "-c", "/bin/bash " + ScriptPath + "; sleep 3"}},
		{"bash", 0, []string{"/bin/sh", "-c", "/bin/bash " + ScriptPath}},
	}
	for _, tt := range tests {
		got, err := Entrypoint(Test{ID: "A1", Shell: tt.shell}, tt.keep)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Entrypoint(%s, %v) = %q, %v; want %q", tt.shell, tt.keep, got, err, tt.want)
		}
	}
	cfg, err := ImageConfig(Test{ID: "A1", Shell: "sh"}, time.Second)
	if err != nil || cfg.WorkingDir != "/root" || !slices.Equal(cfg.Env, Env) || len(cfg.Entrypoint) != 3 {
		t.Errorf("ImageConfig = %+v, %v", cfg, err)
	}
}
