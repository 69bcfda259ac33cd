package queue

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Job is one analysis to run.
type Job struct {
	ID              string          `json:"id"`
	Digest          string          `json:"digest"`          // sha256:<64 hex>, the image's manifest digest
	Image           string          `json:"image,omitempty"` // reference or archive the worker fetches it from
	Reason          Reason          `json:"reason"`
	Mode            Mode            `json:"mode"`
	AnalyzerVersion string          `json:"analyzer_version,omitempty"`
	Payload         json.RawMessage `json:"payload,omitempty"` // anything else the submitter passes on
	Attempts        int             `json:"attempts"`          // deliveries so far, this one included
	Created         time.Time       `json:"created"`
}

// Reason says who asked for a job.
type Reason string

const (
	ReasonAPI     Reason = "api"
	ReasonWebhook Reason = "webhook"
	ReasonRescan  Reason = "rescan"
)

// Mode says what a job does: run the image, or classify a stored run again.
type Mode string

const (
	ModeDetonate   Mode = "detonate"
	ModeReclassify Mode = "reclassify"
)

// State is where a job stands.
type State string

const (
	StateQueued  State = "queued"  // waiting for a worker (again, after a retryable failure)
	StateRunning State = "running" // leased to a worker
	StateDone    State = "done"    // acked
	StateFailed  State = "failed"  // Nacked with a permanent error
	StateDead    State = "dead"    // out of deliveries; Error keeps the last cause
)

// Active reports whether a job in state s still counts for dedupe and Depth.
func (s State) Active() bool { return s == StateQueued || s == StateRunning }

// Limits on what a submitter controls.
const (
	MaxIDLen      = 64
	MaxImageLen   = 4096
	MaxPayloadLen = 64 << 10
)

// Validate checks the fields a submitter supplies; an empty ID is allowed
// (Enqueue fills it in).
func (j Job) Validate() error {
	if j.ID != "" {
		if err := ValidateID(j.ID); err != nil {
			return err
		}
	}
	if err := ValidateDigest(j.Digest); err != nil {
		return err
	}
	switch j.Reason {
	case ReasonAPI, ReasonWebhook, ReasonRescan:
	default:
		return fmt.Errorf("%w: reason %q", ErrInvalid, j.Reason)
	}
	switch j.Mode {
	case ModeDetonate, ModeReclassify:
	default:
		return fmt.Errorf("%w: mode %q", ErrInvalid, j.Mode)
	}
	if len(j.Image) > MaxImageLen {
		return fmt.Errorf("%w: image reference of %d bytes", ErrInvalid, len(j.Image))
	}
	if len(j.Payload) > MaxPayloadLen {
		return fmt.Errorf("%w: payload of %d bytes", ErrInvalid, len(j.Payload))
	}
	if len(j.Payload) > 0 && !json.Valid(j.Payload) {
		return fmt.Errorf("%w: payload is not JSON", ErrInvalid)
	}
	return nil
}

// ValidateDigest accepts sha256:<64 lowercase hex>.
func ValidateDigest(d string) error {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return fmt.Errorf("%w: digest %.80q", ErrInvalid, d)
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: digest %.80q", ErrInvalid, d)
		}
	}
	return nil
}

// ValidateID accepts ids that are safe as a path segment, an object key
// segment and a NATS subject token: [A-Za-z0-9_-], at most MaxIDLen.
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("%w: id of %d bytes", ErrInvalid, len(id))
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: id %.80q", ErrInvalid, id)
		}
	}
	return nil
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a fresh job id: 48 bits of milliseconds then 80 random
// bits, so ids sort by creation time and never collide in practice.
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return idEncoding.EncodeToString(b[:])
}

// Prepare validates job as submitted and fills in what Enqueue owns: the
// ID when empty, Created, and Attempts (zero). Backends call it first.
func Prepare(job Job, now time.Time) (Job, error) {
	if err := job.Validate(); err != nil {
		return Job{}, err
	}
	if job.ID == "" {
		job.ID = NewID(now)
	}
	job.Created = now.UTC()
	job.Attempts = 0
	return job, nil
}
