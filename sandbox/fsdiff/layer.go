package fsdiff

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// layer is one directory tree read by the diff: the upper directory, a
// lower directory or a scratch directory. Every access is relative to the
// descriptor of its root, so no symlink planted in the tree can lead the
// reader out of it.
type layer struct {
	root string // host path, for messages
	fd   int
}

func openLayer(path string) (*layer, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &layer{root: path, fd: fd}, nil
}

func (l *layer) close() { unix.Close(l.fd) }

// openDir opens the directory rel ("" for the root) beneath the layer's
// root, refusing a symlink at any component.
func (l *layer) openDir(rel string) (*dir, error) {
	fd, err := l.openDirFD(rel)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: l.root + "/" + rel, Err: err}
	}
	return &dir{fd: fd, rel: rel}, nil
}

func (l *layer) openDirFD(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	how := unix.OpenHow{
		// O_NOATIME: reading the tree must not change it, atimes included.
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOATIME,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := retry(func() (int, error) { return unix.Openat2(l.fd, rel, &how) })
	if err == unix.EPERM {
		// O_NOATIME needs the owner or CAP_FOWNER.
		how.Flags &^= unix.O_NOATIME
		fd, err = retry(func() (int, error) { return unix.Openat2(l.fd, rel, &how) })
	}
	if err == unix.ENOSYS || err == unix.EPERM {
		// Kernels before 5.6 (or a seccomp filter) lack openat2: walk one
		// component at a time, each opened without following symlinks.
		return l.openDirWalk(rel)
	}
	return fd, err
}

func (l *layer) openDirWalk(rel string) (int, error) {
	fd, err := unix.Dup(l.fd)
	if err != nil {
		return -1, err
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "." || c == "" {
			continue
		}
		if c == ".." {
			unix.Close(fd)
			return -1, unix.EXDEV
		}
		next, err := retry(func() (int, error) {
			return unix.Openat(fd, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		})
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

func retry(f func() (int, error)) (int, error) {
	for {
		fd, err := f()
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// dir is an open directory of a layer.
type dir struct {
	fd  int
	rel string
}

func (d *dir) close() { unix.Close(d.fd) }

// names reads at most max names of the directory; more reports that the
// directory holds more than that.
func (d *dir) names(max int) (names []string, more bool, err error) {
	buf := make([]byte, 8<<10)
	for {
		n, err := unix.ReadDirent(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, false, err
		}
		if n <= 0 {
			return names, false, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], max-len(names)+1, names)
		if len(names) > max {
			return names[:max], true, nil
		}
	}
}

func (d *dir) lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			return st, err
		}
	}
}

func (d *dir) readlink(name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(d.fd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// openFile opens a regular file of the directory for reading. It never
// follows a symlink, never blocks on a fifo put in the file's place, and
// checks that what it opened is the inode that was listed.
func (d *dir) openFile(name string, want *unix.Stat_t) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	// O_NOATIME keeps the read from touching the layer's atimes.
	fd, err := retry(func() (int, error) { return unix.Openat(d.fd, name, flags|unix.O_NOATIME, 0) })
	if err == unix.EPERM {
		fd, err = retry(func() (int, error) { return unix.Openat(d.fd, name, flags, 0) })
	}
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != want.Ino || st.Dev != want.Dev {
		unix.Close(fd)
		return nil, errors.New("file replaced while reading")
	}
	return os.NewFile(uintptr(fd), name), nil
}

// xattr reads an extended attribute of the entry name without opening it
// (through the directory's /proc/self/fd link; l-getxattr does not follow
// the entry if it is a symlink). ok is false when the attribute is absent
// or cannot be read.
func (d *dir) xattr(name, attr string) (string, bool) {
	p := "/proc/self/fd/" + strconv.Itoa(d.fd) + "/" + name
	return getxattr(func(buf []byte) (int, error) { return unix.Lgetxattr(p, attr, buf) })
}

// ownXattr reads an extended attribute of the directory itself.
func (d *dir) ownXattr(attr string) (string, bool) {
	return getxattr(func(buf []byte) (int, error) { return unix.Fgetxattr(d.fd, attr, buf) })
}

func getxattr(get func([]byte) (int, error)) (string, bool) {
	// Overlay's markers are a few bytes; a longer value is not a marker.
	var buf [256]byte
	n, err := get(buf[:])
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func (d *dir) String() string { return fmt.Sprintf("dir(%q)", d.rel) }
