package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sandscan/sandscan/queue"
)

// Where a worker gets the image of a job.
const (
	// FromRegistry pulls Request.Ref (a reference containerd resolves).
	FromRegistry = "registry"
	// FromStore reads the archive kept in the store under the job's
	// digest (store.ImageKey): uploads, and every rescan.
	FromStore = "store"
)

// Archive formats of an image kept in the store.
const (
	FormatOCI    = "oci-archive"
	FormatDocker = "docker-archive"
)

// ErrInvalid is returned for a request a worker could not act on.
var ErrInvalid = errors.New("analysis: invalid request")

// Request is what a job asks a worker to do, beyond queue.Job's digest,
// reason and mode. It travels as the job's Payload.
type Request struct {
	Source string `json:"source"`
	// Ref is the registry reference (FromRegistry), also kept as the
	// image's name in reports for stored images.
	Ref string `json:"ref,omitempty"`
	// Format is the stored archive's format (FromStore).
	Format string `json:"format,omitempty"`
	// Credentials log in to the registry for the pull. They travel in
	// the queue, so whoever runs the queue is trusted with them.
	Credentials *Credentials `json:"credentials,omitempty"`
	// Network and Timeout override the worker's defaults ("" and 0 keep
	// them).
	Network string        `json:"network,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	// RunID names the stored run to reclassify (queue.ModeReclassify);
	// empty means the latest analysis of the digest.
	RunID string `json:"run_id,omitempty"`
	// Rescan groups the jobs of one batch rescan.
	Rescan string `json:"rescan,omitempty"`
	// Repository is the image's repository (registry/name), for listing
	// and filtering analyses.
	Repository string `json:"repository,omitempty"`
}

// Credentials for a registry.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LogValue keeps the password out of logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", "<redacted>"))
}

// String keeps the password out of %v.
func (c Credentials) String() string { return c.Username + ":<redacted>" }

// Validate checks a request against the job it travels with.
func (r Request) Validate(mode queue.Mode) error {
	switch r.Source {
	case FromRegistry:
		if r.Ref == "" {
			return fmt.Errorf("%w: a registry source needs a ref", ErrInvalid)
		}
	case FromStore:
		if r.Format != FormatOCI && r.Format != FormatDocker && mode != queue.ModeReclassify {
			return fmt.Errorf("%w: stored image format %q", ErrInvalid, r.Format)
		}
	default:
		return fmt.Errorf("%w: source %q", ErrInvalid, r.Source)
	}
	if r.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrInvalid)
	}
	return nil
}

// Encode makes the job payload.
func (r Request) Encode() (json.RawMessage, error) { return json.Marshal(r) }

// DecodeRequest reads a job's payload.
func DecodeRequest(j queue.Job) (Request, error) {
	var r Request
	if len(j.Payload) == 0 {
		return r, fmt.Errorf("%w: job %s has no request", ErrInvalid, j.ID)
	}
	if err := json.Unmarshal(j.Payload, &r); err != nil {
		return r, fmt.Errorf("%w: job %s: %w", ErrInvalid, j.ID, err)
	}
	return r, r.Validate(j.Mode)
}

// Result is what a worker acks a job with: the outcome in brief. The full
// report and the run are in the store under the analysis id (the job id).
type Result struct {
	// Digest is the image digest the analysis ran on and its verdict is
	// filed under; RequestedDigest the job's, when a tag moved between the
	// submission and the pull.
	Digest          string   `json:"digest,omitempty"`
	RequestedDigest string   `json:"requested_digest,omitempty"`
	Verdict         string   `json:"verdict"`
	Score           float64  `json:"score"`
	Techniques      []string `json:"techniques"`
	// RunID is the analysis whose stored run the report was made from:
	// the job itself, or for a reclassification the run it re-read.
	RunID           string    `json:"run_id"`
	AnalyzerVersion string    `json:"analyzer_version"`
	RulesVersion    string    `json:"rules_version"`
	Model           string    `json:"model"`
	Finished        time.Time `json:"finished"`
	// Artifacts lists the store keys written for the analysis.
	Artifacts []string `json:"artifacts"`
}

// DecodeResult reads a job status's result; ok is false when the job has
// none yet.
func DecodeResult(st queue.Status) (Result, bool, error) {
	var r Result
	if len(st.Result) == 0 {
		return r, false, nil
	}
	if err := json.Unmarshal(st.Result, &r); err != nil {
		return r, false, fmt.Errorf("analysis: result of %s: %w", st.Job.ID, err)
	}
	return r, true, nil
}
