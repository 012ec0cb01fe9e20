package breakerhttp

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// failure returns the outcome the breaker sees for err, the error of req's
// round trip or of reading its response body. net/http ends a request
// whose http.Client Timeout passes in one of two ways, racing each other:
// through the request's context, whose deadline it set, or by closing the
// deprecated Request.Cancel channel, which makes the Transport fail with
// "net/http: request canceled". So the error alone does not say why the
// request ended; the request does:
//
//   - the request's context ended by its deadline, or has a deadline that
//     has passed (its own timer may not have fired yet): the outcome
//     matches [context.DeadlineExceeded], whatever err is;
//   - the request's context was canceled: err as it is (the breaker
//     ignores it as the caller's cancellation);
//   - the Request.Cancel channel is closed while no deadline has passed:
//     the caller canceled through it, and the outcome matches
//     [context.Canceled];
//   - otherwise err as it is.
//
// It runs only for errors, never on the way of a response.
func failure(req *http.Request, err error) error {
	ctx := req.Context()
	switch ctx.Err() {
	case context.DeadlineExceeded:
		return deadline(err)
	case context.Canceled:
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return deadline(err)
	}
	if canceled(req) && !errors.Is(err, context.Canceled) {
		return &canceledError{err}
	}
	return err
}

func deadline(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &deadlineError{err}
}

// canceled reports whether req's deprecated Cancel channel is closed.
func canceled(req *http.Request) bool {
	//lint:ignore SA1019 http.Client still closes Request.Cancel for a Timeout, and callers may.
	ch := req.Cancel
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// deadlineError is the outcome of a request that failed because its
// deadline passed: it matches context.DeadlineExceeded and wraps the error
// the request failed with.
type deadlineError struct{ err error }

func (e *deadlineError) Error() string { return e.err.Error() + " (request deadline exceeded)" }
func (e *deadlineError) Unwrap() error { return e.err }
func (e *deadlineError) Timeout() bool { return true }

// Is reports whether target is context.DeadlineExceeded.
func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// canceledError is the outcome of a request that its caller canceled
// through Request.Cancel: it matches context.Canceled and wraps the error
// the request failed with.
type canceledError struct{ err error }

func (e *canceledError) Error() string { return e.err.Error() + " (request canceled by the caller)" }
func (e *canceledError) Unwrap() error { return e.err }

// Is reports whether target is context.Canceled.
func (e *canceledError) Is(target error) bool { return target == context.Canceled }
