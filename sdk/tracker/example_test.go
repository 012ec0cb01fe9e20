package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// StatusError is the error an HTTP client might return for a response with
// an unsuccessful status code (fluxgate's examples use httpx.HTTPStatusError).
type StatusError struct {
	Code int // an HTTP status code such as http.StatusServiceUnavailable
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code))
}

// statusCode returns the code of the first StatusError in err's chain.
func statusCode(err error) (int, bool) {
	se, ok := errors.AsType[*StatusError](err)
	if !ok {
		return 0, false
	}
	return se.Code, true
}

// Example errors.
var (
	errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	errIOTime  = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}
	errInvalid = errors.New("invalid argument")
)

// All counts every error as a failure. It is the breaker's default.
func ExampleAll() {
	t := tracker.All()

	ctx := context.Background()
	for _, err := range []error{errRefused, errInvalid, &StatusError{Code: http.StatusNotFound}} {
		fmt.Printf("%v: %v\n", err, t.Track(ctx, err).Decision)
	}
	// Output:
	// dial tcp: connection refused: counted
	// invalid argument: counted
	// 404 Not Found: counted
}

// Track only network errors as failures: a *net.OpError anywhere in the
// chain, or a deadline that ran out. Other errors are ignored by the
// breaker (they are still returned to the caller).
func ExampleTypeOf() {
	t := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))

	ctx := context.Background()
	for _, err := range []error{
		errRefused,
		fmt.Errorf("fetch quote: %w", errRefused),
		context.DeadlineExceeded,
		errInvalid,
	} {
		fmt.Printf("%v: %v\n", err, t.Track(ctx, err).Decision)
	}
	// Output:
	// dial tcp: connection refused: counted
	// fetch quote: dial tcp: connection refused: counted
	// context deadline exceeded: counted
	// invalid argument: ignored
}

// Only count 5xx server errors as failures. Client errors (4xx) are
// ignored.
func ExampleCustom() {
	isServerError := func(_ context.Context, err error) bool {
		code, ok := statusCode(err)
		return ok && code >= 500
	}
	t := tracker.Custom(isServerError)

	ctx := context.Background()
	for _, err := range []error{
		&StatusError{Code: http.StatusServiceUnavailable},
		&StatusError{Code: http.StatusInternalServerError},
		&StatusError{Code: http.StatusNotFound},
		errRefused,
	} {
		fmt.Printf("%v: %v\n", err, t.Track(ctx, err).Decision)
	}
	// Output:
	// 503 Service Unavailable: counted
	// 500 Internal Server Error: counted
	// 404 Not Found: ignored
	// dial tcp: connection refused: ignored
}

// A Custom func receives the call's context: here a request value marks
// calls whose failures must not count (a health check, say).
func ExampleCustom_context() {
	type probeKey struct{}
	isProbe := tracker.Custom(func(ctx context.Context, _ error) bool {
		probe, _ := ctx.Value(probeKey{}).(bool)
		return probe
	})
	t := tracker.Named("not_probe", tracker.All().And(isProbe.Not()))

	ctx := context.Background()
	probeCtx := context.WithValue(ctx, probeKey{}, true)
	fmt.Println("request:", t.Track(ctx, errRefused).Decision)
	fmt.Println("probe:", t.Track(probeCtx, errRefused).Decision)
	// Output:
	// request: counted
	// probe: ignored
}

// Track network errors that also mention a timeout.
func ExampleAnd() {
	t := tracker.TypeOf[*net.OpError]().And(tracker.Custom(func(_ context.Context, err error) bool {
		return strings.Contains(strings.ToLower(err.Error()), "timeout")
	}))

	ctx := context.Background()
	for _, err := range []error{errIOTime, errRefused, errors.New("timeout")} {
		fmt.Printf("%v: %v\n", err, t.Track(ctx, err).Decision)
	}
	// Output:
	// read tcp: i/o timeout: counted
	// dial tcp: connection refused: ignored
	// timeout: ignored
}

// Track either a *net.OpError or a *net.DNSError. The method form and the
// function form build the same rule; with a type parameter TypeOf takes one
// type, so several types are combined with Or.
func ExampleOr() {
	t := tracker.TypeOf[*net.OpError]().Or(tracker.TypeOf[*net.DNSError]())
	same := tracker.Or(tracker.TypeOf[*net.OpError](), tracker.TypeOf[*net.DNSError]())

	ctx := context.Background()
	for _, err := range []error{
		errRefused,
		&net.DNSError{Err: "no such host", Name: "api.example.com"},
		errInvalid,
	} {
		fmt.Printf("%v: %v %v\n", err, t.Track(ctx, err).Decision, same.Track(ctx, err).Decision)
	}
	fmt.Println(t)
	// Output:
	// dial tcp: connection refused: counted counted
	// lookup api.example.com: no such host: counted counted
	// invalid argument: ignored ignored
	// type_of:*net.OpError | type_of:*net.DNSError
}

// Ignore 4xx client errors, but track all other status errors (5xx).
func ExampleNot() {
	is4xx := tracker.Custom(func(_ context.Context, err error) bool {
		code, ok := statusCode(err)
		return ok && code >= 400 && code < 500
	})
	t := tracker.TypeOf[*StatusError]().And(tracker.Not(is4xx))

	ctx := context.Background()
	for _, code := range []int{http.StatusBadGateway, http.StatusTooManyRequests, http.StatusNotFound} {
		err := &StatusError{Code: code}
		fmt.Printf("%v: %v\n", err, t.Track(ctx, err).Decision)
	}
	fmt.Println(t)
	// Output:
	// 502 Bad Gateway: counted
	// 429 Too Many Requests: ignored
	// 404 Not Found: ignored
	// type_of:*tracker_test.StatusError & !custom
}

// Count an error as a failure if it is a network error or a 5xx server
// error, and not a 401 Unauthorized (which is handled differently).
func Example_complex() {
	network := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))
	serverErrors := tracker.Named("http_5xx", tracker.Custom(func(_ context.Context, err error) bool {
		code, ok := statusCode(err)
		return ok && code >= 500
	}))
	isAuthError := tracker.Named("http_401", tracker.Custom(func(_ context.Context, err error) bool {
		code, ok := statusCode(err)
		return ok && code == http.StatusUnauthorized
	}))

	t := network.Or(serverErrors).And(isAuthError.Not())

	ctx := context.Background()
	for _, err := range []error{
		errRefused,
		&StatusError{Code: http.StatusServiceUnavailable},
		&StatusError{Code: http.StatusUnauthorized},
		&StatusError{Code: http.StatusBadRequest},
		fmt.Errorf("%w, then %w", errRefused, &StatusError{Code: http.StatusUnauthorized}), // the exclusion matches
	} {
		v := t.Track(ctx, err)
		rule := v.Rule
		if rule == "" {
			rule = "no rule matched"
		}
		fmt.Printf("%v: %v (%s)\n", err, v.Decision, rule)
	}
	fmt.Println(t)
	// Output:
	// dial tcp: connection refused: counted (type_of:*net.OpError)
	// 503 Service Unavailable: counted (http_5xx)
	// 401 Unauthorized: ignored (no rule matched)
	// 400 Bad Request: ignored (no rule matched)
	// dial tcp: connection refused, then 401 Unauthorized: ignored (http_401)
	// (type_of:*net.OpError | is | http_5xx) & !http_401
}

// Named gives a rule the label that its verdicts report, so that telemetry
// shows "network" or "http_5xx" as the rule that decided rather than the
// leaf inside. An error that no rule inside matched names no rule, named
// or not.
func ExampleNamed() {
	network := tracker.Named("network", tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded)))
	serverErrors := tracker.Named("http_5xx", tracker.Custom(func(_ context.Context, err error) bool {
		code, ok := statusCode(err)
		return ok && code >= 500
	}))
	t := network.Or(serverErrors)
	transient := tracker.Named("transient", t)

	ctx := context.Background()
	for _, err := range []error{
		context.DeadlineExceeded,
		&StatusError{Code: http.StatusGatewayTimeout},
		&StatusError{Code: http.StatusConflict},
	} {
		v, w := t.Track(ctx, err), transient.Track(ctx, err)
		fmt.Printf("%v: %v rule=%q; named: %v rule=%q\n", err, v.Decision, v.Rule, w.Decision, w.Rule)
	}
	fmt.Println(t)
	// Output:
	// context deadline exceeded: counted rule="network"; named: counted rule="transient"
	// 504 Gateway Timeout: counted rule="http_5xx"; named: counted rule="transient"
	// 409 Conflict: ignored rule=""; named: ignored rule=""
	// network | http_5xx
}

// Track returns the decision and the label of the rule that settled it: here
// the leaf that matched the error, and no rule when none matched. A nil
// error is not classified.
func ExampleRule_Track() {
	t := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))

	ctx := context.Background()
	for _, err := range []error{errRefused, context.DeadlineExceeded, errInvalid, nil} {
		v := t.Track(ctx, err)
		fmt.Printf("%v: decision=%q rule=%q counted=%v\n", err, v.Decision, v.Rule, v.Counted())
	}
	// Output:
	// dial tcp: connection refused: decision="counted" rule="type_of:*net.OpError" counted=true
	// context deadline exceeded: decision="counted" rule="is" counted=true
	// invalid argument: decision="ignored" rule="" counted=false
	// <nil>: decision="" rule="" counted=false
}

// Constructors never panic; Err reports every problem of a rule at once.
func ExampleRule_Err() {
	t := tracker.And(tracker.Is(), tracker.Custom(nil), tracker.Named("", tracker.All()))
	fmt.Println(t.Err())
	// Output:
	// tracker: Is requires at least one target error
	// tracker: Custom requires a non-nil func
	// tracker: Named requires a non-empty label
}
