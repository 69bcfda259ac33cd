package worker

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/store"
)

// errPermanent marks failures of the job itself that no retry can fix:
// a stored archive that is missing or not the digest it is filed under, a
// run of another image, a request the worker refuses.
var errPermanent = errors.New("worker")

// errRegistry marks a failed pull, which permanent judges by its cause.
var errRegistry = errors.New("registry")

// permanent reports whether err fails the job at once rather than
// letting the queue deliver it again.
func permanent(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// A shutdown or a lost lease, not the job's fault.
		return false
	case queue.IsPermanent(err), errors.Is(err, errPermanent), errors.Is(err, analysis.ErrInvalid):
		return true
	case errors.Is(err, errRegistry):
		return !transientNetwork(err)
	case errors.Is(err, sandbox.ErrSandbox):
		return false
	case errors.Is(err, sandbox.ErrImage):
		// A malformed archive or an image for another platform.
		return true
	case errors.Is(err, store.ErrInvalid):
		// A key built from the job's digest or id was refused.
		return true
	}
	return false
}

// transientNetwork reports a failure a registry may recover from: it was
// unreachable, reset the connection, or answered 5xx or 429.
func transientNetwork(err error) bool {
	var status remoteerrors.ErrUnexpectedStatus
	if errors.As(err, &status) {
		return status.StatusCode >= 500 || status.StatusCode == 429
	}
	var nerr net.Error
	var operr *net.OpError
	return errors.As(err, &operr) || errors.As(err, &nerr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
