// Package rootfs builds Debian bookworm root filesystems with debootstrap
// for the images of the evaluation and training corpora, and caches each
// one under a key made of the package set, so a second build of the same
// set costs nothing.
//
// Building runs Debian's own package scripts in a chroot on the host, as
// any image build does; the corpora's commands only ever run in gVisor.
package rootfs
