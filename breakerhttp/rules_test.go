package breakerhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// statusErr returns the *StatusError the transport reports for code.
func statusErr(t *testing.T, code int) error {
	t.Helper()
	var got error
	b, err := breaker.New("status", breaker.WithHooks(sdk.Hooks{
		CallEnd: func(_ context.Context, e sdk.CallEnd) { got = e.Err },
	}))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	require.NoError(t, err)
	resp, err := breakerhttp.NewTransport(newCanned(code, "x"), b).RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return got
}

func TestStatusError(t *testing.T) {
	for _, code := range []int{400, 404, 429, 500, 503, 599, 600, 999} {
		err := statusErr(t, code)
		se, ok := errors.AsType[*breakerhttp.StatusError](err)
		if !assert.True(t, ok, "%d: %T", code, err) {
			continue
		}
		assert.Equal(t, code, se.StatusCode())
		assert.Equal(t, fmt.Sprint(code), se.ErrorType())
	}
	assert.Equal(t, "breakerhttp: status 503 Service Unavailable", statusErr(t, 503).Error())
	assert.Equal(t, "breakerhttp: status 999", statusErr(t, 999).Error())
	assert.Same(t, statusErr(t, 503), statusErr(t, 503), "codes 400 to 599 are shared values")
	assert.NoError(t, statusErr(t, 399))
}

func TestReadyRules(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	ioTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	dns := &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}
	tests := []struct {
		name string
		err  error
		// the decisions of ServerErrors, TooManyRequests, NetworkErrors,
		// Timeouts, and DefaultTracker with its rule
		s5xx, s429, network, timeout bool
		defaultRule                  string
	}{
		{"500", statusErr(t, 500), true, false, false, false, breakerhttp.RuleServerError},
		{"503 wrapped", fmt.Errorf("call: %w", statusErr(t, 503)), true, false, false, false, breakerhttp.RuleServerError},
		{"404", statusErr(t, 404), false, false, false, false, ""},
		{"429", statusErr(t, 429), false, true, false, false, ""},
		{"600", statusErr(t, 600), false, false, false, false, ""},
		{"connection refused", refused, false, false, true, false, breakerhttp.RuleNetworkError},
		{"in a url.Error", &url.Error{Op: "Get", URL: "http://x", Err: refused}, false, false, true, false, breakerhttp.RuleNetworkError},
		{"DNS", dns, false, false, true, false, breakerhttp.RuleNetworkError},
		{"EOF before the response", fmt.Errorf("transport: %w", io.EOF), false, false, true, false, breakerhttp.RuleNetworkError},
		{"truncated body", io.ErrUnexpectedEOF, false, false, true, false, breakerhttp.RuleNetworkError},
		{"deadline", context.DeadlineExceeded, false, false, false, true, breakerhttp.RuleTimeout},
		{"I/O timeout", ioTimeout, false, false, false, true, breakerhttp.RuleTimeout},
		{"handler aborted", http.ErrAbortHandler, false, false, true, false, breakerhttp.RuleNetworkError},
		{"HTTP/2 connection lost", errors.New("http2: client connection lost"), false, false, true, false, breakerhttp.RuleNetworkError},
		{"HTTP/2 GOAWAY", fmt.Errorf("http2: Transport received GOAWAY from server ErrCode:%v", "ENHANCE_YOUR_CALM"), false, false, true, false, breakerhttp.RuleNetworkError},
		{"HTTP/2 GOAWAY, wrapped", fmt.Errorf("round trip: %w", errors.New("http2: Transport received Server's graceful shutdown GOAWAY")), false, false, true, false, breakerhttp.RuleNetworkError},
		{"HTTP/2 caller's mistake", errors.New("http2: request body larger than specified content length"), false, false, false, false, ""},
		{"canceled", context.Canceled, false, false, false, false, ""},
		{"other", errors.New("unsupported protocol scheme"), false, false, false, false, ""},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.s5xx, breakerhttp.ServerErrors().Track(ctx, tt.err).Counted(), "ServerErrors")
			assert.Equal(t, tt.s429, breakerhttp.TooManyRequests().Track(ctx, tt.err).Counted(), "TooManyRequests")
			assert.Equal(t, tt.network, breakerhttp.NetworkErrors().Track(ctx, tt.err).Counted(), "NetworkErrors")
			assert.Equal(t, tt.timeout, breakerhttp.Timeouts().Track(ctx, tt.err).Counted(), "Timeouts")
			v := breakerhttp.DefaultTracker().Track(ctx, tt.err)
			assert.Equal(t, tt.defaultRule != "", v.Counted(), "DefaultTracker")
			if v.Counted() {
				assert.Equal(t, tt.defaultRule, v.Rule, "the rule that counted it")
			} else {
				assert.Equal(t, unmatchedOrRule(breakerhttp.RuleNetworkError), v.Rule,
					"an ignored error gets what tracker.Or gives when no operand matched")
			}
		})
	}
}

// unmatchedOrRule returns the label package tracker gives the verdict of
// an Or when none of its operands counted the error, for an Or whose last
// operand is labelled last: no label, or (in earlier versions of the
// package) the last operand's.
func unmatchedOrRule(last string) string {
	never := tracker.Custom(func(context.Context, error) bool { return false })
	if tracker.Or(tracker.Named("first", never), tracker.Named("last", never)).Track(context.Background(), io.EOF).Rule == "" {
		return ""
	}
	return last
}

func TestReadyRulesCompose(t *testing.T) {
	ctx := context.Background()
	errSkip := errors.New("skip")
	tests := []struct {
		name string
		t    tracker.Tracker
		err  error
		want sdk.Decision
		rule string
	}{
		{"429 first", tracker.Or(breakerhttp.TooManyRequests(), breakerhttp.DefaultTracker()), statusErr(t, 429), sdk.DecisionCounted, breakerhttp.RuleTooManyRequests},
		{"429 last", breakerhttp.DefaultTracker().Or(breakerhttp.TooManyRequests()), statusErr(t, 429), sdk.DecisionCounted, breakerhttp.RuleTooManyRequests},
		{"5xx still counted", breakerhttp.DefaultTracker().Or(breakerhttp.TooManyRequests()), statusErr(t, 502), sdk.DecisionCounted, breakerhttp.RuleServerError},
		{"excluded", breakerhttp.DefaultTracker().And(tracker.Not(tracker.Is(errSkip))), errors.Join(errSkip, io.EOF), sdk.DecisionIgnored, "is"},
		{"renamed", tracker.Named("upstream", breakerhttp.ServerErrors()), statusErr(t, 500), sdk.DecisionCounted, "upstream"},
		// A ready rule names its label only on the errors it matched.
		{"5xx only, no timeouts", breakerhttp.ServerErrors(), context.DeadlineExceeded, sdk.DecisionIgnored, ""},
		{"429 rule, a 503", breakerhttp.TooManyRequests(), statusErr(t, 503), sdk.DecisionIgnored, ""},
		{"network rule, a deadline", breakerhttp.NetworkErrors(), context.DeadlineExceeded, sdk.DecisionIgnored, ""},
		{"timeout rule, a 404", breakerhttp.Timeouts(), statusErr(t, 404), sdk.DecisionIgnored, ""},
		{"named around the whole, nothing matched", tracker.Named("upstream", breakerhttp.DefaultTracker()), statusErr(t, 404), sdk.DecisionIgnored, ""},
		{"named around the whole, matched", tracker.Named("upstream", breakerhttp.DefaultTracker()), statusErr(t, 503), sdk.DecisionCounted, "upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NoError(t, tracker.Validate(tt.t))
			v := tt.t.Track(ctx, tt.err)
			assert.Equal(t, tt.want, v.Decision)
			assert.Equal(t, tt.rule, v.Rule)
		})
	}
	for _, code := range []int{500, 404} { // 404 goes through every rule, the HTTP/2 ones included
		se := statusErr(t, code)
		assert.Zero(t, testing.AllocsPerRun(100, func() { breakerhttp.DefaultTracker().Track(ctx, se) }),
			"classifying a status error allocates nothing")
	}
	eof := fmt.Errorf("read: %w", io.ErrUnexpectedEOF)
	assert.Zero(t, testing.AllocsPerRun(100, func() { breakerhttp.DefaultTracker().Track(ctx, eof) }))
}
