package sdk

import "time"

// WindowSnapshot is what a breaker's window holds at one moment: the
// numbers a Register hook reads at collection time for gauges (otelbridge's
// circuit_breaker.window.* gauges).
type WindowSnapshot struct {
	// Calls is the number of calls recorded in the window.
	Calls int
	// Failures is the number of recorded calls whose error counted.
	Failures int
	// ConsecutiveFailures is the current streak of counted failures.
	ConsecutiveFailures int
	// Slow holds, for every slow-call threshold of the breaker's trippers
	// in ascending order, how many recorded calls took at least that long.
	Slow []SlowCount
}

// SlowCount is the number of recorded calls that reached one slow-call
// threshold.
type SlowCount struct {
	// Threshold is the duration from which a call is slow.
	Threshold time.Duration
	// Calls is the number of recorded calls that took at least Threshold.
	Calls int
}
