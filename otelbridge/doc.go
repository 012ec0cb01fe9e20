// Package otelbridge turns the hooks of a fluxgate circuit breaker into
// OpenTelemetry spans, span events and metrics, so that a tracing or metrics
// backend can answer which errors tripped a breaker, which were ignored, and
// why.
//
// The package uses the OpenTelemetry API only; the SDK, exporters and their
// configuration stay in the program.
//
//	b, err := breaker.New("payments",
//		breaker.WithHooks(otelbridge.Hooks()), // the global providers
//	)
//
// The telemetry reference of the repository, docs/telemetry.md, lists every
// attribute, event and metric with its Prometheus name and cardinality.
//
// # Spans
//
// Every call that reaches a breaker runs in its own span, kind INTERNAL,
// named "circuit_breaker {name}" ([WithSpanNameFormatter] changes it). The
// span starts before the protected function runs, and the function gets its
// context, so the spans it starts (an otelhttp client span, say) are
// children of the breaker's span.
//
// At the start the span carries circuit_breaker.name, circuit_breaker.key
// (for the breakers of a breaker.Group) and circuit_breaker.state (the
// state in which the call was admitted or rejected), so samplers see them.
// At the end it carries circuit_breaker.outcome (success, error or
// rejected); for an error also circuit_breaker.decision (counted or
// ignored: the tracker's verdict, or ignored for a call whose own context
// was canceled) and circuit_breaker.rule (the label of the rule that
// decided, when there is one); and error.type for errors and rejections.
// The status is Unset for a success (never Ok) and Error, with the error's
// message, otherwise: ignored errors are errors of the call even when they
// do not count against the breaker. [WithSpanStatus] changes that rule, for
// example to leave ignored errors Unset. A panic ends the span with
// error.type "panic" and the status "panic: <value>" before the panic
// continues. Errors are not recorded as exception events.
//
// Rejected calls get a span that ends at once, at most one per breaker per
// [DefaultRejectedSpanInterval]: an open breaker under load refuses
// thousands of calls a second, and a tracing backend needs to see that it
// did, not each refusal. [WithRejectedSpanInterval] and
// [WithoutRejectedSpans] change that; circuit_breaker.calls counts every
// rejected call whatever the choice.
//
// A state transition adds the event circuit_breaker.state_change to the span
// of the call that caused it, with the previous and the new state, the
// reason and the window's counts just before the transition reset them.
// Manual transitions (Reset, ForceOpen, ...) add it to the span in the
// context given to them, if any.
//
// # Operating in production
//
// A call that the breaker would have refused but let run, because its
// enforcement is below 1 (shadow mode, breaker.WithEnforcement), carries
// circuit_breaker.would_reject=true on its span (at the start, so samplers
// see it) and on its circuit_breaker.calls and circuit_breaker.call.duration
// measurements; its outcome is what the call did (success or error) and
// its state the one in which it would have been refused. A dashboard so
// shows detected refusals (would_reject) beside enforced ones
// (outcome=rejected).
//
// A trip that a breaker.Group's cap on open keys refused
// (breaker.WithMaxOpenFraction) counts in circuit_breaker.trips_capped
// (counter, {trip}, by name and key) and adds the event
// circuit_breaker.trip_capped to the span of the call whose outcome fired
// the tripper. A reconfiguration (breaker.Breaker.Reconfigure,
// SetEnforcement, and their Group forms) counts in
// circuit_breaker.reconfigurations (counter, {reconfiguration}, by name and
// key) and adds the event circuit_breaker.reconfigured, listing what
// changed, to the span in its context, if any.
//
// # Metrics
//
// The meter, like the tracer, is named [ScopeName] with version [Version].
//
//   - circuit_breaker.calls (counter, {call}): every call, by name, key,
//     state, outcome, and for errors decision and error.type (rejections
//     carry the error.type of the rejection error).
//   - circuit_breaker.call.duration (histogram, s): the calls the breaker
//     executed, by name, key, admission state (so that half-open probes are
//     told from closed-state calls), outcome and decision. It is recorded
//     in the span's context, so exemplars link its buckets to spans.
//   - circuit_breaker.state (asynchronous up-down counter, {circuit_breaker}):
//     for every registered breaker and every one of the six states, 1 for
//     the state it is in and 0 for the others, from the breaker's
//     construction until it is closed.
//   - circuit_breaker.transitions (counter, {transition}): by name, key,
//     previous_state and state.
//   - circuit_breaker.window.calls (gauge, {call}),
//     circuit_breaker.window.failure_rate (gauge, 1),
//     circuit_breaker.window.slow_rate (gauge, 1, one series per slow-call
//     threshold, circuit_breaker.slow_call.threshold in seconds) and
//     circuit_breaker.failure_streak (gauge, {call}): the breaker's window,
//     read at collection time from breakers that provide a window snapshot
//     (sdk.Registration.Window). The rates are absent while the window is
//     empty.
//
// The key is on metrics unless [WithKeyOnMetrics](false) leaves it to
// spans: a group's breakers then share their name's series. On metrics the
// key values of one breaker name are bounded for the life of the [Hooks]
// value, however many keys come and go through its group: the first
// [DefaultMetricKeyLimit] (20) keys get a value of their own, first come,
// first served, and every later key is reported as [KeyOther] ("_OTHER",
// the value of the group's overflow breaker too), so one name puts at most
// 21 key values on each instrument ([WithMetricKeyLimit] changes the
// number). A cumulative counter cannot forget a series, so a bound that
// reused the values of evicted keys would not bound anything: without one,
// a group whose keys a client chooses (a Host header) would add series
// until the SDK's cardinality limit, after which every breaker's new series
// would fall into the SDK's overflow series. Spans always carry the real
// key.
//
// Through the OpenTelemetry Prometheus exporter these become
// circuit_breaker_calls_total, circuit_breaker_call_duration_seconds,
// circuit_breaker_state, circuit_breaker_transitions_total,
// circuit_breaker_trips_capped_total, circuit_breaker_reconfigurations_total,
// circuit_breaker_window_calls, circuit_breaker_window_failure_rate_ratio,
// circuit_breaker_window_slow_rate_ratio and circuit_breaker_failure_streak;
// attribute names become labels with dots replaced by underscores. So
// fluxgate's alert circuit_breaker_state{state="open"} == 1 returns nothing
// here: the label is circuit_breaker_state, and the alert reads
// circuit_breaker_state{circuit_breaker_state="open"} == 1.
//
// # error.type
//
// The error.type of an error is, in this order: the value of an
// ErrorType() string method on the error or on any error it wraps (the
// breaker's rejection errors return circuit_breaker_open,
// circuit_breaker_half_open or circuit_breaker_forced_open); context_canceled
// or context_deadline_exceeded for errors that match context.Canceled or
// context.DeadlineExceeded; the value of the [WithErrorType] function; the
// Go type name of the error, as semconv.ErrorType spells it ("*net.OpError");
// or _OTHER for errors.New values and unnamed types. Whatever fails while
// deriving it (a panicking WithErrorType function, the ErrorType method of a
// typed nil pointer) gives _OTHER and is reported through otel.Handle; the
// call is counted and its span ends all the same. Each series (a breaker
// name, and its key when the key is on metrics) reports at most
// [DefaultErrorTypeLimit] distinct values of its own ([WithErrorTypeLimit]);
// later ones become _OTHER. An error's message never becomes an attribute of
// a metric.
//
// # Cost and concurrency
//
// Everything a call needs (span start options, metric attribute sets) is
// computed once per breaker name and key, at the first call that needs it,
// and read without a lock afterwards. Span attributes are set only on
// recording spans. When OpenTelemetry is not configured (the no-op tracer
// provider, or the global one before the program installs an SDK) the
// bridge does not call the tracer at all and skips disabled instruments,
// so a call allocates nothing. The hooks are safe for concurrent use, and
// one Hooks value may serve many breakers.
//
// Each bridge keeps its span in the call's context under a key of its own,
// so a breaker may have several Hooks values (two providers) and hooks of
// its own that put other spans in the context: each bridge ends its own
// span. The bridge holds what it knows of a breaker only through the func
// its Register hook returned, which the breaker keeps until Close: a breaker
// dropped without Close is garbage-collected, and its series stop.
package otelbridge
