// Package client is the CLI's side of Sandscan's HTTP API: submissions by
// reference or uploaded archive (streamed from the file, with progress),
// status, waiting with backoff, reports and verdicts. It speaks the wire
// types of package api and turns problem+json answers into *Error.
package client
