package setup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseContainerdVersion picks the version out of `containerd --version`,
// which prints "containerd <module or distributor> <version> <revision>":
//
//	containerd github.com/containerd/containerd/v2 2.4.2+unknown
//	containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1
//	containerd containerd.io v1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da
func parseContainerdVersion(out string) (string, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "containerd" {
		return "", fmt.Errorf("unexpected containerd --version output %q", truncate(line, 100))
	}
	if _, ok := versionCore(f[2]); !ok {
		return "", fmt.Errorf("no version in containerd --version output %q", truncate(line, 100))
	}
	return f[2], nil
}

// semver is a version's numeric core.
type semver struct{ Major, Minor, Patch int }

func (v semver) atLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// versionCore reads "v2.4.2", "2.4.2+unknown", "1.6.20~ds1" or
// "2.0.0-rc.1" as its major.minor.patch; the rest does not matter for
// choosing a config format or telling two builds of one release apart.
func versionCore(s string) (semver, bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "+~-"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return semver{}, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p == "" || p[0] == '+' {
			return semver{}, false
		}
		n[i] = v
	}
	return semver{n[0], n[1], n[2]}, true
}

// sameRelease says whether two version strings name the same release.
func sameRelease(a, b string) bool {
	va, ok1 := versionCore(a)
	vb, ok2 := versionCore(b)
	return ok1 && ok2 && va == vb
}

// configVersion is the config format a containerd release reads: 2.x
// takes version 3 (and migrates it), 1.x version 2.
func configVersion(containerdVersion string) (int, error) {
	v, ok := versionCore(containerdVersion)
	if !ok {
		return 0, fmt.Errorf("cannot read containerd version %q", containerdVersion)
	}
	switch {
	case v.Major >= 2:
		return 3, nil
	case v.Major == 1 && v.Minor >= 5:
		return 2, nil
	}
	return 0, errors.New("containerd " + containerdVersion + " is too old (need 1.5 or later)")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
