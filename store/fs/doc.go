// Package fs is the default store backend: objects are files under one
// root directory, a key's segments its path. A Put writes a temporary file
// beside the target, syncs it and renames it over the target, then syncs
// the directory, so a reader (or a crash) sees the old object or the whole
// new one. Keys are validated before they touch the filesystem; one key
// cannot be both an object and the directory of another ("a" and "a/b").
package fs
