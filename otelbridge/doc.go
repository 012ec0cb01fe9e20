// Package otelbridge turns the hooks of a fluxgate circuit breaker into
// OpenTelemetry spans, span events and metrics, so that a tracing or metrics
// backend can answer which errors tripped a breaker, which were ignored, and
// why.
//
// The package uses the OpenTelemetry API only. Without an SDK (the global
// providers are no-ops until one is installed) it records nothing and adds
// no allocation to a call beyond the no-op tracer's own.
//
//	b, err := breaker.New("payments",
//		breaker.WithHooks(otelbridge.Hooks()), // the global providers
//	)
//
// # Spans
//
// Every call that reaches a breaker runs in its own span, kind INTERNAL,
// named "circuit_breaker {name}" ([WithSpanNameFormatter] changes it). The
// span starts before the protected function runs, and the function gets its
// context, so the spans it starts (an otelhttp client span, say) are
// children of the breaker's span. Rejected calls get a span too, which ends
// at once.
//
// At the start the span carries circuit_breaker.name and
// circuit_breaker.state (the state in which the call was admitted or
// rejected), so samplers see them. At the end it carries
// circuit_breaker.outcome (success, error or rejected); for an error also
// circuit_breaker.decision (counted or ignored: the tracker's verdict, or
// ignored for a call whose own context was canceled) and circuit_breaker.rule
// (the label of the rule that decided, when there is one); and error.type
// for errors and rejections. The status is Unset for a success (never Ok) and
// Error, with the error's message, otherwise: ignored errors are errors of
// the call even when they do not count against the breaker.
// [WithSpanStatus] changes that rule, for example to leave ignored errors
// Unset. A panic ends the span with error.type "panic" and the status
// "panic: <value>" before the panic continues. Errors are not recorded as
// exception events.
//
// A state transition adds the event circuit_breaker.state_change to the span
// of the call that caused it, with the previous and the new state, the
// reason and the window's counts just before the transition reset them.
// Manual transitions (Reset, ForceOpen, ...) add it to the span in the
// context given to them, if any.
//
// # Metrics
//
// The meter, like the tracer, is named [ScopeName] with version [Version].
//
//   - circuit_breaker.calls (counter, {call}): every call, by name, state,
//     outcome, and for errors decision and error.type (rejections carry the
//     error.type of the rejection error).
//   - circuit_breaker.call.duration (histogram, s): the calls the breaker
//     executed, by name, outcome and decision.
//   - circuit_breaker.state (asynchronous up-down counter, {circuit_breaker}):
//     for every registered breaker and every one of the six states, 1 for
//     the state it is in and 0 for the others, from the breaker's
//     construction until it is closed.
//   - circuit_breaker.transitions (counter, {transition}): by name,
//     previous_state and state.
//
// Through the OpenTelemetry Prometheus exporter these become
// circuit_breaker_calls_total, circuit_breaker_call_duration_seconds,
// circuit_breaker_state and circuit_breaker_transitions_total, so fluxgate's
// alert circuit_breaker_state{state="open"} == 1 keeps working.
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
// or _OTHER for errors.New values and unnamed types. Each breaker reports
// at most [DefaultErrorTypeLimit] distinct values of its own
// ([WithErrorTypeLimit]); later ones become _OTHER. An error's message never
// becomes an attribute of a metric.
//
// # Cost and concurrency
//
// Everything a call needs (span start options, metric attribute sets) is
// computed once per breaker name, when the breaker is built or at its first
// call, and read without a lock afterwards. Span attributes are set only on
// recording spans. The hooks are safe for concurrent use, and one Hooks
// value may serve many breakers.
//
// Spans and the state_change event rely on the breaker handing CallEnd and
// StateChange the context that CallStart returned; give a breaker one
// otelbridge Hooks value, not several.
package otelbridge
