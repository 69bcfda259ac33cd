package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sandscan/sandscan/store"
)

// Store is a store.Store in one S3 bucket.
type Store struct {
	c      *minio.Client
	bucket string
	log    *slog.Logger
}

var _ store.Store = (*Store)(nil)

// Open connects to the bucket cfg names, creating it if missing. A service
// that is down is waited for until ctx ends. log may be nil.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := transport(cfg)
	if err != nil {
		return nil, err
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.TLS,
		Region:    cfg.Region,
		Transport: tr,
		// One try per call: retry() owns backoff, and can rewind the body.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Store{c: c, bucket: cfg.Bucket, log: log.With("store", "s3", "bucket", cfg.Bucket)}
	err = retry(ctx, s.log, "make bucket", func() error {
		ok, err := c.BucketExists(ctx, cfg.Bucket)
		if err != nil || ok {
			return err
		}
		err = c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			return nil // another node made it first
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	s.log.InfoContext(ctx, "s3 store open", "config", cfg)
	return s, nil
}

// transport is minio-go's default, trusting cfg.CAFile too.
func transport(cfg Config) (http.RoundTripper, error) {
	tr, err := minio.DefaultTransport(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if cfg.CAFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("s3: CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("s3: CA file %s holds no PEM certificate", cfg.CAFile)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}

// mapErr turns S3's "no such key" into store.ErrNotFound.
func mapErr(key string, err error) error {
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == http.StatusNotFound && er.Code != "NoSuchBucket") {
		return fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return fmt.Errorf("s3: %s: %w", key, err)
}

// Put implements store.Store. A body that cannot be rewound for a retry
// is first spooled to a temporary file.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	if size < -1 {
		return fmt.Errorf("%w: size %d", store.ErrInvalid, size)
	}
	body, n, cleanup, err := rewindable(ctx, r, size)
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	defer cleanup()
	start, err := body.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	err = retry(ctx, s.log, "put "+key, func() error {
		if _, err := body.Seek(start, io.SeekStart); err != nil {
			return err
		}
		_, err := s.c.PutObject(ctx, s.bucket, key, io.LimitReader(body, n), n, minio.PutObjectOptions{
			ContentType: contentType(key),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	return nil
}

// rewindable returns r as a ReadSeeker of known length n: r itself when it
// is one and its length is given, else a spooled copy. A short read fails.
func rewindable(ctx context.Context, r io.Reader, size int64) (io.ReadSeeker, int64, func(), error) {
	if rs, ok := r.(io.ReadSeeker); ok && size >= 0 {
		// Check the length now: a short body must fail, not upload short.
		cur, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := rs.Seek(0, io.SeekEnd)
			if err == nil {
				if _, err := rs.Seek(cur, io.SeekStart); err != nil {
					return nil, 0, nil, err
				}
				if end-cur != size {
					return nil, 0, nil, fmt.Errorf("%w: body of %d bytes, expected %d", store.ErrInvalid, end-cur, size)
				}
				return rs, size, func() {}, nil
			}
		}
	}
	f, err := os.CreateTemp("", "sandscan-s3-*")
	if err != nil {
		return nil, 0, nil, err
	}
	os.Remove(f.Name()) // gone when closed
	cleanup := func() { f.Close() }
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	if size >= 0 && n != size {
		cleanup()
		return nil, 0, nil, fmt.Errorf("%w: body of %d bytes, expected %d", store.ErrInvalid, n, size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return f, n, cleanup, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements store.Store. Only opening the object is retried: a
// failure while reading it reaches the caller, who can Get again.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return nil, store.Info{}, err
	}
	var (
		body io.ReadCloser
		st   minio.ObjectInfo
	)
	// One GET for body and info: minio.Object would Stat first and then
	// fail its read if the object was replaced in between.
	core := minio.Core{Client: s.c}
	err := retry(ctx, s.log, "get "+key, func() (err error) {
		body, st, _, err = core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
		return err
	})
	if err != nil {
		return nil, store.Info{}, mapErr(key, err)
	}
	st.Key = key
	return body, info(st), nil
}

func info(st minio.ObjectInfo) store.Info {
	return store.Info{Key: st.Key, Size: st.Size, Modified: st.LastModified.UTC()}
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return store.Info{}, err
	}
	var st minio.ObjectInfo
	err := retry(ctx, s.log, "stat "+key, func() (err error) {
		st, err = s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		return err
	})
	if err != nil {
		return store.Info{}, mapErr(key, err)
	}
	return info(st), nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]store.Info, error) {
	if err := store.ValidListArgs(prefix, after, limit); err != nil {
		return nil, err
	}
	var out []store.Info
	err := retry(ctx, s.log, "list "+prefix, func() error {
		out = out[:0]
		lctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops the lister once the page is full
		for obj := range s.c.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{
			Prefix: prefix, StartAfter: after, Recursive: true, MaxKeys: min(limit, 1000),
		}) {
			if obj.Err != nil {
				return obj.Err
			}
			out = append(out, info(obj))
			if len(out) == limit {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("s3: list %q: %w", prefix, err)
	}
	return out, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	err := retry(ctx, s.log, "delete "+key, func() error {
		return s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	})
	if err != nil {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}
