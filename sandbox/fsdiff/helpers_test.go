package fsdiff

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/trace"
)

// node is one entry of a test tree. The kind is the first byte of spec:
// "f" file (data), "d" dir, "l" symlink (data is the target), "w" char 0/0
// whiteout, "p" fifo, "o" opaque dir, "x" dir marked opaque "x", "W"
// zero-size file with the whiteout xattr.
type node struct {
	path string
	kind byte
	mode os.FileMode
	data string
	uid  int
}

func file(p, data string, mode os.FileMode) node {
	return node{path: p, kind: 'f', mode: mode, data: data}
}
func dirn(p string, mode os.FileMode) node { return node{path: p, kind: 'd', mode: mode} }
func link(p, target string) node           { return node{path: p, kind: 'l', data: target} }
func whiteout(p string) node               { return node{path: p, kind: 'w'} }

// build makes a tree under root. Parents not listed are made 0755.
func build(t testing.TB, root string, nodes ...node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, n.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch n.kind {
		case 'f':
			err = os.WriteFile(p, []byte(n.data), 0o600)
		case 'd', 'o', 'x':
			err = os.Mkdir(p, 0o755)
			if os.IsExist(err) {
				err = nil
			}
			if err == nil && n.kind != 'd' {
				v := map[byte]string{'o': "y", 'x': "x"}[n.kind]
				err = unix.Setxattr(p, "trusted.overlay.opaque", []byte(v), 0)
			}
		case 'l':
			err = os.Symlink(n.data, p)
		case 'w':
			err = unix.Mknod(p, unix.S_IFCHR, 0)
		case 'p':
			err = unix.Mkfifo(p, 0o644)
		case 'W':
			err = os.WriteFile(p, nil, 0o600)
			if err == nil {
				err = unix.Setxattr(p, "trusted.overlay.whiteout", []byte(""), 0)
			}
		default:
			t.Fatalf("bad node kind %q", n.kind)
		}
		if err != nil {
			t.Fatal(err)
		}
		if n.mode != 0 && n.kind != 'l' {
			// os.Chmod takes Go's mode bits; setuid/setgid/sticky need
			// the syscall's encoding.
			if err := unix.Chmod(p, uint32(n.mode)); err != nil {
				t.Fatal(err)
			}
		}
		if n.uid != 0 {
			if err := os.Lchown(p, n.uid, n.uid); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// summary renders changes as "op type path mode" lines, the form the
// table tests compare.
func summary(cs []trace.FileChange) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s %s %o", c.Op, c.Type, c.Path, c.Mode))
	}
	return out
}

func find(cs []trace.FileChange, p string) *trace.FileChange {
	for i := range cs {
		if cs[i].Path == p {
			return &cs[i]
		}
	}
	return nil
}

// snapshot records every inode's metadata under root (times included), to
// prove the diff wrote nothing.
func snapshot(t testing.TB, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		atime := st.Atim
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			// Reading a symlink's target sets its atime (relatime), and
			// no flag avoids that: not a write of the diff's.
			atime = unix.Timespec{}
		}
		fmt.Fprintf(&b, "%s %o %d %d %d %v %v %v\n", p, st.Mode, st.Uid, st.Size, st.Nlink, atime, st.Mtim, st.Ctim)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func osLink(oldname, newname string) error { return os.Link(oldname, newname) }
