package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

// The rejection errors as the breaker defines them (error.type and
// message); the tests that run a real breaker use the real ones.
var (
	errOpen       = &testutil.ClassifiedError{Class: "circuit_breaker_open", Msg: "circuit breaker is open"}
	errHalfOpen   = &testutil.ClassifiedError{Class: "circuit_breaker_half_open", Msg: "circuit breaker is half-open, not executing"}
	errForcedOpen = &testutil.ClassifiedError{Class: "circuit_breaker_forced_open", Msg: "circuit breaker is forced open"}
)

func newHooks(tel *testutil.Telemetry, opts ...otelbridge.Option) sdk.Hooks {
	opts = append([]otelbridge.Option{
		otelbridge.WithTracerProvider(tel.TracerProvider),
		otelbridge.WithMeterProvider(tel.MeterProvider),
	}, opts...)
	return otelbridge.Hooks(opts...)
}

// call drives the hooks through one call as a breaker does: CallStart, the
// protected function (inside, which gets CallStart's context), CallEnd.
func call(ctx context.Context, h sdk.Hooks, start sdk.CallStart, end sdk.CallEnd, inside func(context.Context)) {
	ctx = h.CallStart(ctx, start)
	if inside != nil {
		inside(ctx)
	}
	end.Name, end.State = start.Name, start.State
	h.CallEnd(ctx, end)
}

// Attribute shorthands.
func name(n string) attribute.KeyValue                     { return otelbridge.NameKey.String(n) }
func state(s string) attribute.KeyValue                    { return otelbridge.StateKey.String(s) }
func outcome(o string) attribute.KeyValue                  { return otelbridge.OutcomeKey.String(o) }
func decision(d string) attribute.KeyValue                 { return otelbridge.DecisionKey.String(d) }
func errorType(v string) attribute.KeyValue                { return otelbridge.ErrorTypeKey.String(v) }
func prevState(s string) attribute.KeyValue                { return otelbridge.PreviousStateKey.String(s) }
func attrs(kvs ...attribute.KeyValue) []attribute.KeyValue { return kvs }

func TestCallOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		start     sdk.CallStart
		end       sdk.CallEnd
		wantAttrs map[string]any
		wantCode  codes.Code
		wantDesc  string
		wantCalls []attribute.KeyValue // the one circuit_breaker.calls point
		wantDur   []attribute.KeyValue // the one duration point; nil: none
	}{
		{
			name:  "success",
			start: sdk.CallStart{Name: "payments", State: sdk.StateClosed},
			end:   sdk.CallEnd{Outcome: sdk.OutcomeSuccess, Duration: 20 * time.Millisecond},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "success",
			},
			wantCode:  codes.Unset,
			wantCalls: attrs(name("payments"), state("closed"), outcome("success")),
			wantDur:   attrs(name("payments"), state("closed"), outcome("success")),
		},
		{
			name:  "counted error",
			start: sdk.CallStart{Name: "payments", State: sdk.StateClosed},
			end: sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Rule: "5xx",
				Err: testutil.ErrUnavailable, Duration: 20 * time.Millisecond},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "counted",
				"circuit_breaker.rule": "5xx", "error.type": "503",
			},
			wantCode:  codes.Error,
			wantDesc:  "upstream answered 503",
			wantCalls: attrs(name("payments"), state("closed"), outcome("error"), decision("counted"), errorType("503")),
			wantDur:   attrs(name("payments"), state("closed"), outcome("error"), decision("counted")),
		},
		{
			name:  "ignored error",
			start: sdk.CallStart{Name: "payments", State: sdk.StateHalfOpen},
			end: sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionIgnored, Rule: "5xx",
				Err: fmt.Errorf("get user: %w", testutil.ErrNotFound), Duration: 20 * time.Millisecond},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "half_open",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "ignored",
				"circuit_breaker.rule": "5xx", "error.type": "404",
			},
			wantCode:  codes.Error,
			wantDesc:  "get user: upstream answered 404",
			wantCalls: attrs(name("payments"), state("half_open"), outcome("error"), decision("ignored"), errorType("404")),
			wantDur:   attrs(name("payments"), state("half_open"), outcome("error"), decision("ignored")),
		},
		{
			name:  "caller cancelled",
			start: sdk.CallStart{Name: "payments", State: sdk.StateClosed},
			end: sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionIgnored, Rule: "context_canceled",
				Err: context.Canceled, Duration: time.Millisecond},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "ignored",
				"circuit_breaker.rule": "context_canceled", "error.type": "context_canceled",
			},
			wantCode:  codes.Error,
			wantDesc:  "context canceled",
			wantCalls: attrs(name("payments"), state("closed"), outcome("error"), decision("ignored"), errorType("context_canceled")),
			wantDur:   attrs(name("payments"), state("closed"), outcome("error"), decision("ignored")),
		},
		{
			name:  "rejected open",
			start: sdk.CallStart{Name: "payments", State: sdk.StateOpen, Rejected: true},
			end:   sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errOpen},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_open",
			},
			wantCode:  codes.Error,
			wantDesc:  "circuit breaker is open",
			wantCalls: attrs(name("payments"), state("open"), outcome("rejected"), errorType("circuit_breaker_open")),
		},
		{
			name:  "rejected half-open",
			start: sdk.CallStart{Name: "payments", State: sdk.StateHalfOpen, Rejected: true},
			end:   sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errHalfOpen},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "half_open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_half_open",
			},
			wantCode:  codes.Error,
			wantDesc:  "circuit breaker is half-open, not executing",
			wantCalls: attrs(name("payments"), state("half_open"), outcome("rejected"), errorType("circuit_breaker_half_open")),
		},
		{
			name:  "forced open",
			start: sdk.CallStart{Name: "payments", State: sdk.StateForcedOpen, Rejected: true},
			end:   sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errForcedOpen},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "forced_open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_forced_open",
			},
			wantCode:  codes.Error,
			wantDesc:  "circuit breaker is forced open",
			wantCalls: attrs(name("payments"), state("forced_open"), outcome("rejected"), errorType("circuit_breaker_forced_open")),
		},
		{
			name:  "panic",
			start: sdk.CallStart{Name: "payments", State: sdk.StateClosed},
			end: sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Rule: "panic",
				Panicked: true, PanicValue: "boom", Duration: time.Millisecond},
			wantAttrs: map[string]any{
				"circuit_breaker.name": "payments", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "counted",
				"circuit_breaker.rule": "panic", "error.type": "panic",
			},
			wantCode:  codes.Error,
			wantDesc:  "panic: boom",
			wantCalls: attrs(name("payments"), state("closed"), outcome("error"), decision("counted"), errorType("panic")),
			wantDur:   attrs(name("payments"), state("closed"), outcome("error"), decision("counted")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel)
			call(context.Background(), h, tt.start, tt.end, nil)

			spans := tel.Ended()
			require.Len(t, spans, 1)
			s := spans[0]
			assert.Equal(t, "circuit_breaker payments", s.Name())
			assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
			assert.Equal(t, tt.wantAttrs, testutil.AttrMap(s.Attributes()))
			assert.Equal(t, sdktrace.Status{Code: tt.wantCode, Description: tt.wantDesc}, s.Status())
			assert.Empty(t, s.Events(), "no events (no exception events either)")
			assert.Equal(t, otelbridge.ScopeName, s.InstrumentationScope().Name)
			assert.Equal(t, otelbridge.Version, s.InstrumentationScope().Version)
			assert.False(t, s.Parent().IsValid(), "a root span when the caller has none")

			rm := tel.Collect(t)
			assert.Equal(t, map[string]int64{testutil.Key(tt.wantCalls...): 1},
				testutil.Int64Sums(rm, otelbridge.CallsMetric))
			if tt.wantDur == nil {
				assert.Empty(t, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric), "no duration for a rejected call")
			} else {
				dp, ok := testutil.HistogramPoint(rm, otelbridge.CallDurationMetric, tt.wantDur...)
				require.True(t, ok, "duration point %v", tt.wantDur)
				assert.Equal(t, uint64(1), dp.Count)
				assert.InDelta(t, tt.end.Duration.Seconds(), dp.Sum, 1e-12)
				assert.Len(t, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric), 1)
			}
			assert.Empty(t, testutil.Int64Sums(rm, otelbridge.TransitionsMetric))
		})
	}
}

func TestErrorTypeIdenticalOnSpanAndMetric(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	call(context.Background(), h, sdk.CallStart{Name: "db", State: sdk.StateClosed},
		sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: &testutil.TypedError{Op: "query"}}, nil)
	s := tel.Ended()[0]
	v, ok := testutil.SpanAttr(s, otelbridge.ErrorTypeKey)
	require.True(t, ok)
	assert.Equal(t, "*testutil.TypedError", v.AsString())
	_, ok = testutil.SpanAttr(s, otelbridge.RuleKey)
	assert.False(t, ok, "no rule attribute when the tracker gave none")
	got, ok := testutil.Int64Value(tel.Collect(t), otelbridge.CallsMetric,
		name("db"), state("closed"), outcome("error"), decision("counted"), errorType(v.AsString()))
	require.True(t, ok)
	assert.Equal(t, int64(1), got)
}

func TestStateChangeEventOnTheCallsSpan(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "payments", State: sdk.StateClosed})
	h.StateChange(ctx, sdk.Transition{Name: "payments", From: sdk.StateClosed, To: sdk.StateOpen,
		Reason: sdk.ReasonTripped, Window: sdk.WindowCounts{Calls: 4, Failures: 3}, At: at})
	h.CallEnd(ctx, sdk.CallEnd{Name: "payments", State: sdk.StateClosed, Outcome: sdk.OutcomeError,
		Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable})

	spans := tel.Ended()
	require.Len(t, spans, 1)
	events := spans[0].Events()
	require.Len(t, events, 1)
	assert.Equal(t, otelbridge.StateChangeEvent, events[0].Name)
	assert.Equal(t, at, events[0].Time.UTC())
	assert.Equal(t, map[string]any{
		"circuit_breaker.name":              "payments",
		"circuit_breaker.previous_state":    "closed",
		"circuit_breaker.state":             "open",
		"circuit_breaker.transition.reason": "tripped",
		"circuit_breaker.window.calls":      int64(4),
		"circuit_breaker.window.failures":   int64(3),
	}, testutil.AttrMap(events[0].Attributes))

	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{
		testutil.Key(name("payments"), prevState("closed"), state("open")): 1,
	}, testutil.Int64Sums(rm, otelbridge.TransitionsMetric))
}

func TestManualTransition(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	tr := sdk.Transition{Name: "payments", From: sdk.StateClosed, To: sdk.StateForcedOpen, Reason: sdk.ReasonManual}

	// With no span in the context: the metric only.
	h.StateChange(context.Background(), tr)
	// With the caller's span in the context: an event on it.
	ctx, op := tel.TracerProvider.Tracer("test").Start(context.Background(), "incident")
	h.StateChange(ctx, tr)
	op.End()

	spans := tel.Ended()
	require.Len(t, spans, 1)
	require.Len(t, spans[0].Events(), 1)
	ev := spans[0].Events()[0]
	assert.Equal(t, otelbridge.StateChangeEvent, ev.Name)
	assert.Equal(t, map[string]any{
		"circuit_breaker.name":              "payments",
		"circuit_breaker.previous_state":    "closed",
		"circuit_breaker.state":             "forced_open",
		"circuit_breaker.transition.reason": "manual",
		"circuit_breaker.window.calls":      int64(0),
		"circuit_breaker.window.failures":   int64(0),
	}, testutil.AttrMap(ev.Attributes))

	assert.Equal(t, map[string]int64{
		testutil.Key(name("payments"), prevState("closed"), state("forced_open")): 2,
	}, testutil.Int64Sums(tel.Collect(t), otelbridge.TransitionsMetric))
}

func TestSpanNesting(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	tracer := tel.TracerProvider.Tracer("test")

	ctx, parent := tracer.Start(context.Background(), "handler")
	call(ctx, h, sdk.CallStart{Name: "payments", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess},
		func(ctx context.Context) {
			_, child := tracer.Start(ctx, "HTTP GET")
			child.End()
		})
	parent.End()

	spans := tel.Ended()
	require.Len(t, spans, 3)
	child, cb, handler := spans[0], spans[1], spans[2]
	assert.Equal(t, "HTTP GET", child.Name())
	assert.Equal(t, "circuit_breaker payments", cb.Name())
	assert.Equal(t, cb.SpanContext().SpanID(), child.Parent().SpanID(), "the function's span is a child of the breaker's")
	assert.Equal(t, handler.SpanContext().SpanID(), cb.Parent().SpanID(), "the breaker's span is a child of the caller's")
	assert.Equal(t, handler.SpanContext().TraceID(), child.SpanContext().TraceID())
}

func TestTwoBreakersKeptApart(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel) // one Hooks value for both
	ctx := context.Background()
	for range 3 {
		call(ctx, h, sdk.CallStart{Name: "a", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
	}
	call(ctx, h, sdk.CallStart{Name: "b", State: sdk.StateOpen, Rejected: true},
		sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errOpen}, nil)
	h.StateChange(ctx, sdk.Transition{Name: "b", From: sdk.StateClosed, To: sdk.StateOpen})

	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{
		testutil.Key(name("a"), state("closed"), outcome("success")):                                   3,
		testutil.Key(name("b"), state("open"), outcome("rejected"), errorType("circuit_breaker_open")): 1,
	}, testutil.Int64Sums(rm, otelbridge.CallsMetric))
	assert.Equal(t, map[string]uint64{testutil.Key(name("a"), state("closed"), outcome("success")): 3},
		testutil.HistogramCounts(rm, otelbridge.CallDurationMetric))
	assert.Equal(t, map[string]int64{testutil.Key(name("b"), prevState("closed"), state("open")): 1},
		testutil.Int64Sums(rm, otelbridge.TransitionsMetric))
	names := map[string]bool{}
	for _, s := range tel.Ended() {
		v, _ := testutil.SpanAttr(s, otelbridge.NameKey)
		names[s.Name()+"|"+v.AsString()] = true
	}
	assert.Equal(t, map[string]bool{"circuit_breaker a|a": true, "circuit_breaker b|b": true}, names)
}

func TestStateMetric(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	allStates := func(bname, current string) map[string]int64 {
		m := map[string]int64{}
		for _, s := range sdk.States() {
			v := int64(0)
			if s.String() == current {
				v = 1
			}
			m[testutil.Key(name(bname), state(s.String()))] = v
		}
		return m
	}
	merge := func(ms ...map[string]int64) map[string]int64 {
		out := map[string]int64{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}

	assert.Nil(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric), "nothing before a breaker registers")

	cur := sdk.StateClosed
	unregA := h.Register(sdk.Registration{Name: "a", State: func() sdk.State { return cur }})
	unregB := h.Register(sdk.Registration{Name: "b", State: func() sdk.State { return sdk.StateDisabled }})
	assert.Equal(t, merge(allStates("a", "closed"), allStates("b", "disabled")),
		testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric), "every state from construction on, before any call")

	cur = sdk.StateOpen
	assert.Equal(t, merge(allStates("a", "open"), allStates("b", "disabled")),
		testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))

	unregA()
	unregA() // idempotent
	assert.Equal(t, allStates("b", "disabled"), testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric),
		"a closed breaker is no longer reported")
	unregB()
	assert.Empty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))

	// A registration again after the last one left.
	h.Register(sdk.Registration{Name: "c", State: func() sdk.State { return sdk.StateHalfOpen }})
	assert.Equal(t, allStates("c", "half_open"), testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))
}

func TestStateMetricBreakersSharingAName(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	h.Register(sdk.Registration{Name: "db", State: func() sdk.State { return sdk.StateOpen }})
	h.Register(sdk.Registration{Name: "db", State: func() sdk.State { return sdk.StateOpen }})
	h.Register(sdk.Registration{Name: "db", State: func() sdk.State { return sdk.StateClosed }})
	sums := testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric)
	assert.Equal(t, int64(2), sums[testutil.Key(name("db"), state("open"))], "counts the breakers in the state")
	assert.Equal(t, int64(1), sums[testutil.Key(name("db"), state("closed"))])
	assert.Equal(t, int64(0), sums[testutil.Key(name("db"), state("half_open"))])
}

func TestMetricsDescribed(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	h.Register(sdk.Registration{Name: "a", State: func() sdk.State { return sdk.StateClosed }})
	call(context.Background(), h, sdk.CallStart{Name: "a", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
	h.StateChange(context.Background(), sdk.Transition{Name: "a", From: sdk.StateClosed, To: sdk.StateClosed, Reason: sdk.ReasonManual})
	rm := tel.Collect(t)
	for metricName, unit := range map[string]string{
		otelbridge.CallsMetric:        "{call}",
		otelbridge.CallDurationMetric: "s",
		otelbridge.StateMetric:        "{circuit_breaker}",
		otelbridge.TransitionsMetric:  "{transition}",
	} {
		m, scope, ok := testutil.FindMetric(rm, metricName)
		require.True(t, ok, metricName)
		assert.Equal(t, unit, m.Unit, metricName)
		assert.NotEmpty(t, m.Description, metricName)
		assert.Equal(t, otelbridge.ScopeName, scope.Name)
		assert.Equal(t, otelbridge.Version, scope.Version)
	}
}

func TestInvalidValuesDoNotPanic(t *testing.T) {
	// Values outside the sdk enumerations never come from a breaker; the
	// bridge reports them with their String form rather than panic.
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	require.NotPanics(t, func() {
		call(context.Background(), h, sdk.CallStart{Name: "x", State: sdk.State(42)},
			sdk.CallEnd{Outcome: sdk.Outcome(9), Decision: sdk.Decision(7), Err: errors.New("odd")}, nil)
		h.StateChange(context.Background(), sdk.Transition{Name: "x", From: sdk.State(42), To: sdk.StateOpen, Reason: sdk.Reason(99)})
	})
	v, ok := testutil.SpanAttr(tel.Ended()[0], otelbridge.StateKey)
	require.True(t, ok)
	assert.Equal(t, "State(42)", v.AsString())
}

func TestPanickingOptions(t *testing.T) {
	var handled []string
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(handlerFunc(func(err error) { handled = append(handled, err.Error()) }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	tel := testutil.NewTelemetry(t)
	tracer := tel.TracerProvider.Tracer("test")
	ctx, parent := tracer.Start(context.Background(), "caller")

	// A panicking filter: the call has no span, the caller's span stays
	// open, the metrics are recorded.
	h := newHooks(tel, otelbridge.WithFilter(func(context.Context, string) bool { panic("filter") }))
	call(ctx, h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
	assert.True(t, parent.IsRecording(), "the caller's span is still open")

	// A panicking span name formatter: the default name.
	h = newHooks(tel, otelbridge.WithSpanNameFormatter(func(string) string { panic("formatter") }))
	call(ctx, h, sdk.CallStart{Name: "b"}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)

	// A panicking status rule: the default status, and the span ends.
	h = newHooks(tel, otelbridge.WithSpanStatus(func(sdk.CallEnd) (codes.Code, string) { panic("status") }))
	assert.NotPanics(t, func() {
		call(ctx, h, sdk.CallStart{Name: "c"}, sdk.CallEnd{Outcome: sdk.OutcomeError, Err: testutil.ErrPlain}, nil)
	})
	parent.End()

	var names []string
	for _, s := range tel.Ended() {
		names = append(names, s.Name())
	}
	assert.Equal(t, []string{"circuit_breaker b", "circuit_breaker c", "caller"}, names)
	assert.Len(t, testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric), 3, "metrics of every call")
	assert.Equal(t, []string{
		`otelbridge: starting the span of a call to breaker "a" panicked: filter`,
		`otelbridge: the span name formatter panicked for breaker "b": formatter`,
		`otelbridge: the span status rule panicked for breaker "c" (using the default; reported once per breaker): status`,
	}, handled)
	c := tel.Ended()[1]
	assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "plain failure"}, c.Status())
}
