package api

import (
	"log/slog"
	"time"
)

// Analysis is the API's view of one analysis (one queued job).
type Analysis struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"` // queued, running, done, failed, dead
	Digest     string    `json:"digest"`
	Image      string    `json:"image,omitempty"`
	Repository string    `json:"repository,omitempty"`
	Reason     string    `json:"reason,omitempty"` // api, webhook, rescan
	Mode       string    `json:"mode,omitempty"`   // detonate, reclassify
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated,omitzero"`
	Attempts   int       `json:"attempts"`
	// Error is the last failure, kept through retries.
	Error  string   `json:"error,omitempty"`
	Result *Summary `json:"result,omitempty"`
	// Existing is set on a submission answered with an analysis already
	// queued, running or finished for the same digest.
	Existing bool  `json:"existing,omitempty"`
	Links    Links `json:"links"`
}

// Summary is the outcome of a finished analysis; the report has the rest.
type Summary struct {
	Verdict         string    `json:"verdict"`
	Score           float64   `json:"score"`
	Techniques      []string  `json:"techniques"`
	RunID           string    `json:"run_id,omitempty"`
	AnalyzerVersion string    `json:"analyzer_version,omitempty"`
	RulesVersion    string    `json:"rules_version,omitempty"`
	Model           string    `json:"model,omitempty"`
	Finished        time.Time `json:"finished,omitzero"`
	// Artifacts are names for GET /v1/analyses/{id}/artifacts/{name}.
	Artifacts []string `json:"artifacts,omitempty"`
}

// Links are the URLs (paths) related to a resource.
type Links struct {
	Self      string `json:"self"`
	Report    string `json:"report,omitempty"`
	Artifacts string `json:"artifacts,omitempty"`
	Verdict   string `json:"verdict,omitempty"`
	History   string `json:"history,omitempty"`
	Analysis  string `json:"analysis,omitempty"`
}

// AnalysisList is a page of analyses, newest first.
type AnalysisList struct {
	Analyses []Analysis `json:"analyses"`
	// Next is the cursor of the next page; empty at the end.
	Next string `json:"next,omitempty"`
}

// SubmitRequest is the JSON body of POST /v1/analyses.
type SubmitRequest struct {
	// Image is a registry reference (host/repo:tag or host/repo@digest).
	Image       string       `json:"image"`
	Credentials *Credentials `json:"credentials,omitempty"`
	// Network is the sandbox's network mode: sinkhole (default) or none.
	Network string `json:"network,omitempty"`
	// Timeout bounds the run, as a Go duration ("90s", "5m").
	Timeout string `json:"timeout,omitempty"`
	// Force runs the image again even when it already has a verdict.
	Force bool `json:"force,omitempty"`
}

// Credentials log in to a registry. The password never reaches a log.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LogValue keeps the password out of slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", "<redacted>"))
}

// String keeps the password out of %v.
func (c Credentials) String() string { return c.Username + ":<redacted>" }

// Verdict is an image's verdict, as GET /v1/images/{digest}/verdict gives it.
type Verdict struct {
	Digest          string    `json:"digest"`
	Analysis        string    `json:"analysis"`
	Verdict         string    `json:"verdict"`
	Score           float64   `json:"score"`
	Techniques      []string  `json:"techniques"`
	AnalyzerVersion string    `json:"analyzer_version,omitempty"`
	Time            time.Time `json:"time"`
	Links           Links     `json:"links"`
}

// VerdictHistory is a page of an image's verdicts, oldest first.
type VerdictHistory struct {
	Digest   string    `json:"digest"`
	Verdicts []Verdict `json:"verdicts"`
	Next     string    `json:"next,omitempty"`
}

// HookResult answers a webhook delivery: what each push became.
type HookResult struct {
	Analyses []Analysis `json:"analyses"`
	// Ignored counts events that were not manifest pushes.
	Ignored int `json:"ignored"`
}

// Problem is an RFC 9457 problem document, the body of every error.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RetryAfter repeats the Retry-After header (seconds) of a 429 or 503.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Error lets a client return a Problem as an error.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// RescanRequest is the JSON body of POST /v1/rescans.
type RescanRequest struct {
	// Mode is redetonate (run every image again) or reclassify (re-run
	// only the analyzer on stored runs).
	Mode   string       `json:"mode"`
	Filter RescanFilter `json:"filter,omitzero"`
}

// RescanFilter picks the stored images a rescan covers; every field set
// must match, and the empty filter takes every stored image.
type RescanFilter struct {
	Verdict string `json:"verdict,omitempty"`
	// Repository is a prefix of the image's repository (registry/name).
	Repository string   `json:"repository,omitempty"`
	Digests    []string `json:"digests,omitempty"`
	// Before picks images whose latest verdict is older than this time
	// (or that have none).
	Before time.Time `json:"before,omitzero"`
}

// Rescan is a batch rescan and its progress: its jobs counted by state.
type Rescan struct {
	ID      string       `json:"id"`
	Mode    string       `json:"mode"`  // redetonate or reclassify
	State   string       `json:"state"` // running until no job is queued or running, then done
	Filter  RescanFilter `json:"filter"`
	Created time.Time    `json:"created"`
	Total   int          `json:"total"`
	Queued  int          `json:"queued"`
	Running int          `json:"running"`
	Done    int          `json:"done"`
	Failed  int          `json:"failed"`
	Dead    int          `json:"dead"`
	// Unknown are jobs the queue no longer knows.
	Unknown int `json:"unknown"`
	// Skipped counts stored images that could not be queued, with the
	// first errors in Errors.
	Skipped int      `json:"skipped"`
	Errors  []string `json:"errors,omitempty"`
	// Analyses are the ids of the rescan's analyses.
	Analyses []string `json:"analyses"`
	Links    Links    `json:"links"`
}
