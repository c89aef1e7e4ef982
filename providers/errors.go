package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sloguard/sloguard/internal/httpclient"
)

// Kinds of outage every backend marks its errors with, so that callers
// and the conformance suite tell them apart with errors.Is, never by
// their text. None of them is ErrNoData or ErrBadQuery: the policies'
// on_error decides.
var (
	// ErrAuth: the backend refused the credentials (401, 403, or no
	// token from the identity provider).
	ErrAuth = errors.New("authentication failed")
	// ErrTimeout: the provider's own timeout (retries included) ran out
	// before an answer. The caller's deadline is not one.
	ErrTimeout = errors.New("timeout")
	// ErrRateLimited: the backend kept answering 429, or asked for a wait
	// past the deadline.
	ErrRateLimited = httpclient.ErrRateLimited
	// ErrUnavailable: the backend failed (5xx after the retries) or could
	// not be reached.
	ErrUnavailable = httpclient.ErrUnavailable
)

// marked is an error with a kind beside its cause: its text is the
// cause's, and errors.Is finds both.
type marked struct {
	kind, err error
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }

// Mark gives err a kind (ErrAuth, ErrTimeout, …) without changing its
// text; nil stays nil.
func Mark(kind, err error) error {
	if err == nil || kind == nil || errors.Is(err, kind) {
		return err
	}
	return &marked{kind: kind, err: err}
}

// StatusKind is the kind of outage an HTTP status says: ErrAuth for 401
// and 403, ErrRateLimited for 429, ErrUnavailable for 5xx; nil otherwise.
func StatusKind(code int) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrAuth
	case code == http.StatusTooManyRequests:
		return ErrRateLimited
	case code >= 500:
		return ErrUnavailable
	}
	return nil
}

// TransportError classifies a request that got no answer: the provider's
// own timeout (ctx, bounded by timeout) as ErrTimeout, naming it; the
// caller's deadline or cancellation (parent) as it is; anything else
// (refused, reset, a name that does not resolve) as ErrUnavailable.
func TransportError(parent, ctx context.Context, timeout time.Duration, err error) error {
	switch {
	case parent.Err() != nil:
		return err
	case ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())):
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", err, context.DeadlineExceeded)
		}
		return Mark(ErrTimeout, fmt.Errorf("no answer within the %s timeout (retries included): %w", timeout, err))
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrUnavailable):
		return err
	}
	var tl *httpclient.TooLargeError
	if errors.As(err, &tl) {
		return err
	}
	return Mark(ErrUnavailable, err)
}
