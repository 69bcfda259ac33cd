package sandbox

import (
	"reflect"
	"testing"

	"github.com/containerd/containerd/v2/core/mount"
)

func TestOverlayDirs(t *testing.T) {
	tests := []struct {
		name   string
		mounts []mount.Mount
		upper  string
		lowers []string
		err    bool
	}{
		{"overlay", []mount.Mount{{Type: "overlay", Options: []string{"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l2:/l1"}}}, "/u", []string{"/l2", "/l1"}, false},
		{"bind", []mount.Mount{{Type: "bind", Source: "/s", Options: []string{"rbind", "rw"}}}, "/s", nil, false},
		{"no upper", []mount.Mount{{Type: "overlay", Options: []string{"lowerdir=/l"}}}, "", nil, true},
		{"two mounts", []mount.Mount{{Type: "bind"}, {Type: "bind"}}, "", nil, true},
		{"tmpfs", []mount.Mount{{Type: "tmpfs"}}, "", nil, true},
	}
	for _, tt := range tests {
		upper, lowers, err := overlayDirs(tt.mounts)
		if (err != nil) != tt.err || upper != tt.upper || !reflect.DeepEqual(lowers, tt.lowers) {
			t.Errorf("%s: got %q %q %v", tt.name, upper, lowers, err)
		}
	}
}
