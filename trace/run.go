package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// RunSchema names the JSON document a Run encodes to.
const RunSchema = "sandscan.run/v1"

// Run is everything one detonation recorded. The analyzer reads nothing else.
type Run struct {
	Schema  string    `json:"schema"`
	ID      string    `json:"id"`
	Image   Image     `json:"image"`
	Sandbox Sandbox   `json:"sandbox"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Timings Timings   `json:"timings"`
	Exit    Exit      `json:"exit"`

	Resources Resources `json:"resources"`

	// Events are in the order the sink received them, which is the order
	// gVisor emitted them per sandbox; Seq numbers them from 1.
	Events []Event `json:"events"`
	// EventsTotal counts every event the sink accepted for this run,
	// including those past the cap that were not kept in Events.
	EventsTotal uint64 `json:"events_total"`
	// Dropped counts events lost: reported by gVisor in its headers (its
	// queue overflowed) plus those the sink discarded past its cap.
	Dropped uint64 `json:"dropped_events"`

	Processes []Process `json:"processes"`
	Stdout    Output    `json:"stdout"`
	Stderr    Output    `json:"stderr"`

	// Files is the filesystem diff against the image, sorted by path.
	Files []FileChange `json:"files"`
	// Diffed says the diff was taken: an empty Files then means the run
	// changed nothing, not that nobody looked.
	Diffed bool `json:"fs_diffed"`
	// Artifacts are copies of files the run created or changed (capped).
	Artifacts []Artifact `json:"artifacts,omitempty"`

	// Network is what the sinkhole saw; nil when the run had no network.
	Network *Network `json:"network,omitempty"`

	// Errors lists problems of the sandbox that did not stop the run
	// (a diff that could not be read, a malformed trace message).
	Errors []string `json:"errors,omitempty"`
}

// Image identifies what was run and how its config asked to be run.
type Image struct {
	Ref        string   `json:"ref"`
	Digest     string   `json:"digest,omitempty"`
	Name       string   `json:"name,omitempty"`
	Platform   string   `json:"platform,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Env        []string `json:"env,omitempty"`
	User       string   `json:"user,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
	Size       int64    `json:"size,omitempty"`
}

// Sandbox describes the runtime and the limits a run had.
type Sandbox struct {
	Runtime           string `json:"runtime"`
	RuntimeVersion    string `json:"runtime_version"`
	ContainerdVersion string `json:"containerd_version"`
	Platform          string `json:"platform"`
	Network           string `json:"network"`
	Limits            Limits `json:"limits"`
}

// Limits are the resource bounds a run was given.
type Limits struct {
	Timeout     Duration `json:"timeout"`
	MemoryBytes int64    `json:"memory_bytes"`
	Pids        int64    `json:"pids"`
	CPUs        float64  `json:"cpus"`
}

// Timings splits a run's wall time into its phases.
type Timings struct {
	Import   Duration `json:"import"`
	Create   Duration `json:"create"`
	Start    Duration `json:"start"`
	Run      Duration `json:"run"`
	Teardown Duration `json:"teardown"`
	Total    Duration `json:"total"`
}

// End reasons of a run.
const (
	EndExited  = "exited"  // the entrypoint returned
	EndTimeout = "timeout" // the time limit was hit and the task killed
	EndQuiet   = "quiet"   // nothing happened for long enough
	EndKilled  = "killed"  // the caller cancelled the run
)

// Exit is how the entrypoint ended.
type Exit struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	TimedOut bool   `json:"timed_out"`
	OOM      bool   `json:"oom,omitempty"`
}

// Resources is what the sandbox used, as its cgroup accounted it.
type Resources struct {
	CPUTime     Duration `json:"cpu_time"`
	MemoryPeak  int64    `json:"memory_peak_bytes"`
	PidsPeak    int64    `json:"pids_peak,omitempty"`
	Processes   int      `json:"processes"`
	OutputBytes int64    `json:"output_bytes"`
}

// Output is a captured stream, cut at a cap.
type Output struct {
	Data      []byte `json:"data"`
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
}

// MarshalJSON writes Data as text when it is valid UTF-8 so stored runs
// stay readable; Output round-trips either way.
func (o Output) MarshalJSON() ([]byte, error) {
	type text struct {
		Text      string `json:"text"`
		Size      int64  `json:"size"`
		Truncated bool   `json:"truncated,omitempty"`
	}
	type raw struct {
		Data      []byte `json:"data"`
		Size      int64  `json:"size"`
		Truncated bool   `json:"truncated,omitempty"`
	}
	if isText(o.Data) {
		return json.Marshal(text{string(o.Data), o.Size, o.Truncated})
	}
	return json.Marshal(raw{o.Data, o.Size, o.Truncated})
}

// UnmarshalJSON reads both forms MarshalJSON writes.
func (o *Output) UnmarshalJSON(b []byte) error {
	var v struct {
		Text      *string `json:"text"`
		Data      []byte  `json:"data"`
		Size      int64   `json:"size"`
		Truncated bool    `json:"truncated"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Data, o.Size, o.Truncated = v.Data, v.Size, v.Truncated
	if v.Text != nil {
		o.Data = []byte(*v.Text)
	}
	return nil
}

// Duration is a time.Duration that encodes as seconds in JSON, which is
// what people and other tools read most easily.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(s * float64(time.Second))
	return nil
}

// Decode reads a Run written by Encode and checks its schema.
func Decode(r io.Reader) (*Run, error) {
	var run Run
	dec := json.NewDecoder(r)
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("decode run: %w", err)
	}
	if run.Schema != RunSchema {
		return nil, fmt.Errorf("decode run: schema %q, want %q", run.Schema, RunSchema)
	}
	return &run, nil
}

// Encode writes run as indented JSON.
func Encode(w io.Writer, run *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(run)
}

// isText reports whether b reads as text: valid UTF-8 without NULs.
func isText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}
