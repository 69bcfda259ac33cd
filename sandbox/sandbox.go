package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/sandscan/sandscan/sandbox/setup"
	"github.com/sandscan/sandscan/sandbox/sink"
)

// Runtime says where the project's containerd and runsc live. setup.Env
// provides it.
type Runtime struct {
	// Address is containerd's gRPC socket; Namespace the containerd
	// namespace Sandscan keeps its images and containers in.
	Address   string
	Namespace string
	// Wrapper is the executable the runc shim runs in place of runc: it
	// runs runsc with the sandbox's global flags. RunscRoot is runsc's
	// state root, FlagsDir where per-container runsc flags are left for
	// the wrapper.
	Wrapper   string
	RunscRoot string
	FlagsDir  string
	// FIFODir holds the containers' stdio FIFOs; WorkDir per-run files
	// (scratch mounts, trace config, the sink's socket).
	FIFODir string
	WorkDir string

	ContainerdVersion string
	RunscVersion      string
	Platform          string
}

// RuntimeOf describes the runtime setup.Ensure left.
func RuntimeOf(env *setup.Env) Runtime {
	return Runtime{
		Address:           env.Address,
		Namespace:         env.Namespace,
		Wrapper:           env.Wrapper,
		RunscRoot:         env.RunscRoot,
		FlagsDir:          env.RunscFlagsDir,
		FIFODir:           env.FIFODir,
		WorkDir:           env.WorkDir,
		ContainerdVersion: env.ContainerdVersion,
		RunscVersion:      env.RunscVersion,
		Platform:          env.Platform,
	}
}

// Limits bound one run.
type Limits struct {
	Timeout     time.Duration
	MemoryBytes int64
	Pids        int64
	CPUs        float64
	// OutputBytes caps what is kept of stdout and of stderr each.
	OutputBytes int64
}

// DefaultLimits are what a run gets unless told otherwise.
var DefaultLimits = Limits{
	Timeout:     30 * time.Second,
	MemoryBytes: 512 << 20,
	Pids:        512,
	CPUs:        1,
	OutputBytes: 1 << 20,
}

// Sandbox runs images. It is safe for concurrent use: each Run is its own
// container and its own gVisor sandbox.
type Sandbox struct {
	rt     Runtime
	client *containerd.Client
	sink   *sink.Sink
	log    *slog.Logger
}

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Sandbox) { s.log = l } }

// New connects to containerd and starts the trace sink.
func New(ctx context.Context, rt Runtime, opts ...Option) (*Sandbox, error) {
	if rt.Namespace == "" {
		rt.Namespace = "sandscan"
	}
	if rt.Platform == "" {
		rt.Platform = "systrap"
	}
	s := &Sandbox{rt: rt, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	for _, d := range []string{rt.FlagsDir, rt.FIFODir, rt.WorkDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	client, err := containerd.New(rt.Address, containerd.WithDefaultNamespace(rt.Namespace), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("sandbox: connect to containerd at %s: %w", rt.Address, err)
	}
	// One sink per process serves all its sandboxes: runsc tags every
	// message with the container id.
	sockPath := filepath.Join(rt.WorkDir, fmt.Sprintf("sink-%d.sock", os.Getpid()))
	sk, err := sink.Listen(ctx, sockPath)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("sandbox: start trace sink: %w", err)
	}
	s.client, s.sink = client, sk
	if ids, err := s.Reap(ctx); err != nil {
		s.log.Warn("could not remove containers of dead runs", "err", err)
	} else if len(ids) > 0 {
		s.log.Info("removed containers of dead runs", "ids", ids)
	}
	return s, nil
}

// Close stops the sink and disconnects from containerd.
func (s *Sandbox) Close() error {
	return errors.Join(s.sink.Close(), s.client.Close())
}

// Client exposes the containerd client for tests and set-up checks.
func (s *Sandbox) Client() *containerd.Client { return s.client }

// Runtime returns the runtime the sandbox was made with.
func (s *Sandbox) Runtime() Runtime { return s.rt }

func (s *Sandbox) withNamespace(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, s.rt.Namespace)
}
