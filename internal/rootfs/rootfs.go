package rootfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
)

// Suite is the Debian release every root filesystem is made of.
const Suite = "bookworm"

// recipe changes whenever the way a tree is built changes, so cached trees
// of the old recipe are not reused.
const recipe = "2"

// DefaultMirror is where debootstrap fetches packages unless
// SANDSCAN_DEBIAN_MIRROR says otherwise.
const DefaultMirror = "http://deb.debian.org/debian"

// ErrBadPackage is returned for a package name Debian would not accept.
var ErrBadPackage = errors.New("rootfs: bad package name")

// Debian policy: lower case letters, digits, + - . and at least two chars.
var pkgName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// Key names the tree of a package set: the same set in any order gives the
// same key.
func Key(packages []string) (string, []string, error) {
	pkgs := slices.Clone(packages)
	for _, p := range pkgs {
		if !pkgName.MatchString(p) {
			return "", nil, fmt.Errorf("%w: %q", ErrBadPackage, p)
		}
	}
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	h := sha256.Sum256([]byte(recipe + "\n" + Suite + "\n" + strings.Join(pkgs, "\n")))
	return Suite + "-" + hex.EncodeToString(h[:6]), pkgs, nil
}

// Debian returns a root filesystem directory holding debootstrap's
// minbase of bookworm plus packages (and their dependencies), building it
// under cacheDir when no finished tree of that package set is there.
// Concurrent callers for the same set wait for one build.
func Debian(ctx context.Context, cacheDir string, packages []string, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.Default()
	}
	key, pkgs, err := Key(packages)
	if err != nil {
		return "", err
	}
	final := filepath.Join(cacheDir, key)
	root := filepath.Join(final, "rootfs")
	if done(final) {
		return root, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	unlock, err := lock(filepath.Join(cacheDir, key+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if done(final) { // another process built it while we waited
		return root, nil
	}
	if err := ensureDebootstrap(ctx, log); err != nil {
		return "", err
	}
	tmp := final + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	log.Info("building Debian root filesystem (takes minutes the first time)", "key", key, "packages", len(pkgs))
	if err := debootstrap(ctx, filepath.Join(tmp, "rootfs"), pkgs); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := trim(filepath.Join(tmp, "rootfs")); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "packages"), []byte(strings.Join(pkgs, "\n")+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(final, "complete"), nil, 0o644); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	log.Info("root filesystem ready", "dir", root)
	return root, nil
}

func done(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "complete"))
	return err == nil
}

func mirror() string {
	if m := strings.TrimSpace(os.Getenv("SANDSCAN_DEBIAN_MIRROR")); m != "" {
		return m
	}
	return DefaultMirror
}

func debootstrap(ctx context.Context, dir string, pkgs []string) error {
	args := []string{"--variant=minbase"}
	if len(pkgs) > 0 {
		args = append(args, "--include="+strings.Join(pkgs, ","))
	}
	args = append(args, Suite, dir, mirror())
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("rootfs: debootstrap %s: %w\n%s", strings.Join(args, " "), err, tail)
	}
	return nil
}

// trim drops what only the build needed: downloaded packages and lists,
// the build host's resolver config (the sandbox mounts its own).
func trim(root string) error {
	for _, glob := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_Packages", "var/log/*.log"} {
		ms, _ := filepath.Glob(filepath.Join(root, glob))
		for _, m := range ms {
			if err := os.Remove(m); err != nil {
				return fmt.Errorf("rootfs: trim: %w", err)
			}
		}
	}
	os.Remove(filepath.Join(root, "etc/resolv.conf"))
	return nil
}

func ensureDebootstrap(ctx context.Context, log *slog.Logger) error {
	if _, err := exec.LookPath("debootstrap"); err == nil {
		return nil
	}
	log.Info("installing debootstrap")
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "debootstrap")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		upd := exec.CommandContext(ctx, "apt-get", "update")
		if uo, uerr := upd.CombinedOutput(); uerr != nil {
			return fmt.Errorf("rootfs: apt-get update: %w: %s", uerr, uo)
		}
		cmd = exec.CommandContext(ctx, "apt-get", "install", "-y", "debootstrap")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err = cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("rootfs: install debootstrap: %w: %s", err, out)
		}
	}
	return nil
}

// lock takes an exclusive flock on path, released by the returned func.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("rootfs: lock: %w", err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
