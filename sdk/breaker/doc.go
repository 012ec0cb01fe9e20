// Package breaker is fluxgate's circuit breaker: a Go port of the Python
// library fluxgate, safe for concurrent use and built to be observed.
//
// # Model
//
// A Breaker protects calls to a dependency. Each call's error goes to a
// tracker (package github.com/fluxgate/fluxgate/sdk/tracker), which decides
// whether it is counted against the breaker or ignored. Counted failures
// and successes are recorded in a Window (CountWindow: the last N calls;
// TimeWindow: the last N seconds). After every recorded outcome the
// Tripper looks at the window's Metric and says whether to trip.
//
// The breaker has six states (sdk.State):
//
//   - closed: every call runs; when the tripper trips, the breaker opens.
//   - open: calls are refused with a NotPermittedError until the Retry
//     policy lets one through; that call moves the breaker to half-open and
//     runs as a probe. There is no timer: the move happens on the next call.
//   - half_open: at most WithMaxHalfOpenCalls probes of one half-open
//     period run at once (others wait at most WithHalfOpenWait for a slot,
//     and any transition sends them on by the new state), each admitted by
//     the Permit. The first successful probe after which the tripper is false
//     closes the breaker; a counted probe failure after which the tripper is
//     true re-opens it.
//   - metrics_only: every call runs and is recorded; the breaker never trips.
//   - disabled: every call runs; nothing is recorded.
//   - forced_open: every call is refused.
//
// The last three are entered and left only by the manual commands Reset,
// Disable, MetricsOnly and ForceOpen. Every transition, including one to
// the same state, resets the window and is reported to the hooks.
//
// # Defaults
//
// New without options gives fluxgate's defaults: CountWindow(100),
// tracker.All(), MinRequests(100).And(FailureRate(0.5)),
// Cooldown(60*time.Second, 0), RampUp(0.1, 1.0, 60*time.Second) and 10
// half-open calls at once.
//
// # Errors, cancellation and panics
//
// Execute returns the protected function's error untouched. A refused call
// gets a NotPermittedError, which matches ErrNotPermitted and carries
// RetryAt. An error returned by a call whose own context was canceled is
// ignored (it says nothing about the dependency); context.DeadlineExceeded
// goes to the tracker like any error. A panic is recorded as a counted
// failure, releases any half-open slot, and continues with its original
// value; fallbacks are not called for it.
//
// # Concurrency
//
// A Breaker is safe for concurrent use by any number of goroutines. One
// mutex guards its window and counters; the protected function, the tracker
// and the hooks always run outside it. A call's outcome is applied only if
// the breaker has not changed state since the call was admitted (a
// generation counter, which also closes fluxgate's ABA gap), so outcomes of
// calls in flight across a transition never leak into the next window. The
// breaker starts no goroutines and no timers.
//
// A closed-state call without hooks takes one lock and allocates nothing;
// it reads the clock only when a TimeWindow, an AvgLatency or SlowRate
// tripper, or a hook needs the time. A call refused while open takes no
// lock and allocates nothing either, unless the retry policy must be asked
// (jitter, RetryFunc, or once its delay has passed).
//
// # Deliberate differences from fluxgate
//
// Stale TimeWindow buckets expire on read as well as on record; durations
// are time.Duration sums, without float drift; the half-open concurrency
// limit applies to every breaker; breakers have names; the rejection error
// carries the breaker's name, state and retry time.
package breaker
