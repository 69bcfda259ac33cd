// Command membomb imitates a memory-exhaustion attack (or a runaway
// leak): it allocates memory in large blocks and touches every page so it
// is really resident, never freeing any, until the sandbox stops it.
package main

import (
	"fmt"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

const block = 32 << 20

func main() {
	guard.Require("membomb")
	var hoard [][]byte
	for {
		b := make([]byte, block)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hoard = append(hoard, b)
		fmt.Printf("membomb: %d MiB resident\n", len(hoard)*block>>20)
	}
}
