package guard

import "testing"

func TestIsGVisor(t *testing.T) {
	tests := []struct {
		release, version string
		want             bool
	}{
		{"4.19.0-gvisor", "#1 SMP Sun Jan 10 15:06:54 PST 2016", true},
		{"4.4.0", "#1 SMP Sun Jan 10 15:06:54 PST 2016", true},
		{"6.18.44-fc-v657", "#1 SMP PREEMPT_DYNAMIC @0", false},
		{"4.4.0", "#1 SMP Debian 4.4.0-1 (2016-01-10)", false},
		{"4.19.0-gvisor", "#1 SMP PREEMPT_DYNAMIC", false},
		{"6.1.0-gvisor-lookalike", "#1 SMP Sun Jan 10 15:06:54 PST 2016", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := isGVisor(tt.release, tt.version); got != tt.want {
			t.Errorf("isGVisor(%q, %q) = %v, want %v", tt.release, tt.version, got, tt.want)
		}
	}
}

// The tests run on the host, never in gVisor: the guard must say so.
func TestHostIsNotGVisor(t *testing.T) {
	if InGVisor() {
		t.Fatal("InGVisor() is true on the test host")
	}
}
