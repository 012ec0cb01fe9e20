package otelbridge_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

// This test binary never installs global providers: otel's globals stay
// no-ops, as in a program that does not configure OpenTelemetry.

func TestGlobalNoopRecordsNothing(t *testing.T) {
	h := otelbridge.Hooks()
	h.Register(sdk.Registration{Name: "a", State: func() sdk.State { return sdk.StateClosed }})
	ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "a", State: sdk.StateClosed})
	span := trace.SpanFromContext(ctx)
	assert.False(t, span.IsRecording())
	assert.False(t, span.SpanContext().IsValid())
	h.StateChange(ctx, sdk.Transition{Name: "a", From: sdk.StateClosed, To: sdk.StateOpen})
	h.CallEnd(ctx, sdk.CallEnd{Name: "a", Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable})
}

// paths are the hook sequences of the calls a breaker makes.
var paths = map[string]func(context.Context, sdk.Hooks){
	"success": func(ctx context.Context, h sdk.Hooks) {
		ctx = h.CallStart(ctx, sdk.CallStart{Name: "a", State: sdk.StateClosed})
		h.CallEnd(ctx, sdk.CallEnd{Name: "a", State: sdk.StateClosed, Outcome: sdk.OutcomeSuccess})
	},
	"counted error": func(ctx context.Context, h sdk.Hooks) {
		ctx = h.CallStart(ctx, sdk.CallStart{Name: "a", State: sdk.StateClosed})
		h.CallEnd(ctx, sdk.CallEnd{Name: "a", State: sdk.StateClosed, Outcome: sdk.OutcomeError,
			Decision: sdk.DecisionCounted, Rule: "all", Err: testutil.ErrUnavailable})
	},
	"typed error": func(ctx context.Context, h sdk.Hooks) {
		ctx = h.CallStart(ctx, sdk.CallStart{Name: "a", State: sdk.StateClosed})
		h.CallEnd(ctx, sdk.CallEnd{Name: "a", State: sdk.StateClosed, Outcome: sdk.OutcomeError,
			Decision: sdk.DecisionCounted, Err: typedErr})
	},
	"rejected": func(ctx context.Context, h sdk.Hooks) {
		ctx = h.CallStart(ctx, sdk.CallStart{Name: "a", State: sdk.StateOpen, Rejected: true})
		h.CallEnd(ctx, sdk.CallEnd{Name: "a", State: sdk.StateOpen, Outcome: sdk.OutcomeRejected, Err: errOpen})
	},
	"transition": func(ctx context.Context, h sdk.Hooks) {
		ctx = h.CallStart(ctx, sdk.CallStart{Name: "a", State: sdk.StateClosed})
		h.StateChange(ctx, sdk.Transition{Name: "a", From: sdk.StateClosed, To: sdk.StateOpen, Reason: sdk.ReasonTripped})
		h.CallEnd(ctx, sdk.CallEnd{Name: "a", State: sdk.StateClosed, Outcome: sdk.OutcomeError,
			Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable})
	},
}

var typedErr error = &testutil.TypedError{Op: "x"}

// bareSpan is what the no-op tracer costs by itself: one span started and
// ended.
func bareSpan(ctx context.Context, tracer trace.Tracer) {
	_, span := tracer.Start(ctx, "circuit_breaker a")
	span.End()
}

func TestNoopAllocatesNothing(t *testing.T) {
	providers := map[string]struct {
		hooks  sdk.Hooks
		tracer trace.Tracer
	}{
		"global": {otelbridge.Hooks(), otel.GetTracerProvider().Tracer("baseline")},
		"noop": {
			otelbridge.Hooks(otelbridge.WithTracerProvider(tracenoop.NewTracerProvider()), otelbridge.WithMeterProvider(metricnoop.NewMeterProvider())),
			tracenoop.NewTracerProvider().Tracer("baseline"),
		},
	}
	ctx := context.Background()
	for pname, p := range providers {
		p.hooks.Register(sdk.Registration{Name: "a", State: func() sdk.State { return sdk.StateClosed }})
		base := testing.AllocsPerRun(1000, func() { bareSpan(ctx, p.tracer) })
		t.Logf("%s: the tracer alone: %v allocs", pname, base)
		for name, path := range paths {
			path(ctx, p.hooks) // warm up: error types, caches
			got := testing.AllocsPerRun(1000, func() { path(ctx, p.hooks) })
			assert.Equal(t, 0.0, got, "%s/%s: the tracer is skipped (alone it allocates %v)", pname, name, base)
		}
	}
}

func TestFilteredCallAllocations(t *testing.T) {
	// A call whose span the filter skips costs no allocation and no tracer
	// work; inside another call of the bridge, one context value (so that
	// its CallEnd leaves the outer span alone).
	tel := testutil.NewTelemetry(t)
	for _, tt := range []struct {
		name string
		h    sdk.Hooks
	}{
		{"global", otelbridge.Hooks(otelbridge.WithFilter(func(context.Context, string) bool { return false }))},
		{"sdk", otelbridge.Hooks(otelbridge.WithTracerProvider(tel.TracerProvider), otelbridge.WithMeterProvider(tel.MeterProvider),
			otelbridge.WithFilter(func(_ context.Context, n string) bool { return n == "outer" }))},
	} {
		ctx := context.Background()
		paths["success"](ctx, tt.h)
		assert.Equal(t, 0.0, testing.AllocsPerRun(1000, func() { paths["success"](ctx, tt.h) }), tt.name)
	}
	h := otelbridge.Hooks(otelbridge.WithTracerProvider(tel.TracerProvider), otelbridge.WithMeterProvider(tel.MeterProvider),
		otelbridge.WithFilter(func(_ context.Context, n string) bool { return n == "outer" }))
	outer := h.CallStart(context.Background(), sdk.CallStart{Name: "outer", State: sdk.StateClosed})
	paths["success"](outer, h)
	assert.Equal(t, 1.0, testing.AllocsPerRun(1000, func() { paths["success"](outer, h) }), "inside a call")
	h.CallEnd(outer, sdk.CallEnd{Name: "outer", State: sdk.StateClosed})
}
