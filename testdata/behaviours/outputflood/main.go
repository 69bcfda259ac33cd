// Command outputflood imitates a workload that floods its logs (a noisy
// miner, a log-spam denial of service): it writes to stdout without end.
package main

import (
	"bufio"
	"os"
	"strconv"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

func main() {
	guard.Require("outputflood")
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	line := []byte("outputflood: the quick brown fox jumps over the lazy dog ")
	for i := 0; ; i++ {
		w.Write(line)
		w.WriteString(strconv.Itoa(i))
		if err := w.WriteByte('\n'); err != nil {
			return // stdout closed: nobody is listening any more
		}
	}
}
