package imagebuild

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// entry is one tar member of a layer. Its header is fixed when the layer is
// planned; a regular file's bytes come from data or, for directory layers,
// from the host file src, read again each time the layer is streamed.
type entry struct {
	hdr  tar.Header
	data []byte
	src  string
}

// newLayer wraps planned entries as a gzip-compressed OCI layer. The
// tar stream is produced on demand, so a large root filesystem is never
// held in memory; a layer whose content is in memory anyway (cache) keeps
// its compressed bytes too, which saves compressing it a second time.
func newLayer(entries []entry, cache bool) (v1.Layer, error) {
	opener := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, entries)) }()
		return pr, nil
	}
	opts := []tarball.LayerOption{tarball.WithMediaType(types.OCILayer)}
	if cache {
		opts = append(opts, tarball.WithCompressedCaching)
	}
	l, err := tarball.LayerFromOpener(opener, opts...)
	if err != nil {
		return nil, fmt.Errorf("compute layer digests: %w", err)
	}
	return l, nil
}

func writeTar(w io.Writer, entries []entry) error {
	tw := tar.NewWriter(w)
	for i := range entries {
		e := &entries[i]
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			return fmt.Errorf("tar header %s: %w", hdr.Name, err)
		}
		switch {
		case e.data != nil:
			if _, err := tw.Write(e.data); err != nil {
				return fmt.Errorf("tar data %s: %w", hdr.Name, err)
			}
		case e.src != "":
			if err := copyExactly(tw, e.src, hdr.Size); err != nil {
				return fmt.Errorf("tar data %s: %w", hdr.Name, err)
			}
		}
	}
	return tw.Close()
}

// copyExactly copies a host file that must still have the size it had when
// the layer was planned: a file that changed since would give a layer whose
// digest no longer matches the manifest.
func copyExactly(w io.Writer, src string, size int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyN(w, f, size); err != nil {
		return fmt.Errorf("%s changed during the build: %w", src, err)
	}
	if n, _ := f.Read(make([]byte, 1)); n != 0 {
		return fmt.Errorf("%s grew during the build", src)
	}
	return nil
}

// planFiles validates the Files of a spec and turns them into sorted tar
// entries, adding any missing parent directories as root-owned 0755.
func planFiles(files []File, mtime time.Time) ([]entry, error) {
	byName := make(map[string]entry, len(files))
	for _, f := range files {
		name, err := cleanPath(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("file %s listed twice", f.Path)
		}
		e, err := fileEntry(f, name, mtime)
		if err != nil {
			return nil, err
		}
		byName[name] = e
	}
	for name := range byName {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if e, ok := byName[dir]; ok {
				if e.hdr.Typeflag != tar.TypeDir {
					return nil, fmt.Errorf("%s is inside %s, which is not a directory", name, dir)
				}
				continue
			}
			byName[dir] = entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: mtime}}
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	// Plain byte order puts every directory before what it holds.
	sort.Strings(names)
	out := make([]entry, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out, nil
}

func fileEntry(f File, name string, mtime time.Time) (entry, error) {
	hdr := tar.Header{Name: name, Uid: f.UID, Gid: f.GID, ModTime: mtime, Mode: tarMode(f.Mode)}
	hasData := f.Content != nil || f.Source != ""
	switch {
	case f.Dir && (f.Link != "" || hasData), f.Link != "" && hasData:
		return entry{}, fmt.Errorf("file %s: set only one of Dir, Link, or content", f.Path)
	case f.Dir:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		if f.Mode.Perm() == 0 {
			hdr.Mode |= 0o755
		}
		return entry{hdr: hdr}, nil
	case f.Link != "":
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Link
		hdr.Mode = 0o777
		return entry{hdr: hdr}, nil
	}
	data := f.Content
	if data == nil && f.Source != "" {
		b, err := os.ReadFile(f.Source)
		if err != nil {
			return entry{}, fmt.Errorf("file %s: %w", f.Path, err)
		}
		data = b
	}
	if data == nil {
		data = []byte{}
	}
	hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
	if f.Mode.Perm() == 0 {
		hdr.Mode |= 0o644
	}
	return entry{hdr: hdr, data: data}, nil
}

// planDir lists a host root filesystem as tar entries in WalkDir's lexical
// order. Symlinks stay symlinks (never followed, so nothing outside root
// is read), hard links within root become tar hard links, sockets are left
// out because tar cannot hold them.
func planDir(ctx context.Context, root string, mtime time.Time) ([]entry, error) {
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("rootfs %s: %w", root, err)
	}
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	var out []entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat data", p)
		}
		hdr := tar.Header{Name: name, Mode: tarMode(info.Mode()), Uid: int(st.Uid), Gid: int(st.Gid), ModTime: mtime}
		e := entry{}
		switch m := info.Mode(); {
		case m.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		case m.IsRegular():
			key := inode{uint64(st.Dev), st.Ino}
			if first, ok := seen[key]; ok && st.Nlink > 1 {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				break
			}
			seen[key] = name
			hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
			e.src = p
		case m&fs.ModeCharDevice != 0:
			hdr.Typeflag = tar.TypeChar
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case m&fs.ModeDevice != 0:
			hdr.Typeflag = tar.TypeBlock
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case m&fs.ModeNamedPipe != 0:
			hdr.Typeflag = tar.TypeFifo
		default:
			return nil
		}
		e.hdr = hdr
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rootfs %s: %w", root, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rootfs %s: %w", root, errEmptyDir)
	}
	return out, nil
}

var errEmptyDir = errors.New("directory is empty")
