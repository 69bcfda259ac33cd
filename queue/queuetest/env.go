package queuetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/sandscan/sandscan/queue"
)

// Env is one backend instance under test, empty when made.
type Env interface {
	// Open returns a queue on the env's durable state; the suite closes it.
	Open(t testing.TB) queue.Queue
	// Restart stops what keeps the state (a server) and starts it again
	// on the same data; queues the suite opened are closed first.
	Restart(t testing.TB)
	// ChildArg tells a child process (see ChildMain) how to open this
	// same queue with the same config.
	ChildArg() string
}

// NewEnv makes an empty Env whose queues use cfg.
type NewEnv func(t *testing.T, cfg queue.Config) Env

// Digest returns a valid, distinct digest for each seed.
func Digest(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(h[:])
}

// NewJob returns a valid detonation job for seed's digest.
func NewJob(seed string) queue.Job {
	return queue.Job{
		Digest:          Digest(seed),
		Image:           fmt.Sprintf("registry.test/%s:latest", seed),
		Reason:          queue.ReasonAPI,
		Mode:            queue.ModeDetonate,
		AnalyzerVersion: "test-1",
		Payload:         []byte(`{"seed":"` + seed + `"}`),
	}
}
