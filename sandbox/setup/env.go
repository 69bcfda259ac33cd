package setup

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	containerd "github.com/containerd/containerd/v2/client"
)

// Pinned versions. Changing one makes the next Ensure rebuild that tool.
const (
	ContainerdPin = "v2.4.2"
	RunscPin      = "v0.0.0-20260701204157-69c2d17aea96"
)

// Namespace is the containerd namespace Sandscan keeps its images and
// containers in.
const Namespace = "sandscan"

// Runtime is the containerd runtime the sandbox uses: the runc v2 shim with
// runc replaced by the runsc wrapper (see RuntimeOptions). The gVisor shim
// does not work on these machines (RUNTIME.md).
const Runtime = "io.containerd.runc.v2"

// Platform is the gVisor platform the wrapper selects by default.
const Platform = "systrap"

// Environment variables that override the defaults of Config.
const (
	EnvStateDir = "SANDSCAN_STATE_DIR"
	EnvToolsDir = "SANDSCAN_TOOLS_DIR"
)

// DefaultStateDir is where Sandscan keeps its state unless told otherwise.
const DefaultStateDir = "/var/lib/sandscan"

// ErrNotSetUp means Load found no trace of a finished Ensure.
var ErrNotSetUp = errors.New("sandscan runtime is not set up (run `sandscan setup`)")

// DefaultPackages are the Debian packages the project needs; Config.Packages
// replaces the list.
func DefaultPackages() []string {
	// runc and busybox-static for the runtime and the sample images;
	// docker-registry, nats-server and skopeo are the real servers and
	// clients the service and its tests work against; iproute2 for the
	// sinkhole's tests.
	return []string{"runc", "busybox-static", "docker-registry", "nats-server", "skopeo", "iproute2"}
}

// Config says where things go. Empty fields take their defaults: a field
// set here wins over the environment, which wins over the built-in default.
type Config struct {
	// StateDir holds the daemon's data, sockets and the wrapper:
	// $SANDSCAN_STATE_DIR, else /var/lib/sandscan.
	StateDir string
	// ToolsDir holds the built binaries (in ToolsDir/bin) and their
	// stamps: $SANDSCAN_TOOLS_DIR, else StateDir/tools.
	ToolsDir string
	// Packages are the Debian packages to install when missing; nil means
	// DefaultPackages, an empty slice none.
	Packages []string
	// Go is the go command used to build tools: "go" from PATH, else
	// /usr/local/go/bin/go.
	Go string
	// ReadyTimeout bounds the wait for a started containerd to answer
	// (default 30s).
	ReadyTimeout time.Duration
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
	// Exec runs every external command (go, apt-get, dpkg-query, version
	// probes) to completion; nil means (*exec.Cmd).Run. Tests wrap it to
	// see which commands ran.
	Exec func(*exec.Cmd) error
}

// Env is the runtime as Ensure left it: paths and versions, nothing live.
type Env struct {
	StateDir string
	ToolsDir string

	// Address is the containerd gRPC socket, TTRPCAddress its ttrpc one.
	Address      string
	TTRPCAddress string
	Namespace    string

	// Containerd and Shim are the binaries the daemon runs (under
	// ToolsDir/bin, or Debian's after a failed build).
	Containerd string
	Shim       string
	Runsc      string
	// Wrapper is the script the runc shim runs in place of runc.
	Wrapper string
	// RunscRoot is runsc's state root (the runc options' Root).
	RunscRoot string
	// RunscFlagsDir holds one file of extra runsc flags per container id.
	RunscFlagsDir string
	// FIFODir is for the containers' stdio FIFOs (cio.WithFIFODir).
	FIFODir string
	// WorkDir is for per-run files: scratch mounts, trace config, sink
	// sockets. Keep names in it short: sockets have a 108-byte limit.
	WorkDir string
	// ShimSocketDir is where the shims put their sockets, or "" when
	// containerd decides (/run/containerd/s).
	ShimSocketDir string

	ConfigFile string // containerd's config, written by Ensure
	LogFile    string // containerd's stdout and stderr
	PIDFile    string

	Platform string
	// ContainerdVersion is what the daemon reports (Ensure) or what the
	// binary is (Load); RunscVersion is the module version runsc was
	// built at (runsc itself prints VERSION_MISSING).
	ContainerdVersion string
	RunscVersion      string
}

// RuntimeOptions are the runc shim options that make it run runsc through
// the wrapper: pass them with client.WithRuntime(Runtime, opts).
func (e *Env) RuntimeOptions() *options.Options {
	return &options.Options{BinaryName: e.Wrapper, Root: e.RunscRoot}
}

// Client connects to the project's containerd with Sandscan's namespace as
// the default. The caller closes it.
func (e *Env) Client(opts ...containerd.Opt) (*containerd.Client, error) {
	opts = append([]containerd.Opt{containerd.WithDefaultNamespace(e.Namespace)}, opts...)
	c, err := containerd.New(e.Address, opts...)
	if err != nil {
		return nil, fmt.Errorf("setup: connect to containerd at %s: %w", e.Address, err)
	}
	return c, nil
}

// maxSocketPath is sun_path's size less the terminating NUL.
const maxSocketPath = 107

// maxShimSocketDir is containerd's own limit on socket_dir (it appends a
// 64-hex-digit name); socket_unix.go says 38 on non-Linux, Linux allows 42.
const maxShimSocketDir = 38

// resolve fills in defaults and the paths derived from the directories.
func (c Config) resolve() (Config, *Env, error) {
	if c.StateDir == "" {
		c.StateDir = os.Getenv(EnvStateDir)
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.ToolsDir == "" {
		c.ToolsDir = os.Getenv(EnvToolsDir)
	}
	if c.ToolsDir == "" {
		c.ToolsDir = filepath.Join(c.StateDir, "tools")
	}
	var err error
	if c.StateDir, err = filepath.Abs(c.StateDir); err != nil {
		return c, nil, fmt.Errorf("setup: state dir: %w", err)
	}
	if c.ToolsDir, err = filepath.Abs(c.ToolsDir); err != nil {
		return c, nil, fmt.Errorf("setup: tools dir: %w", err)
	}
	if c.Packages == nil {
		c.Packages = DefaultPackages()
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Exec == nil {
		c.Exec = (*exec.Cmd).Run
	}
	ctrd := filepath.Join(c.StateDir, "containerd")
	bin := filepath.Join(c.ToolsDir, "bin")
	e := &Env{
		StateDir:      c.StateDir,
		ToolsDir:      c.ToolsDir,
		Address:       filepath.Join(ctrd, "containerd.sock"),
		TTRPCAddress:  filepath.Join(ctrd, "containerd.sock.ttrpc"),
		Namespace:     Namespace,
		Containerd:    filepath.Join(bin, "containerd"),
		Shim:          filepath.Join(bin, "containerd-shim-runc-v2"),
		Runsc:         filepath.Join(bin, "runsc"),
		Wrapper:       filepath.Join(c.StateDir, "bin", "runsc-wrapper"),
		RunscRoot:     filepath.Join(c.StateDir, "runsc-root"),
		RunscFlagsDir: filepath.Join(c.StateDir, "runsc-flags"),
		FIFODir:       filepath.Join(c.StateDir, "fifo"),
		WorkDir:       filepath.Join(c.StateDir, "work"),
		ConfigFile:    filepath.Join(ctrd, "config.toml"),
		LogFile:       filepath.Join(ctrd, "containerd.log"),
		PIDFile:       filepath.Join(ctrd, "containerd.pid"),
		Platform:      Platform,
		RunscVersion:  RunscPin,
	}
	if s := filepath.Join(c.StateDir, "s"); len(s) <= maxShimSocketDir {
		e.ShimSocketDir = s
	}
	// The ttrpc socket is the longest; containerd would fail later with a
	// less helpful message.
	if len(e.TTRPCAddress) > maxSocketPath {
		return c, nil, fmt.Errorf("setup: state dir %s is too long: socket path %s exceeds %d bytes", c.StateDir, e.TTRPCAddress, maxSocketPath)
	}
	return c, e, nil
}

// Load returns the Env of a runtime that Ensure has set up, without
// installing, starting or contacting anything. It fails with ErrNotSetUp
// when the tools were never stamped or the wrapper is missing.
func Load(cfg Config) (*Env, error) {
	_, env, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	st, err := readStamps(stampPath(env.ToolsDir))
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	c, ok1 := st.Tools["containerd"]
	s, ok2 := st.Tools["containerd-shim-runc-v2"]
	r, ok3 := st.Tools["runsc"]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("setup: no tool stamps in %s: %w", stampPath(env.ToolsDir), ErrNotSetUp)
	}
	if _, err := os.Stat(env.Wrapper); err != nil {
		return nil, fmt.Errorf("setup: %w: %w", ErrNotSetUp, err)
	}
	env.Containerd, env.Shim, env.Runsc = c.Path, s.Path, r.Path
	env.ContainerdVersion, env.RunscVersion = c.Version, r.Version
	if !shimSocketDirSupported(c.Version) {
		env.ShimSocketDir = ""
	}
	return env, nil
}
