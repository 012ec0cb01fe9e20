package otelbridge

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// tripCapped counts a trip that a group's cap on open keys refused and
// adds the circuit_breaker.trip_capped event to the span of the call whose
// outcome fired the tripper (or to the span in ctx).
func (b *bridge) tripCapped(ctx context.Context, info sdk.TripCapped) {
	t := b.tel(info.Name, info.Key)
	b.capped.Add(ctx, 1, t.series.cappedOpts()...)
	span := b.eventSpan(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, NameKey.String(info.Name))
	if info.Key != "" {
		attrs = append(attrs, KeyKey.String(info.Key))
	}
	attrs = append(attrs,
		OpenKeysKey.Int(info.Open),
		MaxOpenKeysKey.Int(info.Limit),
		WindowCallsKey.Int(info.Window.Calls),
		WindowFailuresKey.Int(info.Window.Failures),
	)
	opts := []trace.EventOption{trace.WithAttributes(attrs...)}
	if !info.At.IsZero() {
		opts = append(opts, trace.WithTimestamp(info.At))
	}
	span.AddEvent(TripCappedEvent, opts...)
}

// reconfigured counts a reconfiguration and adds the
// circuit_breaker.reconfigured event to the span in ctx, if one records.
func (b *bridge) reconfigured(ctx context.Context, r sdk.Reconfiguration) {
	t := b.tel(r.Name, r.Key)
	b.reconfigs.Add(ctx, 1, t.series.reconfigOpts()...)
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	settings := make([]string, len(r.Changes))
	changes := make([]string, len(r.Changes))
	for i, c := range r.Changes {
		settings[i] = c.Setting
		changes[i] = c.Setting + ": " + c.From + " -> " + c.To
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, NameKey.String(r.Name))
	if r.Key != "" {
		attrs = append(attrs, KeyKey.String(r.Key))
	}
	attrs = append(attrs,
		ReconfiguredSettingsKey.StringSlice(settings),
		ReconfiguredChangesKey.StringSlice(changes),
		WindowReplacedKey.Bool(r.WindowReplaced),
	)
	opts := []trace.EventOption{trace.WithAttributes(attrs...)}
	if !r.At.IsZero() {
		opts = append(opts, trace.WithTimestamp(r.At))
	}
	span.AddEvent(ReconfiguredEvent, opts...)
}

// eventSpan is the span an event of a call goes to: the call's own span,
// or the span in its context.
func (b *bridge) eventSpan(ctx context.Context) trace.Span {
	if c := b.own(ctx); c != nil && c.span != nil {
		return c.span
	}
	return trace.SpanFromContext(ctx)
}
