// Command benign-batch imitates a batch job: it reads its input, computes
// (primes and a checksum), writes the result to /var/tmp/result.txt and
// exits 0.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

func main() {
	guard.Require("benign-batch")
	host, err := os.ReadFile("/etc/hostname")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benign-batch:", err)
		os.Exit(1)
	}
	const n = 2_000_000
	composite := make([]bool, n)
	primes := 0
	h := sha256.New()
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		primes++
		fmt.Fprint(h, i)
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	out := fmt.Sprintf("host=%s primes_below=%d count=%d sha256=%x\n", host[:len(host)-1], n, primes, h.Sum(nil))
	if err := os.WriteFile("/var/tmp/result.txt", []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benign-batch:", err)
		os.Exit(1)
	}
	fmt.Print("benign-batch: wrote /var/tmp/result.txt: ", out)
}
