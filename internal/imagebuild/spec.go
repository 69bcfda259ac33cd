package imagebuild

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Spec describes an image to build. Layers stack in order: the prebuilt
// Layers, one per entry of Dirs, then one holding Files (if any), so Files
// override the directories and both override the prebuilt layers.
type Spec struct {
	// Name is a short label used in layer history and errors.
	Name string
	// Ref is the reference the archive writers name the image with
	// (e.g. "sandscan.test/miner:latest"); Build does not need it.
	Ref string
	// Layers are finished layers (a cached base image's, say) placed
	// first, as they are: sharing them with another image lets a runtime
	// store and unpack them once.
	Layers []v1.Layer
	// Dirs are host root-filesystem directories, each added as one layer.
	// Symlinks are added as symlinks, never followed; ownership and
	// permissions come from the host, timestamps do not.
	Dirs []string
	// Files are individual entries added as the top layer.
	Files []File
	// Config is the runtime part of the image config.
	Config Config
	// Created is the image's creation time and every entry's mtime.
	// The zero value means the Unix epoch, so builds stay reproducible.
	Created time.Time
	// OS and Architecture default to linux and the builder's GOARCH.
	OS, Architecture string
}

// Config is what a runtime reads from the image config to start it.
type Config struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Labels     map[string]string
}

// File is one entry of the Files layer. Exactly one of Dir, Link, or file
// content (Content, or Source read from the host) applies.
type File struct {
	// Path is the absolute path inside the image.
	Path string
	// Mode holds permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky. Zero means 0755 for directories, 0644 for files.
	Mode fs.FileMode
	// Content is a regular file's content.
	Content []byte
	// Source is a host file read at build time when Content is nil.
	Source string
	// Link, when set, makes the entry a symlink pointing at Link.
	Link string
	// Dir makes the entry a directory.
	Dir bool
	// UID and GID own the entry (0: root).
	UID, GID int
}

func (s Spec) created() time.Time {
	if s.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return s.Created.UTC()
}

// errUnsafePath is wrapped by cleanPath's errors so callers can test for it.
var errUnsafePath = errors.New("unsafe image path")

// cleanPath turns an image path into the relative form tar entries use
// ("usr/bin/x"). It refuses paths that would climb out of the root,
// because a layer entry like "../etc/passwd" is how archive extraction
// bugs are exploited.
func cleanPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%w: %q", errUnsafePath, p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %q climbs out of the root", errUnsafePath, p)
		}
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "", fmt.Errorf("%w: %q names the root", errUnsafePath, p)
	}
	return c, nil
}

// tarMode converts permission and special bits to the tar header's
// Unix mode bits.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
