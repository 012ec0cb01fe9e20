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
	// WouldReject reports that the breaker would have refused the call but
	// lets it run, its enforcement being below 1 (see CallEnd.WouldReject).
	// For the call that moved an open breaker to half-open, the decision
	// may come only after CallStart (when it finds no free slot): CallEnd
	// then reports it.
	WouldReject bool
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
	// WouldReject reports that the breaker would have refused the call
	// (open, half-open beyond its slots or refused by its permit) but let
	// it run because its enforcement is below 1 (shadow mode or a gradual
	// roll-out; see breaker.WithEnforcement). Such a call ran (its Outcome
	// is success or error) but contributed nothing to the breaker's state:
	// it was not recorded, held no half-open slot and could not make a
	// transition. State is the state in which it would have been refused.
	WouldReject bool
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

// TripCapped describes a trip that a breaker.Group's cap on open keys
// (breaker.WithMaxOpenFraction) prevented: the key's tripper fired in the
// closed state, but the group already had as many keys open as the cap
// allows, so the key stayed closed. It trips on a later outcome once
// there is room, if its tripper still fires.
type TripCapped struct {
	// Name is the group's name.
	Name string
	// Key is the key whose breaker stayed closed.
	Key string
	// Open is the number of the group's keys counted against the cap
	// (open, half-open or forced open) when the trip was refused.
	Open int
	// Limit is the cap at that moment: the number of keys that may be
	// open at once.
	Limit int
	// Window holds the counts of the key's window when its tripper fired.
	Window WindowCounts
	// At is when the trip was refused.
	At time.Time
}

// Change is one setting changed by a reconfiguration.
type Change struct {
	// Setting names what changed: "window", "tracker", "tripper", "retry",
	// "permit", "max_half_open_calls", "half_open_wait",
	// "half_open_timeout", "failure_durations", "rand" or "enforcement",
	// or another setting of the same kind added later.
	Setting string
	// From and To describe the setting before and after, as its String
	// method prints it (for example "Cooldown(1m0s, 0)").
	From, To string
}

// Reconfiguration describes a change of a breaker's settings at run time
// (breaker.Breaker.Reconfigure, SetEnforcement, and their Group
// counterparts, reported once per breaker of the group).
type Reconfiguration struct {
	// Name is the breaker's name.
	Name string
	// Key is the breaker's key within its breaker.Group; empty for a
	// breaker built by breaker.New.
	Key string
	// Changes lists the settings that changed, in a fixed order; settings
	// given with their current value are left out.
	Changes []Change
	// WindowReplaced reports that the window was replaced by an empty one
	// (its kind, size or slow-call thresholds changed); otherwise the
	// window kept its contents.
	WindowReplaced bool
	// At is when the new settings took effect.
	At time.Time
}
