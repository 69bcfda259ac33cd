// Package s3 is the store backend for MinIO or any S3 service, through
// minio-go. Configuration comes from flags or SANDSCAN_S3_* variables, and
// the secret key never reaches a log. Each PUT is atomic on the service's
// side; a transient failure (the service down, restarting or throttling)
// is retried with backoff until it succeeds or the context ends, so a
// worker's result lands once the service is back.
package s3
