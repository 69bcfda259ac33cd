package setup

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestNotInstalled(t *testing.T) {
	out := "ii |runc\nii |busybox-static\nrc |containerd\nun |skopeo\nii |libc6:amd64\n"
	tests := []struct {
		pkgs, want []string
	}{
		{[]string{"runc", "busybox-static"}, nil},
		{[]string{"runc", "containerd"}, []string{"containerd"}},
		{[]string{"skopeo", "nats-server"}, []string{"skopeo", "nats-server"}},
		{[]string{"libc6", "libc6:amd64"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := notInstalled([]byte(out), tt.pkgs); !slices.Equal(got, tt.want) {
			t.Errorf("notInstalled(%v) = %v, want %v", tt.pkgs, got, tt.want)
		}
	}
	if got := notInstalled([]byte("garbage\n|\nii\n"), []string{"runc"}); !slices.Equal(got, []string{"runc"}) {
		t.Errorf("garbage output: %v", got)
	}
}

// TestMissingPackagesDpkg asks the real dpkg about a package the project
// installs and one that does not exist.
func TestMissingPackagesDpkg(t *testing.T) {
	rec := &recorder{}
	s := &installer{cfg: Config{Exec: rec.exec}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	got, err := s.missingPackages(t.Context(), []string{"busybox-static", "sandscan-no-such-package"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"sandscan-no-such-package"}) {
		t.Errorf("missing = %v", got)
	}
	// Nothing missing: ensurePackages must not reach apt-get.
	rec.reset()
	if err := s.ensurePackages(t.Context(), []string{"busybox-static", "runc"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.ran() {
		if !strings.HasPrefix(r, "dpkg-query ") {
			t.Errorf("ran %q", r)
		}
	}
}
