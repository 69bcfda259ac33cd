package rootfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	a, pa, err := Key([]string{"curl", "cron", "curl"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Key([]string{"cron", "curl"})
	c, _, _ := Key([]string{"cron"})
	if a != b || a == c || !strings.HasPrefix(a, Suite+"-") {
		t.Errorf("keys %q %q %q", a, b, c)
	}
	if strings.Join(pa, ",") != "cron,curl" {
		t.Errorf("packages = %v", pa)
	}
	for _, bad := range []string{"", "Curl", "curl;rm -rf /", "-x", "a b", "x"} {
		if _, _, err := Key([]string{bad}); !errors.Is(err, ErrBadPackage) {
			t.Errorf("Key(%q) err = %v", bad, err)
		}
	}
}

// TestDebian builds a real tree with one extra package (cached under the
// state dir, so only the first run on a machine pays for debootstrap).
func TestDebian(t *testing.T) {
	state := os.Getenv("SANDSCAN_STATE_DIR")
	if state == "" {
		state = "/var/lib/sandscan"
	}
	cache := filepath.Join(state, "rootfs")
	dir, err := Debian(context.Background(), cache, []string{"netcat-openbsd"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin/bash", "usr/bin/apt-get", "bin/nc.openbsd", "etc/debian_version"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("tree lacks %s: %v", p, err)
		}
	}
	if ms, _ := filepath.Glob(filepath.Join(dir, "var/cache/apt/archives/*.deb")); len(ms) > 0 {
		t.Errorf("downloaded packages left in the tree: %d", len(ms))
	}
	again, err := Debian(context.Background(), cache, []string{"netcat-openbsd"}, nil)
	if err != nil || again != dir {
		t.Errorf("second call = %q, %v; want the cached %q", again, err, dir)
	}
}
