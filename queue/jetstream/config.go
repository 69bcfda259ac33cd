package jetstream

import (
	"fmt"

	"github.com/sandscan/sandscan/queue"
)

// Config names the JetStream resources and tunes delivery; zero fields
// take the defaults.
type Config struct {
	queue.Config
	// Stream holds the jobs (work-queue retention); Stream+"_DEAD" holds
	// the dead letters.
	Stream string
	// Subject prefixes the job subjects (<Subject>.jobs.<id>) and the
	// dead letters' (<Subject>.dead.<id>).
	Subject string
	// Bucket is the key-value bucket of job status and digest claims.
	Bucket string
	// Consumer is the durable consumer all workers share.
	Consumer string
	// Replicas for the streams and the bucket: 1 on one server, 3 in a cluster.
	Replicas int
}

func (c Config) withDefaults() Config {
	c.Config = c.Config.WithDefaults()
	if c.Stream == "" {
		c.Stream = "SANDSCAN_JOBS"
	}
	if c.Subject == "" {
		c.Subject = "sandscan"
	}
	if c.Bucket == "" {
		c.Bucket = "sandscan_jobs"
	}
	if c.Consumer == "" {
		c.Consumer = "workers"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	return c
}

func (c Config) jobSubject(id string) string  { return fmt.Sprintf("%s.jobs.%s", c.Subject, id) }
func (c Config) deadSubject(id string) string { return fmt.Sprintf("%s.dead.%s", c.Subject, id) }
func (c Config) deadStream() string           { return c.Stream + "_DEAD" }

// Keys in the bucket: ids and digest hex are valid key tokens by
// construction (queue.ValidateID, queue.ValidateDigest).
func jobKey(id string) string        { return "job." + id }
func digestKey(digest string) string { return "digest." + digest[len("sha256:"):] }
