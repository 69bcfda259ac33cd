package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/store"
)

// The API keeps an index of the analyses it queued in the store, one small
// object each, so listing needs no database and survives a queue that
// forgets finished jobs. Keys sort newest first:
//
//	index/analyses/<19 digits: MaxInt64 - created UnixNano>-<id>.json
const indexPrefix = "index/analyses/"

// indexEntry is what the index keeps of an analysis: what it was asked to
// do. Its state and verdict come from the queue and the store on read.
type indexEntry struct {
	ID         string       `json:"id"`
	Digest     string       `json:"digest"`
	Image      string       `json:"image,omitempty"`
	Repository string       `json:"repository,omitempty"`
	Reason     queue.Reason `json:"reason"`
	Mode       queue.Mode   `json:"mode"`
	Created    time.Time    `json:"created"`
}

func indexKey(id string, created time.Time) string {
	return fmt.Sprintf("%s%019d-%s.json", indexPrefix, math.MaxInt64-created.UnixNano(), id)
}

// idFromIndexKey reads the analysis id back out of an index key.
func idFromIndexKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, indexPrefix)
	if !ok || len(rest) < 21 || rest[19] != '-' || !strings.HasSuffix(rest, ".json") {
		return "", false
	}
	id := strings.TrimSuffix(rest[20:], ".json")
	return id, queue.ValidateID(id) == nil
}

func (s *Server) putIndex(ctx context.Context, e indexEntry) error {
	return store.PutJSON(ctx, s.st, indexKey(e.ID, e.Created), e)
}

func (s *Server) deleteIndex(ctx context.Context, e indexEntry) {
	if err := s.st.Delete(ctx, indexKey(e.ID, e.Created)); err != nil {
		s.log.Warn("index: delete", "id", e.ID, "err", err)
	}
}

// Cursors are index keys, opaque to clients.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	k, err := decodeCursorAny(c)
	if err != nil || !strings.HasPrefix(k, indexPrefix) {
		return "", fmt.Errorf("%w: bad cursor", errBadRequest)
	}
	return k, nil
}

// decodeCursorAny reads a cursor back into the store key it wraps.
func decodeCursorAny(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || store.ValidKey(string(b)) != nil {
		return "", fmt.Errorf("%w: bad cursor", errBadRequest)
	}
	return string(b), nil
}
