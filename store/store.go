package store

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"
)

// Store holds objects under keys (see ValidKey).
type Store interface {
	// Put stores r's bytes under key, replacing any object there, so that
	// readers see the old object or all of the new one. size is r's length,
	// or -1 when unknown; a reader that ends early, fails, or outlives ctx
	// fails the Put and leaves the old object in place.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object under key; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object under key.
	Stat(ctx context.Context, key string) (Info, error)
	// List returns, in key order, at most limit objects whose keys start
	// with prefix and sort after the cursor after ("" for the first
	// page; the last key of a page for the next). Fewer than limit means
	// the end.
	List(ctx context.Context, prefix, after string, limit int) ([]Info, error)
	// Delete removes the object under key; a missing object is no error.
	Delete(ctx context.Context, key string) error
}

// Info describes one object.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Error categories, tested with errors.Is; backends wrap them with detail.
var (
	ErrNotFound = errors.New("store: not found")
	ErrInvalid  = errors.New("store: invalid") // a bad key, prefix or size
)

// listPage is how many keys All asks for at a time.
const listPage = 500

// All iterates over every object under prefix, page by page, in key order.
func All(ctx context.Context, s Store, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		after := ""
		for {
			page, err := s.List(ctx, prefix, after, listPage)
			if err != nil {
				yield(Info{}, err)
				return
			}
			for _, info := range page {
				if !yield(info, nil) {
					return
				}
			}
			if len(page) < listPage {
				return
			}
			after = page[len(page)-1].Key
		}
	}
}
