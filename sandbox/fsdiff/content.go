package fsdiff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/trace"
)

// fileID names an inode, so hard links are hashed once.
type fileID struct{ dev, ino uint64 }

type hashed struct {
	sum  string
	head []byte
}

var errFileChanged = errors.New("file changed while read")

// source is where a changed regular file can be read again.
type source struct {
	l     *layer
	rel   string // its directory below the layer's root
	name  string
	st    unix.Stat_t
	class class
}

// class orders the files worth keeping: what can run comes first.
type class int

const (
	classELF class = iota
	classScript
	classExec
	classOther
)

const sniffLen = 4

func classify(head []byte, mode uint32) class {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return classELF
	case bytes.HasPrefix(head, []byte("#!")):
		return classScript
	case mode&0o111 != 0:
		return classExec
	}
	return classOther
}

func fileType(st *unix.Stat_t) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return trace.TypeFile
	case unix.S_IFDIR:
		return trace.TypeDir
	case unix.S_IFLNK:
		return trace.TypeSymlink
	}
	return trace.TypeOther
}

// meta fills what a FileChange takes from the inode alone. Size is the
// length of a regular file or of a symlink's target, 0 for other types.
func meta(d *dir, name string, st *unix.Stat_t, cpath string) (trace.FileChange, error) {
	fc := trace.FileChange{
		Path: cpath,
		Type: fileType(st),
		Mode: st.Mode & 0o7777,
		UID:  st.Uid,
		GID:  st.Gid,
	}
	var err error
	switch fc.Type {
	case trace.TypeFile:
		fc.Size = st.Size
	case trace.TypeSymlink:
		fc.Size = st.Size
		fc.Link, err = d.readlink(name)
	}
	return fc, err
}

// describe reads an entry of upper or scratch: its metadata and, for a
// regular file, its hash and where to read it again.
func (w *walker) describe(l *layer, d *dir, name string, st *unix.Stat_t, cpath string) (trace.FileChange, *source) {
	fc, err := meta(d, name, st, cpath)
	if err != nil {
		w.errorf("%s: %v", cpath, err)
	}
	if fc.Type != trace.TypeFile {
		return fc, nil
	}
	src := &source{l: l, rel: d.rel, name: name, st: *st, class: classify(nil, st.Mode)}
	sum, head, err := w.hash(d, name, st)
	if err != nil {
		w.errorf("%s: %v", cpath, err)
	}
	fc.SHA256 = sum
	src.class = classify(head, st.Mode)
	return fc, src
}

// describeLower reports an entry the run deleted from the image.
func (w *walker) describeLower(le *lowerEntry, cpath string) trace.FileChange {
	fc, err := meta(le.d, le.name, &le.st, cpath)
	if err != nil {
		w.errorf("%s: %v", cpath, err)
	}
	fc.Op = trace.FileDeleted
	return fc
}

// hash returns the file's SHA256 (empty past the hash limits) and its
// first bytes, which say whether it is an ELF binary or a script.
func (w *walker) hash(d *dir, name string, st *unix.Stat_t) (sum string, head []byte, err error) {
	id := fileID{st.Dev, st.Ino}
	if h, ok := w.hashes[id]; ok {
		return h.sum, h.head, nil
	}
	f, err := d.openFile(name, st)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	if st.Size > w.lim.HashMax || w.hashed+st.Size > w.lim.HashTotal {
		if st.Size <= w.lim.HashMax {
			w.note("hash", "hash limit %d bytes in total reached: later files have no sha256", w.lim.HashTotal)
		}
		var b [sniffLen]byte
		n, err := io.ReadFull(f, b[:])
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		return "", b[:n], err
	}
	h := sha256.New()
	// One byte past the size tells a file that grew while read.
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	n, err := io.CopyBuffer(h, &sniffer{r: io.LimitReader(f, st.Size+1), head: &head}, w.buf)
	w.hashed += n
	if err != nil {
		return "", head, err
	}
	if n != st.Size {
		return "", head, errFileChanged
	}
	sum = hex.EncodeToString(h.Sum(nil))
	w.hashes[id] = hashed{sum, head}
	return sum, head, nil
}

// sniffer keeps the first bytes that pass through it.
type sniffer struct {
	r    io.Reader
	head *[]byte
}

func (s *sniffer) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if k := sniffLen - len(*s.head); k > 0 {
		*s.head = append(*s.head, p[:min(k, n)]...)
	}
	return n, err
}
