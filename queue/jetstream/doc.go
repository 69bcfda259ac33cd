// Package jetstream is the queue backend for more than one machine: NATS
// JetStream holds the jobs in a work-queue stream read by one durable pull
// consumer shared by every worker, with explicit acks, an ack wait that
// InProgress extends, and deliveries counted by the server. Job status
// and the digest claims that keep a digest from running twice live in a
// JetStream key-value bucket; jobs out of deliveries are published, with
// their last error, on a dead-letter subject kept in a stream of its own.
package jetstream
