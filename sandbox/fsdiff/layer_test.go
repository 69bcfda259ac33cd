package fsdiff

import (
	"os"
	"path/filepath"
	"testing"
)

// Both ways of opening a directory refuse a symlink at any component and
// a path out of the layer.
func TestOpenDirRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	build(t, root, dirn("a/b", 0o755), link("a/up", ".."), link("esc", outside), link("a/b/self", "."))
	l, err := openLayer(root)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	open := map[string]func(string) (int, error){"openat2": l.openDirFD, "walk": l.openDirWalk}
	for how, f := range open {
		for _, tt := range []struct {
			rel string
			ok  bool
		}{
			{"", true}, {"a", true}, {"a/b", true},
			{"esc", false}, {"a/up", false}, {"a/up/a", false}, {"a/b/self", false}, {"a/b/self/self", false},
			{"..", false}, {"a/../..", false}, {"missing", false},
		} {
			fd, err := f(tt.rel)
			if err == nil {
				os.NewFile(uintptr(fd), "").Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("%s %q: err = %v, want ok=%v", how, tt.rel, err, tt.ok)
			}
		}
	}
}

func TestOpenFileRefusesReplacedAndSpecial(t *testing.T) {
	root := t.TempDir()
	build(t, root, file("f", "data", 0o644), file("g", "other", 0o644), node{path: "p", kind: 'p'}, link("s", "f"))
	l, err := openLayer(root)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	d, err := l.openDir("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	stf, _ := d.lstat("f")
	if f, err := d.openFile("f", &stf); err != nil {
		t.Errorf("f: %v", err)
	} else {
		f.Close()
	}
	for _, name := range []string{"g", "p", "s"} {
		// The listed inode is f's; what is at name now is not.
		if f, err := d.openFile(name, &stf); err == nil {
			f.Close()
			t.Errorf("%s opened as f", name)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "p")); err != nil {
		t.Fatal(err)
	}
}
