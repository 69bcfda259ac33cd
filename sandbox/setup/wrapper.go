package setup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// wrapperScript is the program the runc shim runs in place of runc. It
// puts runsc's global flags before the arguments it was given: first the
// defaults, then the lines of the flags file of the container named by an
// argument (the last such argument: the id ends most runc command lines).
// runsc reads flags with Go's flag package, where the last occurrence wins,
// so a flags file overrides a default and a container without a file gets
// no network.
//
// POSIX sh has one array, "$@": the new flags are appended after the
// original arguments, which are then rotated to the end.
func wrapperScript(runsc, flagsDir string) string {
	return `#!/bin/sh
# Written by sandscan setup; rewritten when it differs. Do not edit.
# Runs runsc with sandscan's global flags, then the arguments it was given.
runsc=` + shQuote(runsc) + `
flags=` + shQuote(flagsDir) + `
id=
for a do
	case $a in
	''|-*|*/*|.|..) ;;
	*) [ -f "$flags/$a" ] && id=$a ;;
	esac
done
n=$#
set -- "$@" --platform=` + Platform + ` --overlay2=none --network=none
if [ -n "$id" ]; then
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in --?*) set -- "$@" "$line" ;; esac
	done <"$flags/$id"
fi
while [ "$n" -gt 0 ]; do
	set -- "$@" "$1"
	shift
	n=$((n - 1))
done
exec "$runsc" "$@"
`
}

// shQuote quotes s for sh: inside single quotes only ' itself needs care.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// containerIDPattern is containerd's identifier rule (pkg/identifiers).
var containerIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

const maxContainerID = 76

// WriteRunscFlags leaves flags for the wrapper to add to every runsc call
// about one container, e.g. --network=sandbox, --pod-init-config=FILE,
// --pcap-log=FILE. Each flag must start with "--" and be one line. Write it
// before creating the task; the file is replaced atomically.
func WriteRunscFlags(env *Env, containerID string, flags []string) error {
	if err := checkContainerID(containerID); err != nil {
		return err
	}
	var b strings.Builder
	for _, f := range flags {
		if !strings.HasPrefix(f, "--") || len(f) < 3 || strings.ContainsAny(f, "\n\r\x00") {
			return fmt.Errorf("setup: runsc flag %q: want one line starting with --", f)
		}
		b.WriteString(f)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(env.RunscFlagsDir, 0o700); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return writeFileAtomic(filepath.Join(env.RunscFlagsDir, containerID), []byte(b.String()), 0o600)
}

// RemoveRunscFlags deletes a container's flags file; a missing one is fine.
func RemoveRunscFlags(env *Env, containerID string) error {
	if err := checkContainerID(containerID); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(env.RunscFlagsDir, containerID))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}

func checkContainerID(id string) error {
	if len(id) > maxContainerID || !containerIDPattern.MatchString(id) {
		return fmt.Errorf("setup: invalid container id %q", id)
	}
	return nil
}

// writeFileAtomic replaces path so that readers see the old or the new
// content, never a part.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("setup: write %s: %w", path, err)
	}
	return nil
}

// writeIfChanged writes path unless it already holds data with perm, and
// says whether it wrote.
func writeIfChanged(path string, data []byte, perm os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm() == perm {
			return false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("setup: %w", err)
	}
	return true, writeFileAtomic(path, data, perm)
}
