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
// it is open and its retry policy says not yet, it is half-open and its
// permit refused the probe, or it is forced open. It matches
// ErrNotPermitted with errors.Is.
//
// A breaker reuses one NotPermittedError per state (per open period for
// StateOpen), so rejecting allocates nothing; treat it as read-only.
type NotPermittedError struct {
	// Name is the breaker's name.
	Name string
	// State is the state that refused the call: StateOpen, StateHalfOpen
	// or StateForcedOpen.
	State sdk.State
	// RetryAt is when an open breaker's retry policy expects to let a call
	// through, without jitter; zero when there is no estimate (Never,
	// RetryFunc, half-open, forced open).
	RetryAt time.Time
}

// Error returns fluxgate's message: "circuit breaker is open", "circuit
// breaker is half-open, not executing" or "circuit breaker is forced open".
func (e *NotPermittedError) Error() string {
	switch e.State {
	case sdk.StateOpen:
		return "circuit breaker is open"
	case sdk.StateHalfOpen:
		return "circuit breaker is half-open, not executing"
	case sdk.StateForcedOpen:
		return "circuit breaker is forced open"
	}
	return "circuit breaker is " + e.State.String() + ", not executing"
}

// Is reports whether target is ErrNotPermitted.
func (e *NotPermittedError) Is(target error) bool { return target == ErrNotPermitted }

// RetryAfter returns how long until RetryAt, or zero when RetryAt has
// passed or is unknown. It suits an HTTP Retry-After header.
func (e *NotPermittedError) RetryAfter() time.Duration {
	if e.RetryAt.IsZero() {
		return 0
	}
	return max(time.Until(e.RetryAt), 0)
}

// RetryAfterSeconds returns RetryAfter in whole seconds, rounded up, as an
// HTTP Retry-After header or a gRPC retry hint wants it: 1 for an 800 ms
// wait, never 0 while RetryAt is ahead. It returns 0 when RetryAt has passed
// or is unknown.
func (e *NotPermittedError) RetryAfterSeconds() int64 {
	d := e.RetryAfter()
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// ErrorType returns a low-cardinality name for telemetry (the error.type
// attribute): "circuit_breaker_open", "circuit_breaker_half_open" or
// "circuit_breaker_forced_open".
func (e *NotPermittedError) ErrorType() string { return "circuit_breaker_" + e.State.String() }

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
