package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// tarFS serves the regular files of a tar read through io.ReaderAt, found
// by one pass over its headers. It implements fs.ReadLinkFS so that the
// layout logic reads a tar and a directory alike.
type tarFS struct {
	r       io.ReaderAt
	entries map[string]*tarEntry
	links   []string // names of the symlinks, in archive order
}

type tarEntry struct {
	name string
	mode fs.FileMode // 0, fs.ModeDir or fs.ModeSymlink
	size int64
	off  int64 // where its data starts in the archive
	link string
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// indexTar reads every header of the archive and refuses what no image
// archive needs: unsafe paths, duplicates, hard links, special files, and
// sizes past the limits.
func indexTar(r io.ReaderAt, size int64, lim Limits) (*tarFS, error) {
	var head [4]byte
	if n, _ := r.ReadAt(head[:], 0); bytes.HasPrefix(head[:n], gzipMagic) || bytes.HasPrefix(head[:n], zstdMagic) {
		return nil, errorf(ErrUnsupported, "the archive is compressed: give the tar itself")
	}
	sr := io.NewSectionReader(r, 0, size)
	tr := tar.NewReader(sr)
	t := &tarFS{r: r, entries: map[string]*tarEntry{}}
	var total int64
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errorf(ErrMalformed, "not a tar archive or truncated: %v", err)
		}
		if n >= lim.MaxEntries {
			return nil, errorf(ErrTooLarge, "more than %d entries", lim.MaxEntries)
		}
		name, err := cleanName(hdr.Name, lim.MaxNameLen)
		if err != nil {
			return nil, err
		}
		e := &tarEntry{name: name}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old tars still use TypeRegA
			off, _ := sr.Seek(0, io.SeekCurrent)
			if hdr.Size < 0 || off+hdr.Size > size {
				return nil, errorf(ErrMalformed, "entry %q: size %d runs past the end of the archive", hdr.Name, hdr.Size)
			}
			e.size, e.off = hdr.Size, off
			total += hdr.Size
			if total > lim.MaxSize {
				return nil, errorf(ErrTooLarge, "entries hold more than %d bytes", lim.MaxSize)
			}
		case tar.TypeDir:
			e.mode = fs.ModeDir
		case tar.TypeSymlink:
			e.mode, e.link = fs.ModeSymlink, hdr.Linkname
			t.links = append(t.links, name)
		case tar.TypeLink:
			return nil, errorf(ErrUnsafe, "entry %q is a hard link", hdr.Name)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, errorf(ErrUnsafe, "entry %q is a device or fifo", hdr.Name)
		default:
			return nil, errorf(ErrUnsupported, "entry %q has tar type %q", hdr.Name, hdr.Typeflag)
		}
		if err := t.add(e); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// cleanName refuses a name that is empty, absolute, climbs with "..", or
// holds a NUL, and returns it cleaned ("./a//b" is "a/b").
func cleanName(name string, max int) (string, error) {
	switch {
	case len(name) > max:
		return "", errorf(ErrTooLarge, "entry name of %d bytes", len(name))
	case name == "" || strings.ContainsRune(name, 0):
		return "", errorf(ErrMalformed, "entry name %q", name)
	case strings.HasPrefix(name, "/"):
		return "", errorf(ErrUnsafe, "entry %q has an absolute path", name)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", errorf(ErrUnsafe, "entry %q climbs out with ..", name)
		}
	}
	return path.Clean(name), nil
}

// add records an entry and the directories its path implies. A directory
// may be listed twice; anything else only once.
func (t *tarFS) add(e *tarEntry) error {
	if e.name == "." {
		if e.mode != fs.ModeDir {
			return errorf(ErrMalformed, "entry %q names the archive's root", e.name)
		}
		return nil
	}
	if old, ok := t.entries[e.name]; ok {
		if old.mode == fs.ModeDir && e.mode == fs.ModeDir {
			return nil
		}
		return errorf(ErrMalformed, "entry %q appears twice", e.name)
	}
	t.entries[e.name] = e
	for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
		old, ok := t.entries[d]
		if !ok {
			t.entries[d] = &tarEntry{name: d, mode: fs.ModeDir}
			continue
		}
		if old.mode != fs.ModeDir {
			return errorf(ErrMalformed, "entry %q is below %q, which is not a directory", e.name, d)
		}
	}
	return nil
}

func (t *tarFS) lookup(op, name string) (*tarEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &tarEntry{name: ".", mode: fs.ModeDir}, nil
	}
	e, ok := t.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

// Open opens a regular file. It does not follow symlinks: the layout
// logic resolves the few it accepts itself.
func (t *tarFS) Open(name string) (fs.File, error) {
	e, err := t.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if e.mode != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	return &tarFile{e: e, r: io.NewSectionReader(t.r, e.off, e.size)}, nil
}

func (t *tarFS) Lstat(name string) (fs.FileInfo, error) {
	e, err := t.lookup("lstat", name)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (t *tarFS) ReadLink(name string) (string, error) {
	e, err := t.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if e.mode != fs.ModeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.link, nil
}

var _ fs.ReadLinkFS = (*tarFS)(nil)

// tarEntry is its own fs.FileInfo.
func (e *tarEntry) Name() string       { return path.Base(e.name) }
func (e *tarEntry) Size() int64        { return e.size }
func (e *tarEntry) Mode() fs.FileMode  { return e.mode | 0o444 }
func (e *tarEntry) ModTime() time.Time { return time.Time{} }
func (e *tarEntry) IsDir() bool        { return e.mode == fs.ModeDir }
func (e *tarEntry) Sys() any           { return nil }

type tarFile struct {
	e *tarEntry
	r *io.SectionReader
}

func (f *tarFile) Stat() (fs.FileInfo, error) { return f.e, nil }
func (f *tarFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *tarFile) Close() error               { return nil }
