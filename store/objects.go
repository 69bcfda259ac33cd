package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// PutGzip stores r gzip-compressed under key, compressing as it streams.
func PutGzip(ctx context.Context, s Store, key string, r io.Reader) error {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, r)
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err) // nil closes cleanly
	}()
	err := s.Put(ctx, key, pr, -1)
	pr.CloseWithError(io.ErrClosedPipe) // stops the compressor if Put gave up early
	return err
}

// GetGzip opens a gzip-compressed object and returns its decompressed bytes.
func GetGzip(ctx context.Context, s Store, key string) (io.ReadCloser, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("store: %s: %w", key, err)
	}
	return gzipReadCloser{zr, rc}, nil
}

type gzipReadCloser struct {
	*gzip.Reader
	c io.Closer
}

func (g gzipReadCloser) Close() error {
	g.Reader.Close()
	return g.c.Close()
}

// PutJSON stores v as indented JSON under key.
func PutJSON(ctx context.Context, s Store, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", key, err)
	}
	b = append(b, '\n')
	return s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}

// MaxJSON bounds what GetJSON reads: the documents kept as JSON are
// reports and verdicts, not runs.
const MaxJSON = 64 << 20

// GetJSON decodes the JSON object under key into v.
func GetJSON(ctx context.Context, s Store, key string, v any) error {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	if info.Size > MaxJSON {
		return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrInvalid, key, info.Size, MaxJSON)
	}
	b, err := io.ReadAll(io.LimitReader(rc, MaxJSON+1))
	if err != nil {
		return fmt.Errorf("store: read %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("store: decode %s: %w", key, err)
	}
	return nil
}
