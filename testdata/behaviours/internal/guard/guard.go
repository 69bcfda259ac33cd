// Package guard keeps the behaviour programs harmless: they imitate
// malware, so each one calls Require first and does nothing at all unless
// it runs inside a gVisor sandbox.
package guard

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// gvisorVersion is the uname version string gVisor has reported since its
// first release (pkg/sentry/kernel/version); no real kernel build carries
// it together with gVisor's release strings.
const gvisorVersion = "#1 SMP Sun Jan 10 15:06:54 PST 2016"

// isGVisor tells gVisor's uname from a real kernel's. Releases: "4.4.0"
// up to 2025, "4.19.0-gvisor" since. Both fields must match, so a host
// that merely looks old is still refused.
func isGVisor(release, version string) bool {
	return version == gvisorVersion && (release == "4.4.0" || strings.HasSuffix(release, "-gvisor"))
}

// InGVisor reports whether this process runs on gVisor's kernel.
func InGVisor() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return isGVisor(unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:]))
}

// Require exits with status 0 and a message unless the program runs
// inside gVisor. Every behaviour program calls it before anything else.
func Require(program string) {
	if InGVisor() {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: a sandscan behaviour simulation; not inside gVisor, so doing nothing\n", program)
	os.Exit(0)
}
