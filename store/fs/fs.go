package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sandscan/sandscan/store"
)

// tempPrefix starts temporary files' names; keys never start a segment
// with a dot, so List never mistakes one for an object.
const tempPrefix = ".tmp-"

// Store is a store.Store in a directory.
type Store struct {
	root string
}

var _ store.Store = (*Store)(nil)

// Open returns the store rooted at dir, creating dir if needed.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("fs: %w", err)
	}
	return &Store{root: abs}, nil
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	if size < -1 {
		return fmt.Errorf("%w: size %d", store.ErrInvalid, size)
	}
	path := s.path(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s: a parent is an object: %v", store.ErrInvalid, key, err)
		}
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("%w: put %s: read %d bytes, expected %d", store.ErrInvalid, key, n, size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("%w: %s: other objects live under it: %v", store.ErrInvalid, key, err)
		}
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	committed = true
	// The rename is durable only once the directory is.
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return nil, store.Info{}, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, store.Info{}, s.mapErr(key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, store.Info{}, s.mapErr(key, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, store.Info{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return f, info(key, st), nil
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return store.Info{}, err
	}
	st, err := os.Stat(s.path(key))
	if err != nil {
		return store.Info{}, s.mapErr(key, err)
	}
	if !st.Mode().IsRegular() {
		return store.Info{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return info(key, st), nil
}

func info(key string, st fs.FileInfo) store.Info {
	return store.Info{Key: key, Size: st.Size(), Modified: st.ModTime().UTC()}
}

// mapErr turns a missing file, or a parent that is a file, into ErrNotFound.
func (s *Store) mapErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return fmt.Errorf("fs: %s: %w", key, err)
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// Delete implements store.Store; it also removes the directories the
// object leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	path := s.path(key)
	if st, err := os.Lstat(path); err == nil && st.IsDir() {
		return nil // a "directory" of other keys is no object
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return fmt.Errorf("fs: delete %s: %w", key, err)
	}
	for dir := filepath.Dir(path); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or in use): stop
			break
		}
	}
	return nil
}

// List implements store.Store. It walks only the directories that can
// hold matching keys, in the order of the keys they hold: a directory's
// entries sorted with "/" after directory names, as they appear in keys.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]store.Info, error) {
	if err := store.ValidListArgs(prefix, after, limit); err != nil {
		return nil, err
	}
	base := prefix[:strings.LastIndex(prefix, "/")+1] // "" or "a/b/"
	var out []store.Info
	err := s.walk(ctx, base, prefix, after, limit, &out)
	if errors.Is(err, errFull) {
		err = nil
	}
	return out, err
}

var errFull = errors.New("page full")

func (s *Store) walk(ctx context.Context, dirKey, prefix, after string, limit int, out *[]store.Info) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(s.path(dirKey))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return fmt.Errorf("fs: list %s: %w", dirKey, err)
	}
	type entry struct {
		key string // with a trailing "/" for a directory
		de  fs.DirEntry
	}
	var es []entry
	for _, de := range entries {
		if strings.HasPrefix(de.Name(), ".") {
			continue // temporary files
		}
		k := dirKey + de.Name()
		if de.IsDir() {
			k += "/"
		}
		es = append(es, entry{k, de})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range es {
		if e.de.IsDir() {
			if !strings.HasPrefix(e.key, prefix) && !strings.HasPrefix(prefix, e.key) {
				continue
			}
			if e.key < after && !strings.HasPrefix(after, e.key) {
				continue // every key in it sorts before the cursor
			}
			if err := s.walk(ctx, e.key, prefix, after, limit, out); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(e.key, prefix) || e.key <= after || !e.de.Type().IsRegular() {
			continue
		}
		fi, err := e.de.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		*out = append(*out, info(e.key, fi))
		if len(*out) == limit {
			return errFull
		}
	}
	return nil
}
