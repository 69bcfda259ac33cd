package sinkhole

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Leftovers lists the run ids that have namespaces in dir (""
// for DefaultNetNSDir): runs still going, and runs whose process died
// before Close. The caller tells them apart.
func Leftovers(dir string) ([]string, error) {
	if dir == "" {
		dir = DefaultNetNSDir
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sinkhole: leftovers: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		for _, p := range []string{sandboxNSPrefix, sinkNSPrefix} {
			if id, ok := strings.CutPrefix(name, p); ok && validRunID(id) == nil {
				seen[id] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// Reap removes what the runs with these ids left in dir ("" for
// DefaultNetNSDir) when their process died before Close: the veth and
// both namespaces. Ids without leftovers are fine. It must not be called
// for a run that is still going.
func Reap(dir string, ids ...string) error {
	if dir == "" {
		dir = DefaultNetNSDir
	}
	var errs []error
	for _, id := range ids {
		if err := validRunID(id); err != nil {
			errs = append(errs, err)
			continue
		}
		sink := sinkNSPath(dir, id)
		// Deleting the veth first frees it even if a stray runsc still
		// holds the sandbox namespace. A file that is not a mounted
		// namespace (a crash between create and mount) has none.
		if _, err := os.Stat(sink); err == nil {
			if err := deleteVeth(sink); err != nil && !errors.Is(err, unix.EINVAL) {
				errs = append(errs, fmt.Errorf("reap %s: %w", id, err))
			}
		}
		for _, p := range []string{sandboxNSPath(dir, id), sink} {
			if err := deleteNetNS(p); err != nil {
				errs = append(errs, fmt.Errorf("reap %s: %w", id, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sinkhole: %w", err)
	}
	return nil
}
