package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const goodDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestValidate(t *testing.T) {
	ok := Job{Digest: goodDigest, Reason: ReasonAPI, Mode: ModeDetonate}
	tests := []struct {
		name string
		edit func(*Job)
		ok   bool
	}{
		{"minimal", func(*Job) {}, true},
		{"with id and payload", func(j *Job) { j.ID = "Ab_9-x"; j.Payload = []byte(`{"a":1}`) }, true},
		{"webhook reclassify", func(j *Job) { j.Reason = ReasonWebhook; j.Mode = ModeReclassify }, true},
		{"short digest", func(j *Job) { j.Digest = "sha256:abc" }, false},
		{"uppercase hex", func(j *Job) { j.Digest = strings.ToUpper(goodDigest) }, false},
		{"sha512", func(j *Job) { j.Digest = "sha512:" + goodDigest[7:] }, false},
		{"no digest", func(j *Job) { j.Digest = "" }, false},
		{"path in id", func(j *Job) { j.ID = "../x" }, false},
		{"dot in id", func(j *Job) { j.ID = "a.b" }, false},
		{"long id", func(j *Job) { j.ID = strings.Repeat("a", MaxIDLen+1) }, false},
		{"unknown reason", func(j *Job) { j.Reason = "cron" }, false},
		{"unknown mode", func(j *Job) { j.Mode = "" }, false},
		{"payload not json", func(j *Job) { j.Payload = []byte("{") }, false},
		{"payload too big", func(j *Job) { j.Payload = []byte(`"` + strings.Repeat("a", MaxPayloadLen) + `"`) }, false},
		{"image too long", func(j *Job) { j.Image = strings.Repeat("a", MaxImageLen+1) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := ok
			tt.edit(&j)
			err := j.Validate()
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 100 {
		id := NewID(t0.Add(time.Duration(i) * time.Millisecond))
		if err := ValidateID(id); err != nil {
			t.Fatal(err)
		}
		if seen[id] || id <= prev {
			t.Fatalf("id %d %q after %q", i, id, prev)
		}
		seen[id], prev = true, id
	}
	if a, b := NewID(t0), NewID(t0); a == b {
		t.Fatalf("two ids in one millisecond collide: %s", a)
	}
}

func TestPrepare(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	j, err := Prepare(Job{Digest: goodDigest, Reason: ReasonRescan, Mode: ModeReclassify, Attempts: 7}, now)
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == "" || j.Attempts != 0 || !j.Created.Equal(now) || j.Created.Location() != time.UTC {
		t.Fatalf("prepared %+v", j)
	}
	if _, err := Prepare(Job{}, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty job: %v", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad archive")
	tests := []struct {
		err  error
		want bool
	}{
		{base, false},
		{Permanent(base), true},
		{fmt.Errorf("fetch: %w", Permanent(base)), true},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v", tt.err, got)
		}
	}
	if !errors.Is(Permanent(base), base) || Permanent(nil) != nil {
		t.Error("Permanent must wrap its error and keep nil nil")
	}
	if got := ErrorText(errors.New(strings.Repeat("x", 2*MaxError))); len(got) != MaxError {
		t.Errorf("error text of %d bytes", len(got))
	}
	if ErrorText(nil) == "" {
		t.Error("nil cause gives no text")
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		in, want Config
	}{
		{Config{}, Config{DefaultAckWait, DefaultMaxDeliver, DefaultBackoff}},
		{Config{time.Second, 2, -1}, Config{time.Second, 2, 0}},
		{Config{-time.Second, -2, time.Millisecond}, Config{DefaultAckWait, DefaultMaxDeliver, time.Millisecond}},
	}
	for _, tt := range tests {
		if got := tt.in.WithDefaults(); got != tt.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	c := Config{Backoff: time.Second}
	if c.RetryDelay(0) != time.Second || c.RetryDelay(3) != 3*time.Second {
		t.Errorf("retry delays %v %v", c.RetryDelay(0), c.RetryDelay(3))
	}
}

// FuzzJob: a submitted job's JSON never panics validation, and a job that
// validates has fields safe to use as keys and subjects.
func FuzzJob(f *testing.F) {
	f.Add([]byte(`{"digest":"` + goodDigest + `","reason":"api","mode":"detonate"}`))
	f.Add([]byte(`{"id":"../../x","digest":"sha256:","reason":"api","mode":"detonate","payload":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j Job
		if json.Unmarshal(data, &j) != nil {
			return
		}
		if j.Validate() != nil {
			return
		}
		if strings.ContainsAny(j.ID, "/.* >") || len(j.Digest) != 71 {
			t.Fatalf("accepted %+v", j)
		}
	})
}
