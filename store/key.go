package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Key limits: S3 takes 1024 bytes, a Linux file name 255.
const (
	MaxKeyLen     = 512
	MaxSegmentLen = 255
)

// ValidKey accepts keys safe on every backend: 1 to MaxKeyLen bytes of
// [A-Za-z0-9] and -_.~:%+=@, in segments joined by single slashes, none
// empty, none longer than MaxSegmentLen, none beginning with a dot (which
// rules out "." and ".." and keeps the fs backend's temporary files apart).
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key of %d bytes", ErrInvalid, len(key))
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validSegment(seg); err != nil {
			return fmt.Errorf("%w: key %.100q: %s", ErrInvalid, key, err)
		}
	}
	return nil
}

func validSegment(seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("empty segment")
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("segment of %d bytes", len(seg))
	case seg[0] == '.':
		return fmt.Errorf("segment begins with a dot")
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			r, _ := utf8.DecodeRuneInString(seg[i:])
			return fmt.Errorf("character %q", r)
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.~:%+=@,", c) >= 0
}

// ValidPrefix accepts "" or a prefix of some valid key: a whole number of
// segments ending in "/", or those followed by the start of a segment.
func ValidPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := ValidKey(prefix + "x"); err != nil {
		return fmt.Errorf("%w: prefix %.100q", ErrInvalid, prefix)
	}
	return nil
}

// ValidCursor accepts "" or a key-sized string: cursors only compare.
func ValidCursor(after string) error {
	if len(after) > MaxKeyLen {
		return fmt.Errorf("%w: cursor of %d bytes", ErrInvalid, len(after))
	}
	return nil
}

// ValidListArgs checks List's arguments for a backend.
func ValidListArgs(prefix, after string, limit int) error {
	if limit <= 0 {
		return fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	}
	if err := ValidPrefix(prefix); err != nil {
		return err
	}
	return ValidCursor(after)
}
