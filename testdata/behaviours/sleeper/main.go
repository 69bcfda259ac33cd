// Command sleeper imitates a long-running service that does nothing
// visible (or malware that lies low, waiting out a sandbox): it sleeps in a
// loop forever, so only the sandbox's time limit ends it.
package main

import (
	"fmt"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

func main() {
	guard.Require("sleeper")
	fmt.Println("sleeper: sleeping")
	for i := 1; ; i++ {
		time.Sleep(time.Second)
		if i%10 == 0 {
			fmt.Printf("sleeper: still here after %d s\n", i)
		}
	}
}
