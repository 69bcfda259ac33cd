package queue

import "errors"

// Error categories, tested with errors.Is; backends wrap them with detail.
var (
	ErrNotFound  = errors.New("queue: not found")
	ErrInvalid   = errors.New("queue: invalid")
	ErrConflict  = errors.New("queue: conflict")   // an id already used for another job
	ErrLeaseLost = errors.New("queue: lease lost") // the lease expired and the job went to another worker
	ErrClosed    = errors.New("queue: closed")
)

// Permanent marks err as one no retry can fix (a malformed image, say):
// Nack then fails the job at once instead of delivering it again.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, came from Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// MaxError bounds the error text kept in a status or a dead letter.
const MaxError = 4096

// ErrorText is cause's message cut to MaxError bytes.
func ErrorText(cause error) string {
	if cause == nil {
		return "nack without a cause"
	}
	s := cause.Error()
	if len(s) > MaxError {
		s = s[:MaxError]
	}
	return s
}
