package fsdiff

import "golang.org/x/sys/unix"

// Overlay keeps its markers in the trusted.overlay. namespace, or in
// user.overlay. when mounted with userxattr; both are read.
var overlayXattrPrefixes = [...]string{"trusted.overlay.", "user.overlay."}

// opacity reads a directory's overlay.opaque marker: "y" hides every lower
// directory below it; "x" only says that the directory holds whiteouts in
// the xattr form (kernel 6.7 and later).
func (d *dir) opacity() (opaque, xattrWhiteouts bool) {
	for _, p := range overlayXattrPrefixes {
		switch v, _ := d.ownXattr(p + "opaque"); v {
		case "y":
			return true, false
		case "x":
			xattrWhiteouts = true
		}
	}
	return false, xattrWhiteouts
}

// isWhiteout reports whether the entry hides the same name in the layers
// below: a character device 0/0 (what the kernel writes), or a zero-size
// regular file with the overlay.whiteout xattr in a directory marked
// opaque "x" (the kernel honours that form only there).
func (d *dir) isWhiteout(name string, st *unix.Stat_t, xattrWhiteouts bool) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return st.Rdev == 0
	case unix.S_IFREG:
		if !xattrWhiteouts || st.Size != 0 {
			return false
		}
		for _, p := range overlayXattrPrefixes {
			if _, ok := d.xattr(name, p+"whiteout"); ok {
				return true
			}
		}
	}
	return false
}

func isDir(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
