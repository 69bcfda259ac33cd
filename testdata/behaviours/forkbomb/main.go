// Command forkbomb imitates a fork bomb (the shell's :(){ :|:& };:): every
// copy starts further copies of itself without end, until the sandbox's
// pids limit or time limit stops it.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

func main() {
	guard.Require("forkbomb")
	if len(os.Args) < 2 {
		fmt.Println("forkbomb: starting")
	}
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	for {
		if _, err := syscall.ForkExec("/proc/self/exe", []string{"forkbomb", "child"}, attr); err != nil {
			// Out of pids or memory: keep pushing, as the real thing does.
			time.Sleep(10 * time.Millisecond)
		}
	}
}
