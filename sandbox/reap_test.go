package sandbox

import (
	"os"
	"strconv"
	"testing"
)

func TestOwner(t *testing.T) {
	if selfOwner == "" || !ownerAlive(selfOwner) {
		t.Fatalf("own owner label %q not alive", selfOwner)
	}
	tests := []string{"", "x", "1", strconv.Itoa(os.Getpid()) + ":1", "999999999:5"}
	for _, o := range tests {
		if ownerAlive(o) {
			t.Errorf("ownerAlive(%q) = true", o)
		}
	}
}
