// Package archive inspects an uploaded image archive before containerd sees
// it: an OCI archive (a tar of an OCI image layout), a docker archive
// (`docker save`), or an OCI layout directory. It refuses a malformed or
// hostile archive with a typed error (paths out of the archive, links,
// special files, sizes past limits, missing blobs, digests that do not match
// their content, unknown media types, an image for another platform) and
// tells what the archive holds: its format, image names, the digest
// containerd will report for the image once imported, and the image config.
// It reads only what it needs, through io.ReaderAt or fs.FS, and never
// unpacks layers.
package archive
