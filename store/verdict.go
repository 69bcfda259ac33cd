package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verdict is the summary kept per image digest: what one analysis
// concluded. The full report stays under the analysis's keys.
type Verdict struct {
	Digest          string    `json:"digest"`
	Analysis        string    `json:"analysis"` // the analysis (job) id
	Verdict         string    `json:"verdict"`  // clean, suspicious or malicious
	Score           float64   `json:"score"`
	Techniques      []string  `json:"techniques,omitempty"` // ATT&CK ids
	AnalyzerVersion string    `json:"analyzer_version,omitempty"`
	Time            time.Time `json:"time"` // when the analysis finished
}

func (v Verdict) validate() error {
	if _, err := digestHex(v.Digest); err != nil {
		return err
	}
	if err := validID(v.Analysis); err != nil {
		return err
	}
	switch v.Verdict {
	case "clean", "suspicious", "malicious":
	default:
		return fmt.Errorf("%w: verdict %q", ErrInvalid, v.Verdict)
	}
	if v.Time.IsZero() {
		return fmt.Errorf("%w: verdict without a time", ErrInvalid)
	}
	return nil
}

// PutVerdict adds v to its image's history, then makes it the latest
// unless the latest is newer (an old analysis finishing late, or a
// rescan's result arriving out of order). Two writers racing may both
// pass that check; the history keeps both either way.
func PutVerdict(ctx context.Context, s Store, v Verdict) error {
	if err := v.validate(); err != nil {
		return err
	}
	v.Time = v.Time.UTC()
	hk, err := VerdictHistoryKey(v.Digest, v.Time, v.Analysis)
	if err != nil {
		return err
	}
	if err := PutJSON(ctx, s, hk, v); err != nil {
		return err
	}
	lk, _ := LatestVerdictKey(v.Digest)
	var cur Verdict
	switch err := GetJSON(ctx, s, lk, &cur); {
	case err == nil:
		if cur.Time.After(v.Time) {
			return nil
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return PutJSON(ctx, s, lk, v)
}

// LatestVerdict returns an image's latest verdict (ErrNotFound when it
// has none).
func LatestVerdict(ctx context.Context, s Store, digest string) (Verdict, error) {
	k, err := LatestVerdictKey(digest)
	if err != nil {
		return Verdict{}, err
	}
	var v Verdict
	return v, GetJSON(ctx, s, k, &v)
}

// VerdictHistory returns up to limit of an image's verdicts, oldest first,
// after the history key after ("" from the start).
func VerdictHistory(ctx context.Context, s Store, digest, after string, limit int) ([]Verdict, error) {
	p, err := VerdictPrefix(digest)
	if err != nil {
		return nil, err
	}
	infos, err := s.List(ctx, p+"history/", after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Verdict, 0, len(infos))
	for _, info := range infos {
		if !strings.HasSuffix(info.Key, ".json") {
			continue
		}
		var v Verdict
		if err := GetJSON(ctx, s, info.Key, &v); err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
