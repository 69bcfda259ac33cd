package fsdiff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/trace"
)

// Result is the filesystem diff of one run.
type Result struct {
	// Changes are sorted by container path (byte order); paths start
	// with "/".
	Changes []trace.FileChange
	// Artifacts are copies of created or modified regular files, ELF
	// binaries, scripts and executables first.
	Artifacts []trace.Artifact
	// Truncated says that a limit (entries, depth, path length) left
	// some changes out of Changes.
	Truncated bool
	// Errors lists what could not be read and what limits cut short.
	Errors []string
}

// ErrInvalid is wrapped by the errors of a Diff called with arguments it
// cannot use (a relative or duplicate scratch prefix).
var ErrInvalid = errors.New("fsdiff: invalid argument")

// Diff compares the overlayfs upper directory with its lower directories
// (ordered top-most first, as overlay's lowerdir option lists them) and
// returns what the run created, modified and deleted, as seen from inside
// the container.
//
// An entry of upper that the lowers also hold is modified (overlay copies
// a file up when its content or metadata changes); one they do not hold is
// created. A whiteout deletes the entry the lowers hold there, reported
// with the lowers' type and metadata; an opaque directory deletes every
// lower entry below it that upper does not hold. A deleted directory is
// reported once, not with its subtree. A directory that is in upper only
// because a child was copied up (same mode, owner and group as in the
// lowers) is not reported.
//
// Diff never writes to the trees it reads. Problems with single entries
// (and a scratch directory that cannot be opened) go to Result.Errors, and
// limits set Result.Truncated. Diff fails only when upper or a lower cannot
// be opened, or with the context's error (and what it has read so
// far) when ctx ends.
func Diff(ctx context.Context, upper string, lowers []string, opts ...Option) (Result, error) {
	cfg := config{limits: DefaultLimits()}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.limits = cfg.limits.withDefaults()
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	seen := map[string]bool{}
	for _, s := range cfg.scratch {
		if !path.IsAbs(s.prefix) || path.Clean(s.prefix) != s.prefix || s.prefix == "/" {
			return Result{}, fmt.Errorf("%w: scratch prefix %q is not a clean absolute path below /", ErrInvalid, s.prefix)
		}
		if seen[s.prefix] {
			return Result{}, fmt.Errorf("%w: scratch prefix %q given twice", ErrInvalid, s.prefix)
		}
		seen[s.prefix] = true
	}

	w := &walker{ctx: ctx, lim: cfg.limits, hashes: map[fileID]hashed{}}
	defer w.closeLayers()
	up, err := openLayer(upper)
	if err != nil {
		return Result{}, fmt.Errorf("fsdiff: upper: %w", err)
	}
	w.layers = append(w.layers, up)
	all := make([]int, len(lowers))
	for i, p := range lowers {
		l, err := openLayer(p)
		if err != nil {
			return Result{}, fmt.Errorf("fsdiff: lower %d: %w", i, err)
		}
		w.lowers = append(w.lowers, l)
		all[i] = i
	}
	werr := w.walk(up, frame{cpath: "/", before: all, overlay: true})
	for _, s := range cfg.scratch {
		if werr != nil {
			break
		}
		// A scratch directory that cannot be read loses only its own
		// part of the diff.
		l, err := openLayer(s.dir)
		if err != nil {
			w.errorf("scratch %s: %v", s.prefix, err)
			continue
		}
		w.layers = append(w.layers, l)
		werr = w.walk(l, frame{cpath: s.prefix})
	}
	w.sortItems()
	if werr == nil {
		w.collectArtifacts()
	}
	res := w.result()
	if res.Truncated {
		cfg.log.WarnContext(ctx, "fsdiff: diff truncated", "upper", upper, "entries", w.entries, "errors", len(res.Errors))
	}
	cfg.log.DebugContext(ctx, "fsdiff: diff done", "upper", upper, "changes", len(res.Changes),
		"artifacts", len(res.Artifacts), "entries", w.entries)
	if werr != nil {
		return res, fmt.Errorf("fsdiff: %w", werr)
	}
	return res, nil
}

// frame is one directory to visit.
type frame struct {
	rel   string // path below the layer's root, "" for the root
	cpath string // path in the container
	depth int
	// before lists the lowers (indexes) whose directory at rel makes up
	// the image's view of this directory, top-most first.
	before []int
	// hidden says that the lowers do not show through here after the run
	// (an opaque directory at or above), so what they hold and upper does
	// not was deleted.
	hidden bool
	// overlay says to read whiteouts and opaque markers (not in scratch).
	overlay bool
}

// item is one change and where its content can be read again.
type item struct {
	fc  trace.FileChange
	src *source // regular files created or modified, else nil
}

type walker struct {
	ctx    context.Context
	lim    Limits
	layers []*layer // upper and scratch
	lowers []*layer

	items     []item
	entries   int
	hashed    int64
	hashes    map[fileID]hashed
	buf       []byte // shared by the hashing of every file
	truncated bool
	stopped   bool
	errs      []string
	moreErrs  int
	noted     map[string]bool
	arts      []trace.Artifact
}

func (w *walker) closeLayers() {
	for _, l := range w.layers {
		l.close()
	}
	for _, l := range w.lowers {
		l.close()
	}
}

func (w *walker) errorf(format string, args ...any) {
	if len(w.errs) >= w.lim.MaxErrors {
		w.moreErrs++
		return
	}
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

// limit records that a limit cut the walk, once per kind of limit.
func (w *walker) limit(kind, format string, args ...any) {
	w.truncated = true
	w.note(kind, format, args...)
}

// note records a problem once per kind.
func (w *walker) note(kind, format string, args ...any) {
	if w.noted == nil {
		w.noted = map[string]bool{}
	}
	if w.noted[kind] {
		return
	}
	w.noted[kind] = true
	w.errorf(format, args...)
}

// take counts one entry against the limit; false means stop reading.
func (w *walker) take() bool {
	if w.stopped {
		return false
	}
	if w.entries%1024 == 0 && w.ctx.Err() != nil {
		w.stopped = true
		w.truncated = true
		return false
	}
	if w.entries >= w.lim.MaxEntries {
		w.stopped = true
		w.limit("entries", "entry limit %d reached: the rest of the tree was not read", w.lim.MaxEntries)
		return false
	}
	w.entries++
	return true
}

// walk visits a directory and, depth first, every directory below it.
func (w *walker) walk(l *layer, f frame) error {
	subs := w.visit(l, f)
	for _, s := range subs {
		if w.stopped {
			break
		}
		if err := w.walk(l, s); err != nil {
			return err
		}
	}
	if w.stopped {
		return w.ctx.Err()
	}
	return nil
}

// visit reads one directory of l against the lowers and returns the
// directories to visit below it. It closes what it opened before
// returning, so the walk holds no descriptors across levels.
func (w *walker) visit(l *layer, f frame) []frame {
	ud, err := l.openDir(f.rel)
	if err != nil {
		w.errorf("%s: %v", f.cpath, err)
		return nil
	}
	defer ud.close()
	hidden, xw := f.hidden, false
	if f.overlay {
		var opaque bool
		opaque, xw = ud.opacity()
		hidden = hidden || opaque
	}
	names, more, err := ud.names(w.lim.MaxEntries - w.entries)
	if err != nil {
		w.errorf("%s: read directory: %v", f.cpath, err)
	}
	if more {
		w.limit("entries", "entry limit %d reached: the rest of the tree was not read", w.lim.MaxEntries)
	}
	slices.Sort(names)
	lds := w.openLowers(f)
	defer closeLowers(lds)

	var subs []frame
	var kept map[string]bool // names upper holds in a hidden directory
	if hidden {
		kept = map[string]bool{}
	}
	for _, name := range names {
		if !w.take() {
			break
		}
		st, err := ud.lstat(name)
		if err != nil {
			w.errorf("%s: %v", join(f.cpath, name), err)
			continue
		}
		cpath := join(f.cpath, name)
		if len(cpath) > w.lim.MaxPathLen {
			w.limit("path", "path length limit %d reached below %s", w.lim.MaxPathLen, f.cpath)
			continue
		}
		if f.overlay && ud.isWhiteout(name, &st, xw) {
			if !hidden {
				if le := w.lookupBefore(lds, name); le != nil {
					w.items = append(w.items, item{fc: w.describeLower(le, cpath)})
				}
			}
			continue
		}
		if hidden {
			kept[name] = true
		}
		le := w.lookupBefore(lds, name)
		fc, src := w.describe(l, ud, name, &st, cpath)
		switch {
		case le == nil:
			fc.Op = trace.FileCreated
		case isDir(&st) && isDir(&le.st) && sameMeta(&st, &le.st):
			// Copied up only to hold a changed child.
		default:
			fc.Op = trace.FileModified
		}
		if fc.Op != "" {
			w.items = append(w.items, item{fc: fc, src: src})
		}
		if !isDir(&st) {
			continue
		}
		if f.depth+1 > w.lim.MaxDepth {
			w.limit("depth", "depth limit %d reached at %s", w.lim.MaxDepth, cpath)
			continue
		}
		sub := frame{rel: join(f.rel, name), cpath: cpath, depth: f.depth + 1, hidden: hidden, overlay: f.overlay}
		if le != nil && isDir(&le.st) {
			sub.before = le.dirs
		}
		subs = append(subs, sub)
	}
	if hidden && len(lds) > 0 && !w.stopped {
		w.deletedBelow(lds, kept, f.cpath)
	}
	return subs
}

// lowerDir is the directory of one lower at the visited path.
type lowerDir struct {
	*dir
	idx int
	xw  bool // holds whiteouts in the xattr form
}

// openLowers opens the visited directory in each lower of f.before. An
// opaque lower directory hides the lowers below it.
func (w *walker) openLowers(f frame) []lowerDir {
	var lds []lowerDir
	for _, i := range f.before {
		d, err := w.lowers[i].openDir(f.rel)
		if err != nil {
			w.errorf("%s: lower %d: %v", f.cpath, i, err)
			continue
		}
		opaque, xw := d.opacity()
		lds = append(lds, lowerDir{dir: d, idx: i, xw: xw})
		if opaque {
			break
		}
	}
	return lds
}

func closeLowers(lds []lowerDir) {
	for _, ld := range lds {
		ld.close()
	}
}

// lowerEntry is what the image held at a name.
type lowerEntry struct {
	st   unix.Stat_t
	d    *dir
	name string
	// dirs lists the lowers whose directories merge at this name.
	dirs []int
}

// lookupBefore finds name in the image's view: the top-most lower that
// holds it decides, a whiteout hides it, and directories merge down to the
// first lower that holds a non-directory there.
func (w *walker) lookupBefore(lds []lowerDir, name string) *lowerEntry {
	var found *lowerEntry
	for _, ld := range lds {
		st, err := ld.lstat(name)
		if err != nil {
			if err != unix.ENOENT {
				w.errorf("lower %d: %s: %v", ld.idx, join(ld.rel, name), err)
			}
			continue
		}
		if ld.isWhiteout(name, &st, ld.xw) {
			break
		}
		if found == nil {
			found = &lowerEntry{st: st, d: ld.dir, name: name}
			if !isDir(&st) {
				break
			}
			found.dirs = []int{ld.idx}
			continue
		}
		if !isDir(&st) {
			break
		}
		found.dirs = append(found.dirs, ld.idx)
	}
	return found
}

// deletedBelow reports what the lowers hold in a hidden directory that
// upper does not.
func (w *walker) deletedBelow(lds []lowerDir, kept map[string]bool, cpath string) {
	seen := map[string]bool{}
	for _, ld := range lds {
		names, more, err := ld.names(w.lim.MaxEntries - w.entries)
		if err != nil {
			w.errorf("%s: lower %d: read directory: %v", cpath, ld.idx, err)
		}
		if more {
			w.limit("entries", "entry limit %d reached: the rest of the tree was not read", w.lim.MaxEntries)
		}
		slices.Sort(names)
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			if !w.take() {
				return
			}
			st, err := ld.lstat(name)
			if err != nil {
				w.errorf("%s: lower %d: %v", join(cpath, name), ld.idx, err)
				continue
			}
			if ld.isWhiteout(name, &st, ld.xw) || kept[name] {
				continue
			}
			p := join(cpath, name)
			if len(p) > w.lim.MaxPathLen {
				w.limit("path", "path length limit %d reached below %s", w.lim.MaxPathLen, cpath)
				continue
			}
			w.items = append(w.items, item{fc: w.describeLower(&lowerEntry{st: st, d: ld.dir, name: name}, p)})
		}
	}
}

func sameMeta(a, b *unix.Stat_t) bool {
	return a.Mode == b.Mode && a.Uid == b.Uid && a.Gid == b.Gid
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// sortItems sorts the changes by path and lets a scratch entry replace an
// upper entry of the same path.
func (w *walker) sortItems() {
	// Stable: upper's items come before scratch's, and the last one of a
	// path wins.
	slices.SortStableFunc(w.items, func(a, b item) int { return strings.Compare(a.fc.Path, b.fc.Path) })
	out := w.items[:0]
	for i, it := range w.items {
		if i+1 < len(w.items) && w.items[i+1].fc.Path == it.fc.Path {
			continue
		}
		out = append(out, it)
	}
	w.items = out
}

func (w *walker) result() Result {
	res := Result{Changes: make([]trace.FileChange, 0, len(w.items)), Artifacts: w.arts, Truncated: w.truncated}
	for _, it := range w.items {
		res.Changes = append(res.Changes, it.fc)
	}
	res.Errors = w.errs
	if w.moreErrs > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d more errors not listed", w.moreErrs))
	}
	return res
}
