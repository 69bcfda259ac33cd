package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

func verdictOf(v store.Verdict) Verdict {
	techs := v.Techniques
	if techs == nil {
		techs = []string{}
	}
	return Verdict{
		Digest: v.Digest, Analysis: v.Analysis, Verdict: v.Verdict, Score: v.Score, Techniques: techs,
		AnalyzerVersion: v.AnalyzerVersion, Time: v.Time,
		Links: Links{
			Self:     verdictPath(v.Digest),
			Analysis: analysisPath(v.Analysis),
			Report:   analysisPath(v.Analysis) + "/report",
			History:  "/v1/images/" + v.Digest + "/verdicts",
		},
	}
}

func pathDigest(r *http.Request) (string, error) {
	d := r.PathValue("digest")
	if err := queue.ValidateDigest(d); err != nil {
		return "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return d, nil
}

// getVerdict is GET /v1/images/{digest}/verdict: the latest verdict.
func (s *Server) getVerdict(w http.ResponseWriter, r *http.Request) error {
	d, err := pathDigest(r)
	if err != nil {
		return err
	}
	v, err := store.LatestVerdict(r.Context(), s.st, d)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no verdict for %s", errNotFound, d)
		}
		return fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	writeJSON(w, http.StatusOK, verdictOf(v))
	return nil
}

// getVerdictHistory is GET /v1/images/{digest}/verdicts: every verdict
// the image had, oldest first.
func (s *Server) getVerdictHistory(w http.ResponseWriter, r *http.Request) error {
	d, err := pathDigest(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"), defaultListLimit, maxListLimit)
	if err != nil {
		return err
	}
	prefix, _ := store.VerdictPrefix(d)
	after, err := decodeHistoryCursor(q.Get("cursor"), prefix+"history/")
	if err != nil {
		return err
	}
	ctx := r.Context()
	page, err := s.st.List(ctx, prefix+"history/", after, limit)
	if err != nil {
		return fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	out := VerdictHistory{Digest: d, Verdicts: []Verdict{}}
	for _, info := range page {
		var v store.Verdict
		if err := store.GetJSON(ctx, s.st, info.Key, &v); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return fmt.Errorf("%w: store: %w", errUnavailable, err)
		}
		out.Verdicts = append(out.Verdicts, verdictOf(v))
	}
	if len(page) == 0 {
		if _, err := store.LatestVerdict(ctx, s.st, d); errors.Is(err, store.ErrNotFound) && after == "" {
			return fmt.Errorf("%w: no verdict for %s", errNotFound, d)
		}
	}
	if len(page) == limit {
		out.Next = encodeCursor(page[len(page)-1].Key)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func decodeHistoryCursor(c, prefix string) (string, error) {
	if c == "" {
		return "", nil
	}
	k, err := decodeCursorAny(c)
	if err != nil || !strings.HasPrefix(k, prefix) {
		return "", fmt.Errorf("%w: bad cursor", errBadRequest)
	}
	return k, nil
}
