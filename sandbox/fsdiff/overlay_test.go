package fsdiff

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiffRealOverlay changes files through a real overlay mount and diffs
// its upper directory, which proves the diff reads the whiteouts and opaque
// markers this kernel writes.
func TestDiffRealOverlay(t *testing.T) {
	root := t.TempDir()
	l0, l1 := filepath.Join(root, "l0"), filepath.Join(root, "l1")
	upper, work, merged := filepath.Join(root, "upper"), filepath.Join(root, "work"), filepath.Join(root, "merged")
	build(t, l1, file("etc/passwd", "root:x:0:0\n", 0o644), file("bin/busybox", "bb", 0o755),
		file("var/log/old.log", "log", 0o640), file("opt/app/a", "a", 0o644), file("opt/app/sub/b", "b", 0o644),
		link("bin/sh", "busybox"))
	build(t, l0, file("etc/motd", "hi", 0o644), file("usr/bin/su", "su", 0o755))
	for _, d := range []string{upper, work, merged} {
		build(t, d, dirn(".", 0o755))
	}
	opts := "lowerdir=" + l0 + ":" + l1 + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	mounted := true
	unmount := func() {
		if mounted {
			mounted = false
			if err := unix.Unmount(merged, 0); err != nil {
				t.Errorf("unmount: %v", err)
			}
		}
	}
	defer unmount()

	m := func(p string) string { return filepath.Join(merged, p) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(m("etc/passwd"), []byte("root:x:0:0\nevil:x:0:0\n"), 0o644)) // modified
	must(os.Remove(m("etc/motd")))                                                 // whiteout
	must(os.RemoveAll(m("var/log")))                                               // dir whiteout
	must(os.RemoveAll(m("opt/app")))                                               // then recreated: opaque
	must(os.MkdirAll(m("opt/app/sub"), 0o755))
	must(os.WriteFile(m("opt/app/new"), []byte("n"), 0o644))
	must(unix.Chmod(m("usr/bin/su"), 0o4755))                           // metadata-only copy-up
	must(os.Remove(m("bin/sh")))                                        // symlink deleted
	must(os.Symlink("/proc/self/exe", m("bin/sh")))                     // and replaced
	must(os.MkdirAll(m("etc/cron.d"), 0o755))                           // created in a copied-up dir
	must(os.WriteFile(m("etc/cron.d/x"), []byte("#!/bin/sh\n"), 0o755)) // created
	must(unix.Mkfifo(m("etc/fifo"), 0o600))
	unmount()

	r, err := Diff(context.Background(), upper, []string{l0, l1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"modified symlink /bin/sh 777",
		"created dir /etc/cron.d 755",
		"created file /etc/cron.d/x 755",
		"created other /etc/fifo 600",
		"deleted file /etc/motd 644",
		"modified file /etc/passwd 644",
		"deleted file /opt/app/a 644",
		"created file /opt/app/new 644",
		"deleted file /opt/app/sub/b 644",
		"modified file /usr/bin/su 4755",
		"deleted dir /var/log 755",
	}
	if got := summary(r.Changes); !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q\nerrors %q", got, want, r.Errors)
	}
	if c := find(r.Changes, "/bin/sh"); c == nil || c.Link != "/proc/self/exe" {
		t.Errorf("/bin/sh = %+v", c)
	}
	if c := find(r.Changes, "/etc/cron.d/x"); c == nil || c.Artifact == "" || r.Artifacts[0].Path != "/etc/cron.d/x" {
		t.Errorf("script not the first artifact: %+v", r.Artifacts)
	}
	if r.Truncated || len(r.Errors) > 0 {
		t.Errorf("truncated %v errors %q", r.Truncated, r.Errors)
	}
	// What the kernel wrote, so a change of form shows up here first.
	var st unix.Stat_t
	must(unix.Lstat(filepath.Join(upper, "etc/motd"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout form: mode %o rdev %d", st.Mode, st.Rdev)
	}
	if v, ok := (&dir{fd: mustOpen(t, filepath.Join(upper, "opt/app"))}).ownXattr("trusted.overlay.opaque"); !ok || v != "y" {
		t.Errorf("opaque marker = %q, %v", v, ok)
	}
}

func mustOpen(t *testing.T, p string) int {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}
