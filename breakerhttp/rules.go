package breakerhttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Labels of the ready rules: the circuit_breaker.rule that telemetry shows
// for the errors they count. A ready rule that ignores an error names no
// rule, since it did not match it: wrap it in [tracker.Named] to label
// every verdict.
const (
	RuleServerError     = "http_5xx"      // ServerErrors: a 5xx response
	RuleTooManyRequests = "http_429"      // TooManyRequests: a 429 response
	RuleNetworkError    = "network_error" // NetworkErrors: a transport failure other than a timeout
	RuleTimeout         = "timeout"       // Timeouts: a deadline or I/O timeout
)

var (
	serverErrors    = labelled(RuleServerError, isServerError)
	tooManyRequests = labelled(RuleTooManyRequests, isTooManyRequests)
	networkErrors   = labelled(RuleNetworkError, isNetworkError)
	timeouts        = labelled(RuleTimeout, isTimeout)
	defaultTracker  = tracker.Or(serverErrors, timeouts, networkErrors)
)

// labelled returns the ready rule that counts the errors f matches, naming
// label on their verdicts and no rule on the others: an ignored error names
// a rule only when a rule matched it, in this package as in tracker and
// breakergrpc.
func labelled(label string, f func(context.Context, error) bool) *tracker.Rule {
	return tracker.Named(label, tracker.Custom(f))
}

// ServerErrors returns a rule that counts a [StatusError] with a 5xx code:
// the server failed, or a proxy in front of it did. Its label is
// [RuleServerError].
func ServerErrors() *tracker.Rule { return serverErrors }

// TooManyRequests returns a rule that counts a [StatusError] with code 429.
// Its label is [RuleTooManyRequests]. [DefaultTracker] does not include it:
// add it when a dependency's rate limit should stop every caller in the
// process, not only the one that was told to slow down.
func TooManyRequests() *tracker.Rule { return tooManyRequests }

// NetworkErrors returns a rule that counts transport failures that are not
// timeouts, on HTTP/1.1 and HTTP/2 alike:
//
//   - errors that are a [net.Error]: a refused or reset connection, a
//     failed DNS lookup, a failed TLS handshake;
//   - connections closed before the response or its body was complete
//     ([io.EOF], [io.ErrUnexpectedEOF]), as when an HTTP/1.1 server's
//     handler panics or aborts;
//   - on a server, [http.ErrAbortHandler]: the handler aborted its
//     response, as [httputil.ReverseProxy] does when its upstream fails in
//     the middle of the body (when the client went away instead, the
//     request's context is canceled and the breaker ignores the call);
//   - HTTP/2 stream and connection failures: a stream the server reset
//     (RST_STREAM, as when an HTTP/2 server's handler panics or aborts), a
//     GOAWAY that ended the request, a connection lost or broken by a
//     protocol error. net/http's HTTP/2 errors are unexported types and
//     errors.New values, none of them a net.Error: the rule knows the
//     types by their package and name (net/http's http2StreamError,
//     http2ConnectionError and http2GoAwayError, and the StreamError,
//     ConnectionError and GoAwayError of golang.org/x/net/http2) and the
//     values by their message ("http2: client connection lost", "http2:
//     client conn is closed", "http2: client conn not usable", "http2:
//     client conn could not be established" and those that start with
//     "http2: Transport received ", a GOAWAY's).
//
// Errors matching [context.Canceled] (the caller gave up, and any reset
// that followed is its doing) and timeouts are not counted by this rule,
// which leaves timeouts to [Timeouts]. Its label is [RuleNetworkError].
func NetworkErrors() *tracker.Rule { return networkErrors }

// Timeouts returns a rule that counts errors matching
// [context.DeadlineExceeded] and [net.Error] values whose Timeout method
// reports true: the request's context deadline; an [http.Client] Timeout,
// before the response's headers and in the middle of the body (the
// [Transport] reports every failure of a request whose deadline has passed
// as matching context.DeadlineExceeded, even when net/http ended it
// through Request.Cancel with "net/http: request canceled");
// Transport.ResponseHeaderTimeout and Transport.TLSHandshakeTimeout; I/O
// timeouts. Its label is [RuleTimeout].
func Timeouts() *tracker.Rule { return timeouts }

// DefaultTracker returns the rule most HTTP clients want, to give to
// [breaker.WithTracker]:
//
//	tracker.Or(ServerErrors(), Timeouts(), NetworkErrors())
//
// It counts 5xx responses, timeouts and network errors, each under its own
// label, and ignores every other error: 4xx responses (the caller's
// mistake, not the server's failure) and errors that say nothing about the
// server, such as an unsupported URL scheme. An ignored error matched none
// of the three rules, so its verdict names none of their labels (see
// [tracker.Or]); wrap the rule in [tracker.Named] to give its counted
// errors one label.
//
// A 429 is ignored too: it is the server's answer to this caller's rate,
// given by a server that is up; opening the breaker would stop every
// caller in the process because one was told to slow down. Count it with
// tracker.Or([TooManyRequests](), DefaultTracker()).
//
// The result is an ordinary [tracker.Rule]: combine it with any other rule,
// for example DefaultTracker().And(tracker.Not(tracker.Is(errSkip))).
func DefaultTracker() *tracker.Rule { return defaultTracker }

func isServerError(_ context.Context, err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	return ok && se.code >= 500 && se.code <= 599
}

func isTooManyRequests(_ context.Context, err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	return ok && se.code == 429
}

func isTimeout(_ context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

func isNetworkError(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) || isTimeout(ctx, err) {
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, http.ErrAbortHandler) || isHTTP2Failure(err)
}
