// Package fsdiff reads what a sandboxed run left on disk: it compares an
// overlayfs upper directory with the image's lower directories (whiteouts,
// opaque directories and copy-ups as the kernel writes them) and walks the
// run's scratch mounts (/tmp, /dev/shm), giving the sorted file changes of
// the run and copies of the files worth keeping as artifacts. The content is
// hostile: symlinks are never followed, special files are never opened, and
// every walk, hash and copy is bounded, so a tree built to exhaust the
// reader yields a truncated result instead of an error or a hang.
package fsdiff
