// Package store keeps Sandscan's objects: image archives, each analysis's
// run, report and artifacts, and the verdicts per image digest. Store is
// the small interface backends implement (fs, the default, on a local
// directory; s3 for MinIO or any S3); this package owns what is common to
// them: key validation (keys are built from digests and ids users
// supply), the stable key layout, and typed helpers for compressed runs,
// JSON documents and verdicts. Every Put is atomic: a reader sees the old
// object or the whole new one, never part of it.
package store
