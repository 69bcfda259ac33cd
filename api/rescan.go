package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
)

// Rescanner starts batch rescans and reports their progress; the worker
// package owns that logic, the API only speaks HTTP for it.
type Rescanner interface {
	Rescan(ctx context.Context, req RescanRequest) (Rescan, error)
	RescanProgress(ctx context.Context, id string) (Rescan, error)
}

// Rescan modes.
const (
	RescanRedetonate = "redetonate"
	RescanReclassify = "reclassify"
)

func rescanPath(id string) string { return "/v1/rescans/" + id }

// postRescan is POST /v1/rescans.
func (s *Server) postRescan(w http.ResponseWriter, r *http.Request) error {
	var req RescanRequest
	if err := decodeJSON(w, r, s.cfg.MaxBody, &req); err != nil {
		return err
	}
	switch req.Mode {
	case RescanRedetonate, RescanReclassify:
	default:
		return fmt.Errorf("%w: mode %.32q (have %s, %s)", errBadRequest, req.Mode, RescanRedetonate, RescanReclassify)
	}
	if v := req.Filter.Verdict; v != "" {
		if err := checkVerdict(v); err != nil {
			return err
		}
	}
	for _, d := range req.Filter.Digests {
		if err := queue.ValidateDigest(d); err != nil {
			return fmt.Errorf("%w: %w", errBadRequest, err)
		}
	}
	if s.cfg.Rescanner == nil {
		return fmt.Errorf("%w: this server has no rescanner", errNotImplemented)
	}
	rs, err := s.cfg.Rescanner.Rescan(r.Context(), req)
	if err != nil {
		return err
	}
	s.indexJobs(r.Context(), rs.Analyses)
	rs.Links = Links{Self: rescanPath(rs.ID)}
	w.Header().Set("Location", rs.Links.Self)
	writeJSON(w, http.StatusAccepted, rs)
	return nil
}

// indexJobs adds jobs queued elsewhere (a rescan's) to the listing
// index; a job already there is written again under the same key.
func (s *Server) indexJobs(ctx context.Context, ids []string) {
	for _, id := range ids {
		st, err := s.q.Status(ctx, id)
		if err != nil {
			s.log.Warn("index a rescan job", "id", id, "err", err)
			continue
		}
		j := st.Job
		e := indexEntry{ID: j.ID, Digest: j.Digest, Image: j.Image, Reason: j.Reason, Mode: j.Mode, Created: j.Created}
		if req, err := analysis.DecodeRequest(j); err == nil {
			e.Repository = req.Repository
		}
		if err := s.putIndex(ctx, e); err != nil {
			s.log.Warn("index a rescan job", "id", id, "err", err)
		}
	}
}

// getRescan is GET /v1/rescans/{id}.
func (s *Server) getRescan(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := queue.ValidateID(id); err != nil {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	if s.cfg.Rescanner == nil {
		return fmt.Errorf("%w: this server has no rescanner", errNotImplemented)
	}
	rs, err := s.cfg.Rescanner.RescanProgress(r.Context(), id)
	if err != nil {
		return err
	}
	rs.Links = Links{Self: rescanPath(rs.ID)}
	writeJSON(w, http.StatusOK, rs)
	return nil
}
