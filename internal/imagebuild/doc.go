// Package imagebuild assembles small container images offline and
// deterministically: layers from an in-memory file list or from host
// root-filesystem directories (a debootstrap tree, say), an OCI image config
// with the entrypoint and environment, written as an OCI layout tarball or a
// docker-archive tarball that containerd's Import accepts. The same inputs
// always give byte-identical archives: every timestamp is fixed, entries are
// sorted and host user and group names never enter the tar headers.
package imagebuild
