// Package queue defines the durable job queue between submissions (API,
// webhooks, rescans) and workers: a small Queue interface, the Job it
// carries, the states a job goes through and the error categories callers
// test with errors.Is. Delivery is at least once: a job whose worker dies
// is delivered again when its lease expires, a job that fails too often is
// parked as dead with its last error, and a digest already queued or
// running is never queued twice. Backends live in sub-packages (embedded,
// the default, on bbolt; jetstream on NATS JetStream) and pass the shared
// conformance suite in queuetest.
package queue
