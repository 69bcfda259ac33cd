package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContainerdConfig(t *testing.T) {
	_, env, err := Config{StateDir: "/srv/ss", ToolsDir: "/opt/t"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	noShimDir := *env
	noShimDir.ShimSocketDir = ""
	tests := []struct {
		name    string
		env     *Env
		version string
		want    []string // lines the config must hold
		not     []string // substrings it must not hold
		ok      bool
	}{
		{
			name:    "containerd 2.4",
			env:     env,
			version: "v2.4.2",
			ok:      true,
			want: []string{
				"version = 3",
				`root = "/srv/ss/containerd/root"`,
				`state = "/srv/ss/containerd/state"`,
				"imports = []",
				`  address = "/srv/ss/containerd/containerd.sock"`,
				`  address = "/srv/ss/containerd/containerd.sock.ttrpc"`,
				`  address = ""`,
				`[plugins."io.containerd.internal.v1.opt"]`,
				`  path = "/srv/ss/containerd/opt"`,
				`[plugins."io.containerd.shim.v1.manager"]`,
				`  socket_dir = "/srv/ss/s"`,
			},
			not: []string{"/run/containerd", "/var/lib/containerd", "/etc/containerd"},
		},
		{
			name:    "containerd 1.6 from Debian",
			env:     &noShimDir,
			version: "1.6.20~ds1",
			ok:      true,
			want:    []string{"version = 2", `  address = "/srv/ss/containerd/containerd.sock"`},
			not:     []string{"socket_dir", "version = 3"},
		},
		{name: "too old", env: env, version: "1.4.0"},
		{name: "unreadable version", env: env, version: "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := containerdConfig(tt.env, tt.version)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			lines := strings.Split(string(b), "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("no line %q in\n%s", w, b)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(b), n) {
					t.Errorf("config holds %q:\n%s", n, b)
				}
			}
			for _, p := range []string{"io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"} {
				if !strings.Contains(string(b), `"`+p+`"`) {
					t.Errorf("plugin %s not disabled", p)
				}
			}
		})
	}
}

func TestContainerdConfigQuotesPaths(t *testing.T) {
	env := &Env{Address: `/s/a"b\c/containerd.sock`, TTRPCAddress: "/s/t"}
	b, err := containerdConfig(env, "2.4.2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `root = "/s/a\"b\\c/root"`) {
		t.Errorf("path not escaped:\n%s", b)
	}
	env.Address = "/s/\xff/containerd.sock"
	if _, err := containerdConfig(env, "2.4.2"); err == nil {
		t.Error("invalid UTF-8 path accepted")
	}
}

func TestTOMLString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/lib/sandscan", `"/var/lib/sandscan"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"tab\there", `"tab\u0009here"`},
		{"nl\n", `"nl\u000A"`},
		{"del\x7f", `"del\u007F"`},
		{"ünï", `"ünï"`},
		{"", `""`},
	}
	for _, tt := range tests {
		got, err := tomlString(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("tomlString(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name            string
		cfg             Config
		envState        string
		envTools        string
		state, tools    string
		shimDir         string
		wantErrContains string
	}{
		{name: "defaults", state: "/var/lib/sandscan", tools: "/var/lib/sandscan/tools", shimDir: "/var/lib/sandscan/s"},
		{name: "env state", envState: "/srv/ss", state: "/srv/ss", tools: "/srv/ss/tools", shimDir: "/srv/ss/s"},
		{name: "env both", envState: "/srv/ss", envTools: "/cache/t", state: "/srv/ss", tools: "/cache/t", shimDir: "/srv/ss/s"},
		{name: "field beats env", cfg: Config{StateDir: "/a", ToolsDir: "/b"}, envState: "/srv/ss", envTools: "/cache/t", state: "/a", tools: "/b", shimDir: "/a/s"},
		{name: "cleaned", cfg: Config{StateDir: "/a//b/../c/"}, state: "/a/c", tools: "/a/c/tools", shimDir: "/a/c/s"},
		{
			name:    "shim dir too long for containerd",
			cfg:     Config{StateDir: "/tmp/" + strings.Repeat("x", 40)},
			state:   "/tmp/" + strings.Repeat("x", 40),
			tools:   "/tmp/" + strings.Repeat("x", 40) + "/tools",
			shimDir: "",
		},
		{name: "socket too long", cfg: Config{StateDir: "/" + strings.Repeat("x", 80)}, wantErrContains: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvStateDir, tt.envState)
			t.Setenv(EnvToolsDir, tt.envTools)
			cfg, env, err := tt.cfg.resolve()
			if tt.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
					t.Fatalf("err = %v, want %q", err, tt.wantErrContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if env.StateDir != tt.state || env.ToolsDir != tt.tools || env.ShimSocketDir != tt.shimDir {
				t.Errorf("state %q tools %q shim %q; want %q %q %q", env.StateDir, env.ToolsDir, env.ShimSocketDir, tt.state, tt.tools, tt.shimDir)
			}
			if env.Runsc != filepath.Join(tt.tools, "bin", "runsc") || env.Wrapper != filepath.Join(tt.state, "bin", "runsc-wrapper") ||
				env.Address != filepath.Join(tt.state, "containerd", "containerd.sock") {
				t.Errorf("derived paths: %+v", env)
			}
			if len(cfg.Packages) == 0 || cfg.Exec == nil || cfg.Logger == nil || cfg.ReadyTimeout <= 0 {
				t.Errorf("defaults not filled: %+v", cfg)
			}
		})
	}
}

func TestResolveEmptyPackagesMeansNone(t *testing.T) {
	cfg, _, err := Config{StateDir: "/a", Packages: []string{}}.resolve()
	if err != nil || cfg.Packages == nil || len(cfg.Packages) != 0 {
		t.Errorf("Packages = %#v, %v; want empty", cfg.Packages, err)
	}
}

func TestWriteIfChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f")
	steps := []struct {
		data    string
		perm    os.FileMode
		changed bool
	}{
		{"a", 0o644, true},
		{"a", 0o644, false},
		{"b", 0o644, true},
		{"b", 0o755, true},
		{"b", 0o755, false},
	}
	for i, s := range steps {
		changed, err := writeIfChanged(p, []byte(s.data), s.perm)
		if err != nil || changed != s.changed {
			t.Errorf("step %d: changed=%v err=%v, want changed=%v", i, changed, err, s.changed)
		}
		b, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(b) != s.data || fi.Mode().Perm() != s.perm {
			t.Errorf("step %d: file %q %v", i, b, fi.Mode())
		}
	}
	left, _ := os.ReadDir(filepath.Dir(p))
	if len(left) != 1 {
		t.Errorf("temp files left: %v", left)
	}
}
