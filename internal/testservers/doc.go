// Package testservers gives tests real servers on loopback: a MinIO built
// with `go install` at a pinned version into the tools directory, and
// nats-server with JetStream from Debian's package. Each installs what is
// missing (idempotently, under a file lock, so parallel test binaries
// share one build), starts on a free port with a temporary data
// directory, can be stopped and started again on the same port and data,
// and is stopped when the test ends. A test fails, never skips, when a
// server cannot be had.
package testservers
