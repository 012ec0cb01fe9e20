package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// valueError stands in for Python's ValueError: an error type of its own.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// statusError stands in for httpx.HTTPStatusError: an error with an
// attribute (the status code) a Custom rule can inspect.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("http status %d", e.code) }

// Fixtures.
var (
	errPlain   = errors.New("something went wrong")
	errValue   = &valueError{msg: "invalid value"}
	errOp      = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	errTimeout = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}
	err500     = &statusError{code: 500}
	err503     = &statusError{code: 503}
	err404     = &statusError{code: 404}
	err401     = &statusError{code: 401}
)

// Verdict shorthands.
func counted(rule string) tracker.Verdict {
	return tracker.Verdict{Decision: sdk.DecisionCounted, Rule: rule}
}

func ignored(rule string) tracker.Verdict {
	return tracker.Verdict{Decision: sdk.DecisionIgnored, Rule: rule}
}

// Labels of the fixture rules.
const (
	labelValue  = "type_of:*tracker_test.valueError"
	labelOp     = "type_of:*net.OpError"
	labelStatus = "type_of:*tracker_test.statusError"
)

// statusIs returns a Custom rule that counts statusErrors whose code
// satisfies ok.
func statusIs(ok func(code int) bool) *tracker.Rule {
	return tracker.Custom(func(_ context.Context, err error) bool {
		se, found := errors.AsType[*statusError](err)
		return found && ok(se.code)
	})
}

func is5xx(code int) bool { return code >= 500 }
func is4xx(code int) bool { return code >= 400 && code < 500 }
func is401(code int) bool { return code == 401 }

// messageContains returns a Custom rule that counts errors whose message
// contains s, ignoring case.
func messageContains(s string) *tracker.Rule {
	return tracker.Custom(func(_ context.Context, err error) bool {
		return strings.Contains(strings.ToLower(err.Error()), s)
	})
}

// recorder builds Custom rules that record the order in which they are
// called.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

// rule returns a rule named name that records its call and returns result.
func (r *recorder) rule(name string, result bool) *tracker.Rule {
	return tracker.Named(name, tracker.Custom(func(context.Context, error) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, name)
		return result
	}))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

// foreign is a Tracker that is not a *tracker.Rule.
type foreign struct{ v tracker.Verdict }

func (f foreign) Track(_ context.Context, err error) tracker.Verdict {
	if err == nil {
		return tracker.Verdict{}
	}
	return f.v
}

// stringer is a foreign Tracker with a String method.
type stringer struct{ foreign }

func (stringer) String() string { return "my_tracker" }
