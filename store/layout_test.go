package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var digest = "sha256:" + strings.Repeat("0f", 32)

func TestLayout(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 2, 3, 4000, time.FixedZone("x", 7200))
	tests := []struct {
		name string
		fn   func() (string, error)
		want string
	}{
		{"image", func() (string, error) { return ImageKey(digest) }, "images/sha256/" + strings.Repeat("0f", 32) + ".tar"},
		{"run", func() (string, error) { return AnalysisKey("01abc", ArtifactRun) }, "analyses/01abc/run.json.gz"},
		{"sarif", func() (string, error) { return AnalysisKey("01abc", ArtifactSARIF) }, "analyses/01abc/report.sarif"},
		{"latest", func() (string, error) { return LatestVerdictKey(digest) }, "verdicts/sha256/" + strings.Repeat("0f", 32) + "/latest.json"},
		{"history", func() (string, error) { return VerdictHistoryKey(digest, at, "01abc") },
			"verdicts/sha256/" + strings.Repeat("0f", 32) + "/history/20260501T080203.000004000Z-01abc.json"},
		{"dropped", func() (string, error) { return DroppedFileKey("01abc", "/tmp/../etc/cron.d/x y") },
			"analyses/01abc/files/%2Ftmp%2F..%2Fetc%2Fcron.d%2Fx%20y"},
		{"dropped dotfile", func() (string, error) { return DroppedFileKey("01abc", ".bashrc") }, "analyses/01abc/files/%2Ebashrc"},
	}
	for _, tt := range tests {
		got, err := tt.fn()
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.name, got, err, tt.want)
			continue
		}
		if err := ValidKey(got); err != nil {
			t.Errorf("%s: layout key %q is invalid: %v", tt.name, got, err)
		}
	}
	for _, a := range Artifacts {
		if _, err := AnalysisKey("id", a); err != nil {
			t.Errorf("artifact %s: %v", a, err)
		}
	}
}

func TestLayoutRefuses(t *testing.T) {
	bad := []func() (string, error){
		func() (string, error) { return ImageKey("sha256:../../x") },
		func() (string, error) { return ImageKey("md5:" + strings.Repeat("0", 32)) },
		func() (string, error) { return AnalysisKey("../x", ArtifactReport) },
		func() (string, error) { return AnalysisKey("id", "../../report.json") },
		func() (string, error) { return AnalysisKey("", ArtifactReport) },
		func() (string, error) { return DroppedFileKey("a/b", "x") },
		func() (string, error) { return DroppedFileKey("id", "") },
		func() (string, error) { return VerdictHistoryKey(digest, time.Now(), "a.b") },
		func() (string, error) { return LatestVerdictKey(strings.ToUpper(digest)) },
	}
	for i, fn := range bad {
		if k, err := fn(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %q %v, want ErrInvalid", i, k, err)
		}
	}
}

func TestDroppedFileRoundTrip(t *testing.T) {
	paths := []string{"/tmp/x", "/var/tmp/.hidden/~a%b", "rel/../x", "/dev/shm/\x00\xff", strings.Repeat("/deep", 30)}
	for _, p := range paths {
		k, err := DroppedFileKey("id", p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		got, err := DroppedFilePath(k)
		if err != nil || got != p {
			t.Errorf("%q -> %q -> %q %v", p, k, got, err)
		}
	}
	long := "/tmp/" + strings.Repeat("é", 200)
	k, err := DroppedFileKey("id", long)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := DroppedFileKey("id", long+"x")
	if k == k2 || !strings.Contains(k, "~") {
		t.Errorf("long paths: %q and %q", k, k2)
	}
	if _, err := DroppedFilePath(k); !errors.Is(err, ErrInvalid) {
		t.Errorf("hashed key reversed: %v", err)
	}
}

// FuzzDroppedFileKey: any path the sandbox reports makes a valid key under
// the analysis, or an error; never a key elsewhere.
func FuzzDroppedFileKey(f *testing.F) {
	for _, s := range []string{"/tmp/x", "../../../etc/passwd", ".", "~", "%2F", strings.Repeat("%", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		k, err := DroppedFileKey("id", p)
		if err != nil {
			return
		}
		if ValidKey(k) != nil || !strings.HasPrefix(k, "analyses/id/files/") || strings.Count(k, "/") != 3 {
			t.Fatalf("%q -> %q", p, k)
		}
		if back, err := DroppedFilePath(k); err == nil && back != p {
			t.Fatalf("%q -> %q -> %q", p, k, back)
		}
	})
}
