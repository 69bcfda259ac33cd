package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
)

// The API's own error categories; packages below have theirs (queue,
// store, archive, analysis). classify maps them all to a status.
var (
	errUnauthorized   = errors.New("unauthorized")
	errBadRequest     = errors.New("bad request")
	errNotFound       = errors.New("not found")
	errTooLarge       = errors.New("request too large")
	errUnsupported    = errors.New("unsupported media type")
	errNotReady       = errors.New("not ready")
	errUnresolvable   = errors.New("image cannot be resolved")
	errUpstream       = errors.New("registry unreachable")
	errUnavailable    = errors.New("service unavailable")
	errNotImplemented = errors.New("not implemented")
)

// busyError refuses work for now: the queue is over its limit or too many
// uploads are under way. Clients retry after RetryAfter.
type busyError struct {
	reason     string
	retryAfter time.Duration
}

func (e *busyError) Error() string { return "busy: " + e.reason }

// problemKind is one row of the mapping from error category to response.
type problemKind struct {
	status int
	slug   string // the problem type is "urn:sandscan:problem:" + slug
	title  string
}

// classify maps an error to its problem kind: the one place where error
// categories meet HTTP status codes.
func classify(err error) problemKind {
	var (
		busy *busyError
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		ne   net.Error
	)
	switch {
	case errors.As(err, &busy):
		return problemKind{http.StatusTooManyRequests, "busy", "Too many requests"}
	case errors.As(err, &mbe), errors.Is(err, errTooLarge), errors.Is(err, archive.ErrTooLarge):
		return problemKind{http.StatusRequestEntityTooLarge, "too-large", "Request too large"}
	case errors.As(err, &ne) && ne.Timeout():
		return problemKind{http.StatusRequestTimeout, "timeout", "Request body too slow"}
	case errors.Is(err, errUnauthorized):
		return problemKind{http.StatusUnauthorized, "unauthorized", "Unauthorized"}
	case errors.Is(err, queue.ErrNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, errNotFound):
		return problemKind{http.StatusNotFound, "not-found", "Not found"}
	case errors.Is(err, errUnsupported):
		return problemKind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"}
	case errors.Is(err, archive.ErrInvalid):
		return problemKind{http.StatusBadRequest, "invalid-archive", "Invalid image archive"}
	case errors.Is(err, errBadRequest), errors.Is(err, analysis.ErrInvalid), errors.Is(err, queue.ErrInvalid),
		errors.Is(err, store.ErrInvalid), errors.As(err, &syn), errors.As(err, &typ),
		errors.Is(err, io.ErrUnexpectedEOF):
		return problemKind{http.StatusBadRequest, "bad-request", "Bad request"}
	case errors.Is(err, errNotReady), errors.Is(err, queue.ErrConflict):
		return problemKind{http.StatusConflict, "conflict", "Not in a state to answer that"}
	case errors.Is(err, errUnresolvable):
		return problemKind{http.StatusUnprocessableEntity, "unresolvable", "Image cannot be resolved"}
	case errors.Is(err, errUpstream):
		return problemKind{http.StatusBadGateway, "upstream", "Registry unreachable"}
	case errors.Is(err, errNotImplemented):
		return problemKind{http.StatusNotImplemented, "not-implemented", "Not implemented"}
	case errors.Is(err, errUnavailable), errors.Is(err, queue.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return problemKind{http.StatusServiceUnavailable, "unavailable", "Service unavailable"}
	}
	return problemKind{http.StatusInternalServerError, "internal", "Internal error"}
}

// ProblemTypePrefix starts every problem's type URI.
const ProblemTypePrefix = "urn:sandscan:problem:"

// writeError answers r with err as application/problem+json. Details of
// client errors go back to the client; server errors are logged, and the
// client gets only the category.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client has gone; nobody reads an answer
	}
	k := classify(err)
	p := Problem{Type: ProblemTypePrefix + k.slug, Title: k.title, Status: k.status}
	if r.PathValue("secret") == "" {
		p.Instance = r.URL.Path // a hook's secret never echoes back into logs or proxies
	}
	if k.status < 500 || k.status == http.StatusNotImplemented || k.status == http.StatusBadGateway {
		p.Detail = err.Error()
	}
	if len(p.Detail) > maxDetail {
		p.Detail = p.Detail[:maxDetail]
	}
	var busy *busyError
	if errors.As(err, &busy) {
		secs := int((busy.retryAfter + time.Second - 1) / time.Second)
		p.RetryAfter = max(secs, 1)
	} else if k.status == http.StatusServiceUnavailable {
		p.RetryAfter = 5
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if k.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sandscan"`)
	}
	lvl := slog.LevelInfo
	if k.status >= 500 {
		lvl = slog.LevelError
	}
	s.log.Log(r.Context(), lvl, "request failed", "method", r.Method, "route", routeOf(r), "status", k.status, "err", err)
	writeJSONType(w, k.status, "application/problem+json", p)
}

// maxDetail bounds an error's text in a response.
const maxDetail = 2048

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/json", v)
}

func writeJSONType(w http.ResponseWriter, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"type":%q,"title":"Internal error","status":500}`, ProblemTypePrefix+"internal"))
		status, ctype = http.StatusInternalServerError, "application/problem+json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
