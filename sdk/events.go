package sdk

import "time"

// CallStart describes a call as it reaches a breaker, after admission was
// decided.
type CallStart struct {
	// Name is the breaker's name.
	Name string
	// Key is the breaker's key within its breaker.Group; empty for a
	// breaker built by breaker.New.
	Key string
	// State is the state in which the call was admitted or rejected. A call
	// that arrived while open and was let through by the retry policy is
	// admitted in StateHalfOpen (its StateChange for open→half_open follows
	// its CallStart).
	State State
	// Rejected reports whether the breaker refused the call; CallEnd follows
	// at once with OutcomeRejected.
	Rejected bool
}

// CallEnd describes a call after it finished.
type CallEnd struct {
	// Name is the breaker's name.
	Name string
	// Key is the breaker's key within its breaker.Group; empty for a
	// breaker built by breaker.New.
	Key string
	// State is the state in which the call was admitted (as in CallStart).
	State State
	// Outcome is what became of the call.
	Outcome Outcome
	// Decision is the tracker's verdict for OutcomeError, DecisionIgnored
	// for a call whose own context was canceled, and DecisionNone otherwise.
	Decision Decision
	// Rule is the label of the tracker rule that decided, when there is one
	// ("context_canceled" for caller cancellation, "panic" for a panic).
	Rule string
	// Err is the error the caller receives: the protected function's error
	// untouched, or the breaker's rejection error (for a caller whose
	// context ended while it waited for a half-open slot, a rejection that
	// also matches the context's error). Nil on success and on panic.
	Err error
	// Panicked reports whether the protected function (or the tracker, or
	// the breaker's user code: TripperFunc, RetryFunc, PermitFunc, the
	// WithRand source) panicked or ended its goroutine with
	// runtime.Goexit; the panic continues after the hooks return. A panic
	// during admission, or a hook that ends the goroutine before the
	// protected function runs, is reported with DecisionIgnored: the
	// function never ran and nothing was recorded.
	Panicked bool
	// PanicValue is the value the function panicked with (nil for
	// runtime.Goexit).
	PanicValue any
	// Duration is how long the protected function ran; zero for rejected
	// calls.
	Duration time.Duration
	// Stale reports whether the outcome was dropped because the breaker
	// changed state while the call was in flight.
	Stale bool
}

// Reason says why a state transition happened.
type Reason uint8

// The reasons for a transition.
const (
	// ReasonTripped: the tripper became true in the closed state.
	ReasonTripped Reason = iota
	// ReasonRetry: the retry policy let a call through while open.
	ReasonRetry
	// ReasonRecovered: a half-open probe succeeded and the tripper was false.
	ReasonRecovered
	// ReasonReopened: a half-open probe failed and the tripper was true.
	ReasonReopened
	// ReasonManual: Reset, Disable, MetricsOnly or ForceOpen was called.
	ReasonManual
	// ReasonHalfOpenTimeout: every half-open slot was held by probes that
	// did not report for the breaker's half-open timeout; they counted as
	// failures and the breaker re-opened.
	ReasonHalfOpenTimeout
)

// String returns "tripped", "retry", "recovered", "reopened", "manual" or
// "half_open_timeout".
func (r Reason) String() string {
	switch r {
	case ReasonTripped:
		return "tripped"
	case ReasonRetry:
		return "retry"
	case ReasonRecovered:
		return "recovered"
	case ReasonReopened:
		return "reopened"
	case ReasonManual:
		return "manual"
	case ReasonHalfOpenTimeout:
		return "half_open_timeout"
	}
	return "unknown"
}

// WindowCounts are the counts of a breaker's window.
type WindowCounts struct {
	// Calls is the number of recorded calls.
	Calls int
	// Failures is the number of recorded failures.
	Failures int
}

// Transition describes one state transition. Transitions to the same state
// (a Reset while closed, say) are reported too.
type Transition struct {
	// Name is the breaker's name.
	Name string
	// Key is the breaker's key within its breaker.Group; empty for a
	// breaker built by breaker.New.
	Key string
	// From is the state before the transition.
	From State
	// To is the state after the transition.
	To State
	// Reason says why the transition happened.
	Reason Reason
	// Window holds the window's counts just before the transition reset it.
	Window WindowCounts
	// At is when the transition happened.
	At time.Time
}
