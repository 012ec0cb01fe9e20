package sdk

// Outcome is what became of one call that reached a breaker.
type Outcome uint8

// The outcomes of a call.
const (
	// OutcomeSuccess: the protected function ran and returned a nil error.
	OutcomeSuccess Outcome = iota
	// OutcomeError: the protected function ran and returned an error, or
	// panicked. The call's Decision says whether the error counted.
	OutcomeError
	// OutcomeRejected: the breaker did not run the protected function
	// (open, forced open, half-open permit refused, or the caller's context
	// ended while waiting for a half-open slot).
	OutcomeRejected
)

// String returns "success", "error" or "rejected".
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeError:
		return "error"
	case OutcomeRejected:
		return "rejected"
	}
	return "unknown"
}

// Decision is a tracker's verdict about an error: whether it counts against
// the breaker.
type Decision uint8

// The decisions. DecisionNone is used for calls that returned no error and
// for rejected calls.
const (
	// DecisionNone: no error was classified.
	DecisionNone Decision = iota
	// DecisionCounted: the error is a failure; it is recorded in the window
	// and may trip the breaker.
	DecisionCounted
	// DecisionIgnored: the error is not a failure; nothing is recorded.
	DecisionIgnored
)

// String returns "", "counted" or "ignored".
func (d Decision) String() string {
	switch d {
	case DecisionCounted:
		return "counted"
	case DecisionIgnored:
		return "ignored"
	}
	return ""
}
