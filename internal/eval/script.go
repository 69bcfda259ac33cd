package eval

import (
	"fmt"
	"strings"
	"time"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// ScriptPath is where a test's script goes in its image.
const ScriptPath = "/opt/sandscan/test.sh"

// Marker is printed between setup and command, so the output of one can
// be told from the other's.
const Marker = "=== sandscan-eval: command ==="

// DefaultKeepAlive is how long the container lives after the test's shell
// returns: under gVisor the background jobs of a test (a shell spawned with
// &, a target process) die with PID 1, often before they exec.
const DefaultKeepAlive = 3 * time.Second

// Env is the whole environment a test starts with, as `env -i` would
// leave it plus the three variables the corpus was validated with.
var Env = []string{
	"HOME=/root",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
}

// shells maps an executor name to its path in the image.
var shells = map[string]string{"sh": "/bin/sh", "bash": "/bin/bash"}

// Script returns the file the test's executor runs: setup, the marker and
// the command, in one shell process (setup may start a daemon or define
// what the command reads).
func Script(t Test) ([]byte, error) {
	sh, ok := shells[t.Shell]
	if !ok {
		return nil, fmt.Errorf("test %s: unknown shell %q", t.ID, t.Shell)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!%s\n", sh)
	if setup := strings.TrimRight(t.Setup, "\n"); strings.TrimSpace(setup) != "" {
		b.WriteString(setup)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "echo '%s'\n", Marker)
	b.WriteString(strings.TrimRight(t.Command, "\n"))
	b.WriteString("\n")
	return []byte(b.String()), nil
}

// Entrypoint runs the script with the test's executor, then keeps the
// container alive. The script runs as a child so that its own `exit`
// cannot skip the wait.
func Entrypoint(t Test, keepAlive time.Duration) ([]string, error) {
	sh, ok := shells[t.Shell]
	if !ok {
		return nil, fmt.Errorf("test %s: unknown shell %q", t.ID, t.Shell)
	}
	line := sh + " " + ScriptPath
	if keepAlive > 0 {
		line += fmt.Sprintf("; sleep %d", int((keepAlive+time.Second-1)/time.Second))
	}
	return []string{"/bin/sh", "-c", line}, nil
}

// ImageConfig is the runtime config of a test's image: the entrypoint,
// the environment and /root as the working directory (tests refer to
// files relative to it).
func ImageConfig(t Test, keepAlive time.Duration) (imagebuild.Config, error) {
	ep, err := Entrypoint(t, keepAlive)
	if err != nil {
		return imagebuild.Config{}, err
	}
	return imagebuild.Config{
		Entrypoint: ep,
		Env:        append([]string(nil), Env...),
		WorkingDir: "/root",
	}, nil
}
