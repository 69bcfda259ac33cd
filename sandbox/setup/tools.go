package setup

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"
)

// tool is a binary built with `go install pkg@version`.
type tool struct {
	Name    string // file name in ToolsDir/bin
	Package string
	Version string // module version, pinned
	Tags    string
	NoCgo   bool
}

var (
	containerdTool = tool{
		Name:    "containerd",
		Package: "github.com/containerd/containerd/v2/cmd/containerd",
		Version: ContainerdPin,
		Tags:    "urfave_cli_no_docs",
	}
	shimTool = tool{
		Name:    "containerd-shim-runc-v2",
		Package: "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
		Version: ContainerdPin,
		NoCgo:   true,
	}
	runscTool = tool{
		Name:    "runsc",
		Package: "gvisor.dev/gvisor/runsc",
		Version: RunscPin,
		NoCgo:   true,
	}
)

// Where Debian's containerd package puts its binaries (the fallback).
const (
	debianContainerd = "/usr/bin/containerd"
	debianShim       = "/usr/bin/containerd-shim-runc-v2"
)

// Sources of a stamped binary.
const (
	sourceGo      = "go"      // built here by go install
	sourceAdopted = "adopted" // found in place, its build info matched
	sourceApt     = "apt"     // Debian's, after the build failed
)

// stamp records what a binary is, so that the next Ensure can trust it
// without running anything. Size and ModTime notice a replaced file.
type stamp struct {
	Wanted  string    `json:"wanted"`  // the pin that led to this binary
	Version string    `json:"version"` // what the binary is
	Source  string    `json:"source"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
}

type stampFile struct {
	Tools map[string]stamp `json:"tools"`
}

func stampPath(toolsDir string) string { return filepath.Join(toolsDir, "versions.json") }

// readStamps reads the stamp file; a missing one is empty.
func readStamps(path string) (stampFile, error) {
	st := stampFile{Tools: map[string]stamp{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// A damaged stamp file costs a rebuild or re-adoption, not a failure.
		return stampFile{Tools: map[string]stamp{}}, nil
	}
	if st.Tools == nil {
		st.Tools = map[string]stamp{}
	}
	return st, nil
}

func writeStamps(path string, st stampFile) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	_, err = writeIfChanged(path, append(b, '\n'), 0o644)
	return err
}

func newStamp(t tool, version, source, path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, fmt.Errorf("setup: %w", err)
	}
	return stamp{Wanted: t.Version, Version: version, Source: source, Path: path, Size: fi.Size(), ModTime: fi.ModTime().UTC()}, nil
}

// unchanged says whether the stamped file is still the one stamped.
func (s stamp) unchanged() bool {
	fi, err := os.Stat(s.Path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 &&
		fi.Size() == s.Size && fi.ModTime().Equal(s.ModTime)
}

// builtAs reads the Go build info embedded in a binary and says whether it
// is t at t's version: that identifies a runsc, which cannot print its own
// version when built by go install, and lets Ensure adopt binaries copied
// in by hand.
func builtAs(path string, t tool) bool {
	bi, err := buildinfo.ReadFile(path)
	if err != nil || bi.Path != t.Package || bi.Main.Version != t.Version {
		return false
	}
	if t.NoCgo {
		return slices.ContainsFunc(bi.Settings, func(s debug.BuildSetting) bool {
			return s.Key == "CGO_ENABLED" && s.Value == "0"
		})
	}
	return true
}

// current returns t's stamp when the binary in place is t at its pinned
// version: stamped and untouched (no I/O beyond a stat), or unstamped but
// identified by its build info (then adopted).
func (s *installer) current(ctx context.Context, st stampFile, t tool) (stamp, bool) {
	if old, ok := st.Tools[t.Name]; ok && old.Wanted == t.Version {
		if old.unchanged() {
			return old, true
		}
		if old.Source == sourceApt {
			// Debian upgraded it; still the fallback, only the version moved.
			if v, err := s.containerdBinaryVersion(ctx, old.Path); err == nil {
				if ns, err := newStamp(t, v, sourceApt, old.Path); err == nil {
					return ns, true
				}
			}
			return stamp{}, false
		}
	}
	path := filepath.Join(s.env.ToolsDir, "bin", t.Name)
	if builtAs(path, t) {
		if ns, err := newStamp(t, t.Version, sourceAdopted, path); err == nil {
			s.log.Info("adopting binary already in place", "tool", t.Name, "version", t.Version, "path", path)
			return ns, true
		}
	}
	return stamp{}, false
}

// goBinary finds the go command.
func (s *installer) goBinary() string {
	if s.cfg.Go != "" {
		return s.cfg.Go
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// goInstall builds the tools into a scratch GOBIN beside bin and moves each
// binary into place only once built and checked, so an interrupted build
// never leaves a half-written binary, and a running daemon keeps its inode.
func (s *installer) goInstall(ctx context.Context, tools []tool) (map[string]stamp, error) {
	bin := filepath.Join(s.env.ToolsDir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	scratch, err := os.MkdirTemp(s.env.ToolsDir, ".build-")
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	defer os.RemoveAll(scratch)
	out := map[string]stamp{}
	for _, t := range tools {
		args := []string{"install"}
		if t.Tags != "" {
			args = append(args, "-tags", t.Tags)
		}
		args = append(args, t.Package+"@"+t.Version)
		env := []string{"GOBIN=" + scratch, "GOWORK=off"}
		if t.NoCgo {
			env = append(env, "CGO_ENABLED=0")
		}
		s.log.Info("building tool (about a minute with a warm module cache)", "tool", t.Name, "version", t.Version)
		start := time.Now()
		if _, err := s.command(ctx, env, s.goBinary(), args...); err != nil {
			return nil, fmt.Errorf("setup: build %s: %w", t.Name, err)
		}
		built := filepath.Join(scratch, t.Name)
		if !builtAs(built, t) {
			return nil, fmt.Errorf("setup: build %s: the binary's build info does not say %s@%s", t.Name, t.Package, t.Version)
		}
		dst := filepath.Join(bin, t.Name)
		if err := os.Rename(built, dst); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		st, err := newStamp(t, t.Version, sourceGo, dst)
		if err != nil {
			return nil, err
		}
		out[t.Name] = st
		s.log.Info("built tool", "tool", t.Name, "version", t.Version, "took", time.Since(start).Round(time.Second))
	}
	return out, nil
}

// containerdBinaryVersion runs `containerd --version`.
func (s *installer) containerdBinaryVersion(ctx context.Context, path string) (string, error) {
	out, err := s.command(ctx, nil, path, "--version")
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	v, err := parseContainerdVersion(string(out))
	if err != nil {
		return "", fmt.Errorf("setup: %s: %w", path, err)
	}
	return v, nil
}

// ensureTools brings containerd, its runc shim and runsc to their pins.
// containerd and the shim go together: if either fails to build, both come
// from Debian, as a 1.6 daemon with a 2.4 shim is a pairing nobody tested.
func (s *installer) ensureTools(ctx context.Context) (stampFile, error) {
	unlock, err := lockFile(ctx, filepath.Join(s.env.ToolsDir, ".lock"), s.log)
	if err != nil {
		return stampFile{}, err
	}
	defer unlock()
	path := stampPath(s.env.ToolsDir)
	st, err := readStamps(path)
	if err != nil {
		return st, fmt.Errorf("setup: %w", err)
	}
	next := stampFile{Tools: map[string]stamp{}}
	var need []tool
	for _, t := range []tool{containerdTool, shimTool} {
		if cur, ok := s.current(ctx, st, t); ok {
			next.Tools[t.Name] = cur
		} else {
			need = append(need, t)
		}
	}
	// A half-fallback (one tool from Debian, one built) is redone whole.
	if c, sh := next.Tools[containerdTool.Name], next.Tools[shimTool.Name]; len(need) == 1 && (c.Source == sourceApt || sh.Source == sourceApt) {
		need = []tool{containerdTool, shimTool}
	}
	if len(need) > 0 {
		built, err := s.goInstall(ctx, need)
		if err != nil {
			if ctx.Err() != nil {
				return st, err
			}
			s.log.Warn("building containerd failed; falling back to Debian's containerd", "err", err)
			built, err = s.debianContainerd(ctx)
			if err != nil {
				return st, err
			}
		}
		for k, v := range built {
			next.Tools[k] = v
		}
	}
	if cur, ok := s.current(ctx, st, runscTool); ok {
		next.Tools[runscTool.Name] = cur
	} else {
		built, err := s.goInstall(ctx, []tool{runscTool})
		if err != nil {
			return st, err
		}
		next.Tools[runscTool.Name] = built[runscTool.Name]
	}
	// The containerd stamp's version is the binary's; go-built ones are the
	// module version and need no run of the binary.
	if err := writeStamps(path, next); err != nil {
		return next, err
	}
	return next, nil
}

// debianContainerd installs Debian's containerd (1.6 on bookworm) and
// stamps it and its shim as the fallback for the current pin.
func (s *installer) debianContainerd(ctx context.Context) (map[string]stamp, error) {
	if err := s.ensurePackages(ctx, []string{"containerd"}); err != nil {
		return nil, err
	}
	v, err := s.containerdBinaryVersion(ctx, debianContainerd)
	if err != nil {
		return nil, err
	}
	c, err := newStamp(containerdTool, v, sourceApt, debianContainerd)
	if err != nil {
		return nil, err
	}
	sh, err := newStamp(shimTool, v, sourceApt, debianShim)
	if err != nil {
		return nil, err
	}
	return map[string]stamp{containerdTool.Name: c, shimTool.Name: sh}, nil
}
