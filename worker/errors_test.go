package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/store"
)

func TestPermanent(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"bad request", fmt.Errorf("x: %w", analysis.ErrInvalid), true},
		{"marked", queue.Permanent(errors.New("x")), true},
		{"worker refuses", fmt.Errorf("%w: no stored image", errPermanent), true},
		{"bad archive", fmt.Errorf("%w: malformed", sandbox.ErrImage), true},
		{"sandbox failure", fmt.Errorf("%w: create", sandbox.ErrSandbox), false},
		{"store outage", fmt.Errorf("store: %w", refused), false},
		{"bad key", fmt.Errorf("%w: key", store.ErrInvalid), true},
		{"shutdown", fmt.Errorf("run: %w", context.Canceled), false},
		{"cancelled while a bad image", fmt.Errorf("%w: %w", sandbox.ErrImage, context.Canceled), false},
		{"registry 404", fmt.Errorf("%w: %w: not found", errRegistry, sandbox.ErrImage), true},
		{"registry refused", fmt.Errorf("%w: %w: %w", errRegistry, sandbox.ErrImage, refused), false},
		{"registry 503", fmt.Errorf("%w: %w", errRegistry, remoteerrors.ErrUnexpectedStatus{StatusCode: 503}), false},
		{"registry 429", fmt.Errorf("%w: %w", errRegistry, remoteerrors.ErrUnexpectedStatus{StatusCode: 429}), false},
		{"registry 401", fmt.Errorf("%w: %w", errRegistry, remoteerrors.ErrUnexpectedStatus{StatusCode: 401}), true},
		{"unknown", errors.New("something"), false},
	}
	for _, tt := range tests {
		if got := permanent(tt.err); got != tt.want {
			t.Errorf("%s: permanent(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
