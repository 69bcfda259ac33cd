package archive

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every refusal of an archive's content, so a
// caller can tell a bad upload (exit code, HTTP 400) from a failure to read
// it. Each refusal also wraps one of the categories below.
var ErrInvalid = errors.New("invalid image archive")

// Categories of refusal; each wraps ErrInvalid.
var (
	// ErrMalformed: not a tar, bad JSON, a missing file or blob, sizes or
	// counts that disagree.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalid)
	// ErrUnsafe: an entry whose path is absolute or climbs out with "..",
	// a hard link, a symlink (beyond what docker archives use for shared
	// layers), a device or a fifo.
	ErrUnsafe = fmt.Errorf("%w: unsafe entry", ErrInvalid)
	// ErrTooLarge: a limit of Limits exceeded.
	ErrTooLarge = fmt.Errorf("%w: over a limit", ErrInvalid)
	// ErrDigest: a blob whose content does not match its digest or size.
	ErrDigest = fmt.Errorf("%w: digest mismatch", ErrInvalid)
	// ErrUnsupported: a compressed archive, an unknown media type, layout
	// version or digest algorithm.
	ErrUnsupported = fmt.Errorf("%w: unsupported", ErrInvalid)
	// ErrPlatform: no image for the wanted platform.
	ErrPlatform = fmt.Errorf("%w: no image for the platform", ErrInvalid)
	// ErrNotFound: no image carries the requested tag.
	ErrNotFound = fmt.Errorf("%w: no such image", ErrInvalid)
)

func errorf(category error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{category}, args...)...)
}
