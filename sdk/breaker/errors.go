package breaker

import (
	"errors"
	"strings"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// ErrNotPermitted is matched, through errors.Is, by every error a breaker
// returns when it refuses a call.
var ErrNotPermitted = errors.New("circuit breaker: call not permitted")

// NotPermittedError is the error a breaker returns when it refuses a call:
// it is open and its retry policy says not yet, it is half-open and no
// probe may run, or it is forced open. It matches ErrNotPermitted with
// errors.Is; get it with errors.As:
//
//	var npe breaker.NotPermittedError
//	if errors.As(err, &npe) {
//		if s := npe.RetryAfterSeconds(); s > 0 { // 0: no estimate (half-open, forced open) or no wait left
//			w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
//		}
//	}
//
// A NotPermittedError is an immutable value: a breaker builds one per state
// (per open period for StateOpen) and hands copies of it to every refused
// caller, so rejecting allocates nothing and no caller can change what
// another sees. The zero NotPermittedError describes no breaker; its Error
// returns ErrNotPermitted's message.
type NotPermittedError struct {
	r *rejection
}

// rejection is what a NotPermittedError describes; never changed once built.
type rejection struct {
	name    string
	key     string
	state   sdk.State
	retryAt time.Time
	cause   error // the caller's context error, when it gave up waiting
}

func newNotPermitted(name, key string, state sdk.State, retryAt time.Time) NotPermittedError {
	return NotPermittedError{r: &rejection{name: name, key: key, state: state, retryAt: retryAt}}
}

// Name returns the name of the breaker that refused the call.
func (e NotPermittedError) Name() string {
	if e.r == nil {
		return ""
	}
	return e.r.name
}

// Key returns the key, within its Group, of the breaker that refused the
// call; "" for a breaker built by New.
func (e NotPermittedError) Key() string {
	if e.r == nil {
		return ""
	}
	return e.r.key
}

// State returns the state that refused the call: StateOpen, StateHalfOpen
// or StateForcedOpen.
func (e NotPermittedError) State() sdk.State {
	if e.r == nil {
		return sdk.StateOpen
	}
	return e.r.state
}

// RetryAt returns when an open breaker's retry policy expects to let a call
// through, without jitter; the zero time when there is no estimate (Never,
// RetryFunc, half-open, forced open).
func (e NotPermittedError) RetryAt() time.Time {
	if e.r == nil {
		return time.Time{}
	}
	return e.r.retryAt
}

// Error returns fluxgate's message: "circuit breaker is open", "circuit
// breaker is half-open, not executing" or "circuit breaker is forced open".
func (e NotPermittedError) Error() string {
	if e.r == nil {
		return ErrNotPermitted.Error()
	}
	switch e.r.state {
	case sdk.StateOpen:
		return "circuit breaker is open"
	case sdk.StateHalfOpen:
		return "circuit breaker is half-open, not executing"
	case sdk.StateForcedOpen:
		return "circuit breaker is forced open"
	}
	return "circuit breaker is " + e.r.state.String() + ", not executing"
}

// Is reports whether target is ErrNotPermitted.
func (e NotPermittedError) Is(target error) bool { return target == ErrNotPermitted }

// Unwrap returns the context error of a caller that gave up waiting for a
// half-open slot (so errors.Is(err, context.DeadlineExceeded) holds), and
// nil otherwise.
func (e NotPermittedError) Unwrap() error {
	if e.r == nil {
		return nil
	}
	return e.r.cause
}

// RetryAfter returns how long until RetryAt, or zero when RetryAt has
// passed or is unknown.
func (e NotPermittedError) RetryAfter() time.Duration {
	at := e.RetryAt()
	if at.IsZero() {
		return 0
	}
	return max(time.Until(at), 0)
}

// RetryAfterSeconds returns RetryAfter in whole seconds, rounded up, as an
// HTTP Retry-After header or a gRPC retry hint wants it: 1 for an 800 ms
// wait, never 0 while RetryAt is ahead. It returns 0 when RetryAt has passed
// or is unknown.
func (e NotPermittedError) RetryAfterSeconds() int64 {
	d := e.RetryAfter()
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// ErrorType returns a low-cardinality name for telemetry (the error.type
// attribute): "circuit_breaker_open", "circuit_breaker_half_open" or
// "circuit_breaker_forced_open".
func (e NotPermittedError) ErrorType() string {
	switch s := e.State(); s {
	case sdk.StateOpen:
		return "circuit_breaker_open"
	case sdk.StateHalfOpen:
		return "circuit_breaker_half_open"
	case sdk.StateForcedOpen:
		return "circuit_breaker_forced_open"
	default:
		return "circuit_breaker_" + s.String()
	}
}

// ConfigError is returned by New when the configuration is invalid. It
// lists every problem found, not just the first.
type ConfigError struct {
	// Name is the breaker's name as given to New.
	Name string
	// Problems holds one error per invalid part, with fluxgate's message.
	Problems []error
}

// Error lists the problems, separated by "; ".
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("breaker: invalid configuration")
	if e.Name != "" {
		b.WriteString(" for " + `"` + e.Name + `"`)
	}
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.Is and errors.As look into them.
func (e *ConfigError) Unwrap() []error { return e.Problems }
