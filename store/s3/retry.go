package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// Backoff between retries: doubling from retryMin up to retryMax, with jitter.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// transient reports whether err may go away on its own: the service is
// unreachable, restarting, overloaded or failed internally.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch er.Code {
		case "SlowDown", "SlowDownRead", "SlowDownWrite", "ServiceUnavailable", "InternalError",
			"RequestTimeout", "XMinioServerNotInitialized", "XMinioStorageFull", "OperationTimedOut":
			return true
		}
		return er.StatusCode >= 500
	}
	// A certificate will not fix itself: fail now, not at the deadline.
	var (
		certErr *tls.CertificateVerificationError
		authErr x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &authErr) || errors.As(err, &hostErr) || errors.As(err, &invErr) {
		return false
	}
	var (
		opErr *net.OpError
		ne    net.Error
	)
	return errors.As(err, &opErr) || errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retry runs op until it succeeds, fails for good, or ctx ends.
func retry(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	wait := retryMin
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !transient(err) {
			return err
		}
		if attempt == 1 || attempt%10 == 0 {
			log.WarnContext(ctx, "s3 unavailable, retrying", "op", what, "attempt", attempt, "error", err)
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(d):
		}
		wait = min(2*wait, retryMax)
	}
}
