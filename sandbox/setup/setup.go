package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// installer carries one Ensure or Stop call's settings.
type installer struct {
	cfg Config
	env *Env
	log *slog.Logger
}

func newInstaller(cfg Config) (*installer, error) {
	cfg, env, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return &installer{cfg: cfg, env: env, log: cfg.Logger.With("component", "setup")}, nil
}

// ErrNotRoot is returned by Ensure when not run as root: containerd, runsc
// and apt-get all need it.
var ErrNotRoot = errors.New("setup: sandscan setup must run as root")

// Ensure installs what is missing (Debian packages, containerd and its runc
// shim, runsc), writes the runsc wrapper and containerd's config, and
// starts the project's containerd unless one already answers on its socket.
// It is idempotent: with everything in place it runs no build and no
// apt-get, only a dpkg-query and a version call. Concurrent calls, from
// several processes too, serialise on lock files.
func Ensure(ctx context.Context, cfg Config) (*Env, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	s, err := newInstaller(cfg)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	env := s.env
	if err := s.ensurePackages(ctx, s.cfg.Packages); err != nil {
		return nil, err
	}
	st, err := s.ensureTools(ctx)
	if err != nil {
		return nil, err
	}
	c, sh, r := st.Tools[containerdTool.Name], st.Tools[shimTool.Name], st.Tools[runscTool.Name]
	env.Containerd, env.Shim, env.Runsc = c.Path, sh.Path, r.Path
	env.RunscVersion = r.Version
	if !shimSocketDirSupported(c.Version) {
		env.ShimSocketDir = ""
	}

	unlock, err := lockFile(ctx, filepath.Join(env.StateDir, "setup.lock"), s.log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.makeDirs(); err != nil {
		return nil, err
	}
	if _, err := writeIfChanged(env.Wrapper, []byte(wrapperScript(env.Runsc, env.RunscFlagsDir)), 0o755); err != nil {
		return nil, err
	}
	conf, err := containerdConfig(env, c.Version)
	if err != nil {
		return nil, err
	}
	changed, err := writeIfChanged(env.ConfigFile, conf, 0o644)
	if err != nil {
		return nil, err
	}
	if env.ContainerdVersion, err = s.ensureDaemon(ctx, changed, c.Version); err != nil {
		return nil, err
	}
	s.log.Info("runtime ready", "state", env.StateDir, "containerd", env.ContainerdVersion,
		"runsc", env.RunscVersion, "took", time.Since(start).Round(time.Millisecond))
	return env, nil
}

func (s *installer) makeDirs() error {
	e := s.env
	dirs := []struct {
		path string
		perm os.FileMode
	}{
		{e.StateDir, 0o755},
		{filepath.Dir(e.Wrapper), 0o755},
		{filepath.Dir(e.Address), 0o711},
		{e.RunscRoot, 0o700},
		{e.RunscFlagsDir, 0o700},
		{e.FIFODir, 0o700},
		{e.WorkDir, 0o711},
	}
	if e.ShimSocketDir != "" {
		dirs = append(dirs, struct {
			path string
			perm os.FileMode
		}{e.ShimSocketDir, 0o700})
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	return nil
}

// Stop stops the project's containerd if it runs: SIGTERM, then SIGKILL
// after ten seconds. Containers keep running in their shims, and the next
// Ensure starts a daemon that finds them again.
func Stop(ctx context.Context, cfg Config) error {
	s, err := newInstaller(cfg)
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.env.StateDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lockFile(ctx, filepath.Join(s.env.StateDir, "setup.lock"), s.log)
	if err != nil {
		return err
	}
	defer unlock()
	return s.stopDaemon(ctx)
}
