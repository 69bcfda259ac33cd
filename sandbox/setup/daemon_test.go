package setup

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestDaemonEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		dirs    []string
		want    []string
	}{
		{
			name:    "prepends, drops systemd's sockets",
			environ: []string{"HOME=/root", "PATH=/usr/bin:/bin", "NOTIFY_SOCKET=/run/systemd/notify", "LISTEN_FDS=3"},
			dirs:    []string{"/t/bin", "/t/bin"},
			want:    []string{"HOME=/root", "PATH=/t/bin:/usr/bin:/bin"},
		},
		{
			name:    "Debian fallback shim first",
			environ: []string{"PATH=/bin"},
			dirs:    []string{"/usr/bin", "/t/bin"},
			want:    []string{"PATH=/usr/bin:/t/bin:/bin"},
		},
		{
			name: "no PATH at all",
			dirs: []string{"/t/bin"},
			want: []string{"PATH=/t/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
	}
	for _, tt := range tests {
		if got := daemonEnviron(tt.environ, tt.dirs...); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("this process reads as dead")
	}
	// An exited child not yet waited for is a zombie: kill(pid, 0) would
	// still succeed on it, alive must not.
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if !waitGone(t.Context(), cmd.Process.Pid, 5e9) {
		t.Error("zombie reads as alive")
	}
	if alive(1 << 30) {
		t.Error("nonexistent pid reads as alive")
	}
}

func TestIsOurDaemon(t *testing.T) {
	cfg, _ := testConfig(t)
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &installer{env: env}
	pid := readPID(t, env)
	if !s.isOurDaemon(pid) {
		t.Errorf("our daemon %d not recognised", pid)
	}
	if s.isOurDaemon(os.Getpid()) {
		t.Error("the test binary taken for containerd")
	}
	other := &installer{env: &Env{ConfigFile: "/elsewhere/config.toml", PIDFile: env.PIDFile}}
	if other.isOurDaemon(pid) || other.daemonPID() != 0 {
		t.Error("a daemon with another config taken for ours")
	}
	// Without its pid file the daemon is still found through /proc.
	if err := os.Remove(env.PIDFile); err != nil {
		t.Fatal(err)
	}
	if got := s.daemonPID(); got != pid {
		t.Errorf("daemonPID without pid file = %d, want %d", got, pid)
	}
}
