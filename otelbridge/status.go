package otelbridge

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// endSpan sets the end attributes and the status of a recording span and
// ends it.
func (b *bridge) endSpan(t *breakerTel, span trace.Span, info sdk.CallEnd, et *errTypeTel) {
	defer span.End()
	if info.Outcome == sdk.OutcomeSuccess && b.cfg.spanStatus == nil {
		if info.WouldReject {
			span.SetAttributes(successWouldRejectEndAttrs...)
		} else {
			span.SetAttributes(successEndAttrs...)
		}
		return
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	if info.WouldReject {
		attrs = append(attrs, wouldRejectKV)
	}
	attrs = append(attrs, outcomeKV(info.Outcome))
	if info.Outcome == sdk.OutcomeError {
		if info.Decision != sdk.DecisionNone {
			attrs = append(attrs, decisionKV(info.Decision))
		}
		if info.Rule != "" {
			attrs = append(attrs, RuleKey.String(info.Rule))
		}
	}
	if et != nil {
		attrs = append(attrs, et.kv)
	}
	span.SetAttributes(attrs...)
	if code, desc := b.status(t, info); code != codes.Unset {
		span.SetStatus(code, desc)
	}
}

// status applies the span status rule; a panicking rule gives the default
// status, reported through otel.Handle.
func (b *bridge) status(t *breakerTel, info sdk.CallEnd) (code codes.Code, desc string) {
	f := b.cfg.spanStatus
	if f == nil {
		return DefaultSpanStatus(info)
	}
	defer func() {
		if r := recover(); r != nil {
			code, desc = DefaultSpanStatus(info)
			t.reportOnce(fmt.Errorf("otelbridge: the span status rule panicked for breaker %q (using the default; reported once per breaker): %v", info.Name, r))
		}
	}()
	return f(info)
}

// successEndAttrs are the end attributes of a successful call; the span
// copies them.
var (
	successEndAttrs            = []attribute.KeyValue{OutcomeKey.String(sdk.OutcomeSuccess.String())}
	successWouldRejectEndAttrs = []attribute.KeyValue{OutcomeKey.String(sdk.OutcomeSuccess.String()), WouldRejectKey.Bool(true)}
)

// DefaultSpanStatus is the bridge's default status rule, for use inside a
// [WithSpanStatus] function: codes.Unset for a success; codes.Error
// otherwise, described by the error's message, or by "panic: <value>" for a
// panic. An Error method that panics (a typed nil pointer's, say) gives
// the description fmt prints for the error.
func DefaultSpanStatus(info sdk.CallEnd) (codes.Code, string) {
	switch {
	case info.Outcome == sdk.OutcomeSuccess:
		return codes.Unset, ""
	case info.Panicked:
		return codes.Error, fmt.Sprint("panic: ", info.PanicValue)
	case info.Err != nil:
		return codes.Error, errorMessage(info.Err)
	}
	return codes.Error, info.Outcome.String()
}

// errorMessage returns err.Error(), or what fmt prints for err if Error
// panics ("<nil>" for a nil pointer receiver).
func errorMessage(err error) (msg string) {
	defer func() {
		if recover() != nil {
			msg = fmt.Sprint(err)
		}
	}()
	return err.Error()
}
