package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// command runs one external program through cfg.Exec and returns its
// combined output; the error carries the output's tail.
func (s *installer) command(ctx context.Context, extraEnv []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if len(extraEnv) > 0 {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := s.cfg.Exec(cmd); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(out.Bytes(), 2000))
	}
	return out.Bytes(), nil
}

// tail returns the last n bytes of b, trimmed, as text.
func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}

// missingPackages asks dpkg which of pkgs are not installed. dpkg-query
// exits 1 when it knows nothing of a name, so its status is not an error
// here: what counts is the "ii" lines it printed.
func (s *installer) missingPackages(ctx context.Context, pkgs []string) ([]string, error) {
	args := append([]string{"-W", "-f=${db:Status-Abbrev}|${Package}\n"}, pkgs...)
	out, err := s.command(ctx, nil, "dpkg-query", args...)
	var exit *exec.ExitError
	if err != nil && (ctx.Err() != nil || !errors.As(err, &exit)) {
		return nil, fmt.Errorf("setup: %w (Sandscan needs Debian or Ubuntu)", err)
	}
	return notInstalled(out, pkgs), nil
}

// notInstalled reads dpkg-query output of "status|name" lines and returns
// the names of pkgs without an "ii" (installed) status. Multi-arch names
// print as "name:arch".
func notInstalled(out []byte, pkgs []string) []string {
	ok := map[string]bool{}
	for line := range strings.SplitSeq(string(out), "\n") {
		status, name, found := strings.Cut(line, "|")
		if !found || !strings.HasPrefix(status, "ii") {
			continue
		}
		name, _, _ = strings.Cut(strings.TrimSpace(name), ":")
		ok[name] = true
	}
	var missing []string
	for _, p := range pkgs {
		base, _, _ := strings.Cut(p, ":")
		if !ok[base] {
			missing = append(missing, p)
		}
	}
	return missing
}

// ensurePackages installs those of pkgs that are missing. A fresh machine
// may have no package lists yet: a failed install is retried once after
// apt-get update.
func (s *installer) ensurePackages(ctx context.Context, pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	missing, err := s.missingPackages(ctx, pkgs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	s.log.Info("installing Debian packages", "packages", missing)
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	// Another apt run (another engineer, another setup) holds dpkg's lock
	// for a while; wait for it rather than fail.
	install := append([]string{"-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends"}, missing...)
	if _, err := s.command(ctx, env, "apt-get", install...); err != nil {
		s.log.Info("apt-get install failed; updating package lists and retrying", "err", err)
		if _, uerr := s.command(ctx, env, "apt-get", "-o", "DPkg::Lock::Timeout=300", "update"); uerr != nil {
			return fmt.Errorf("setup: %w", uerr)
		}
		if _, err := s.command(ctx, env, "apt-get", install...); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	if still, err := s.missingPackages(ctx, missing); err != nil {
		return err
	} else if len(still) > 0 {
		return fmt.Errorf("setup: packages still missing after apt-get install: %v", still)
	}
	return nil
}
