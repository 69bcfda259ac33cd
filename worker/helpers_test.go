package worker

import (
	"crypto/sha256"
	"encoding/hex"
)

// testDigest is a valid, distinct digest per seed.
func testDigest(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(h[:])
}
