package otelbridge_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// newBreaker builds a small breaker: it counts 5xx StatusErrors (rule
// "5xx") and ignores other errors, opens after 2 calls with half of them
// failed, retries after a second, and admits probes through permit.
func newBreaker(t *testing.T, name string, tel *testutil.Telemetry, permit breaker.Permit) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(name,
		breaker.WithWindow(breaker.CountWindow(4)),
		breaker.WithTracker(tracker.Named("5xx", tracker.Custom(func(_ context.Context, err error) bool {
			return testutil.IsServerError(err)
		}))),
		breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
		breaker.WithPermit(permit),
		breaker.WithMaxHalfOpenCalls(1),
		breaker.WithHooks(newHooks(tel)),
	)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func fails(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func trip(ctx context.Context, b *breaker.Breaker) {
	for range 2 {
		_ = b.Do(ctx, fails(testutil.ErrUnavailable))
	}
}

func TestBreakerOutcomes(t *testing.T) {
	success := func(context.Context) error { return nil }
	calls503 := testutil.Key(name("p"), state("closed"), outcome("error"), decision("counted"), errorType("503"))
	durCounted := testutil.Key(name("p"), state("closed"), outcome("error"), decision("counted"))
	openEvent := map[string]any{
		"circuit_breaker.name": "p", "circuit_breaker.previous_state": "closed", "circuit_breaker.state": "open",
		"circuit_breaker.transition.reason": "tripped", "circuit_breaker.window.calls": int64(2), "circuit_breaker.window.failures": int64(2),
	}
	tests := []struct {
		name      string
		permit    *breaker.Permit
		setup     func(ctx context.Context, b *breaker.Breaker)
		call      func(ctx context.Context, b *breaker.Breaker) error
		wantErr   func(t *testing.T, err error)
		wantAttrs map[string]any
		wantCode  codes.Code
		wantDesc  string
		wantEvent map[string]any // on the call's span; nil: no events
		wantCalls map[string]int64
		wantDur   map[string]uint64
		wantTrans map[string]int64
	}{
		{
			name: "success",
			call: func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, success) },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "success"},
			wantCode:  codes.Unset,
			wantCalls: map[string]int64{testutil.Key(name("p"), state("closed"), outcome("success")): 1},
			wantDur:   map[string]uint64{testutil.Key(name("p"), state("closed"), outcome("success")): 1},
		},
		{
			name:    "counted error",
			call:    func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, fails(testutil.ErrUnavailable)) },
			wantErr: func(t *testing.T, err error) { assert.Same(t, testutil.ErrUnavailable, err) },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "counted",
				"circuit_breaker.rule": "5xx", "error.type": "503"},
			wantCode:  codes.Error,
			wantDesc:  "upstream answered 503",
			wantCalls: map[string]int64{calls503: 1},
			wantDur:   map[string]uint64{durCounted: 1},
		},
		{
			name:    "ignored error",
			call:    func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, fails(testutil.ErrNotFound)) },
			wantErr: func(t *testing.T, err error) { assert.Same(t, testutil.ErrNotFound, err) },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "ignored",
				"error.type": "404"}, // no rule matched it, so none is named
			wantCode: codes.Error,
			wantDesc: "upstream answered 404",
			wantCalls: map[string]int64{
				testutil.Key(name("p"), state("closed"), outcome("error"), decision("ignored"), errorType("404")): 1},
			wantDur: map[string]uint64{testutil.Key(name("p"), state("closed"), outcome("error"), decision("ignored")): 1},
		},
		{
			name: "caller cancelled",
			call: func(ctx context.Context, b *breaker.Breaker) error {
				ctx, cancel := context.WithCancel(ctx)
				return b.Do(ctx, func(ctx context.Context) error {
					cancel()
					return ctx.Err()
				})
			},
			wantErr: func(t *testing.T, err error) { assert.ErrorIs(t, err, context.Canceled) },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "ignored",
				"circuit_breaker.rule": "context_canceled", "error.type": "context_canceled"},
			wantCode: codes.Error,
			wantDesc: "context canceled",
			wantCalls: map[string]int64{
				testutil.Key(name("p"), state("closed"), outcome("error"), decision("ignored"), errorType("context_canceled")): 1},
			wantDur: map[string]uint64{testutil.Key(name("p"), state("closed"), outcome("error"), decision("ignored")): 1},
		},
		{
			name:  "rejected open",
			setup: trip,
			call:  func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, success) },
			wantErr: func(t *testing.T, err error) {
				var npe breaker.NotPermittedError
				require.ErrorAs(t, err, &npe)
				assert.Equal(t, sdk.StateOpen, npe.State())
			},
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_open"},
			wantCode: codes.Error,
			wantDesc: "circuit breaker is open",
			wantCalls: map[string]int64{calls503: 2,
				testutil.Key(name("p"), state("open"), outcome("rejected"), errorType("circuit_breaker_open")): 1},
			wantDur:   map[string]uint64{durCounted: 2},
			wantTrans: map[string]int64{testutil.Key(name("p"), prevState("closed"), state("open")): 1},
		},
		{
			name:   "rejected half-open",
			permit: new(breaker.PermitFunc(func(time.Duration) bool { return false })),
			setup: func(ctx context.Context, b *breaker.Breaker) {
				trip(ctx, b)
				time.Sleep(time.Second)
			},
			call: func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, success) },
			wantErr: func(t *testing.T, err error) {
				var npe breaker.NotPermittedError
				require.ErrorAs(t, err, &npe)
				assert.Equal(t, sdk.StateHalfOpen, npe.State())
			},
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "half_open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_half_open"},
			wantCode: codes.Error,
			wantDesc: "circuit breaker is half-open, not executing",
			wantEvent: map[string]any{
				"circuit_breaker.name": "p", "circuit_breaker.previous_state": "open", "circuit_breaker.state": "half_open",
				"circuit_breaker.transition.reason": "retry", "circuit_breaker.window.calls": int64(0), "circuit_breaker.window.failures": int64(0),
			},
			wantCalls: map[string]int64{calls503: 2,
				testutil.Key(name("p"), state("half_open"), outcome("rejected"), errorType("circuit_breaker_half_open")): 1},
			wantDur: map[string]uint64{durCounted: 2},
			wantTrans: map[string]int64{
				testutil.Key(name("p"), prevState("closed"), state("open")):    1,
				testutil.Key(name("p"), prevState("open"), state("half_open")): 1,
			},
		},
		{
			name:  "forced open",
			setup: func(ctx context.Context, b *breaker.Breaker) { b.ForceOpen(ctx) },
			call:  func(ctx context.Context, b *breaker.Breaker) error { return b.Do(ctx, success) },
			wantErr: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, breaker.ErrNotPermitted)
			},
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "forced_open",
				"circuit_breaker.outcome": "rejected", "error.type": "circuit_breaker_forced_open"},
			wantCode: codes.Error,
			wantDesc: "circuit breaker is forced open",
			wantCalls: map[string]int64{
				testutil.Key(name("p"), state("forced_open"), outcome("rejected"), errorType("circuit_breaker_forced_open")): 1},
			wantTrans: map[string]int64{testutil.Key(name("p"), prevState("closed"), state("forced_open")): 1},
		},
		{
			name: "panic",
			call: func(ctx context.Context, b *breaker.Breaker) (err error) {
				defer func() { err = errors.New(recover().(string)) }()
				return b.Do(ctx, func(context.Context) error { panic("boom") })
			},
			wantErr: func(t *testing.T, err error) { assert.EqualError(t, err, "boom", "the panic went on with its value") },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "counted",
				"circuit_breaker.rule": "panic", "error.type": "panic"},
			wantCode: codes.Error,
			wantDesc: "panic: boom",
			wantCalls: map[string]int64{
				testutil.Key(name("p"), state("closed"), outcome("error"), decision("counted"), errorType("panic")): 1},
			wantDur: map[string]uint64{durCounted: 1},
		},
		{
			name: "trip",
			call: func(ctx context.Context, b *breaker.Breaker) error {
				_ = b.Do(ctx, fails(testutil.ErrUnavailable))
				return b.Do(ctx, fails(testutil.ErrUnavailable))
			},
			wantErr: func(t *testing.T, err error) { assert.Same(t, testutil.ErrUnavailable, err) },
			wantAttrs: map[string]any{"circuit_breaker.name": "p", "circuit_breaker.state": "closed",
				"circuit_breaker.outcome": "error", "circuit_breaker.decision": "counted",
				"circuit_breaker.rule": "5xx", "error.type": "503"},
			wantCode:  codes.Error,
			wantDesc:  "upstream answered 503",
			wantEvent: openEvent,
			wantCalls: map[string]int64{calls503: 2},
			wantDur:   map[string]uint64{durCounted: 2},
			wantTrans: map[string]int64{testutil.Key(name("p"), prevState("closed"), state("open")): 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tel := testutil.NewTelemetry(t)
				permit := breaker.All()
				if tt.permit != nil {
					permit = *tt.permit
				}
				b := newBreaker(t, "p", tel, permit)
				ctx := context.Background()
				if tt.setup != nil {
					tt.setup(ctx, b)
				}
				err := tt.call(ctx, b)
				if tt.wantErr != nil {
					tt.wantErr(t, err)
				} else {
					require.NoError(t, err)
				}

				spans := tel.Ended()
				require.NotEmpty(t, spans)
				s := spans[len(spans)-1]
				assert.Equal(t, "circuit_breaker p", s.Name())
				assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
				assert.Equal(t, tt.wantAttrs, testutil.AttrMap(s.Attributes()))
				assert.Equal(t, sdktrace.Status{Code: tt.wantCode, Description: tt.wantDesc}, s.Status())
				if tt.wantEvent == nil {
					assert.Empty(t, s.Events())
				} else {
					require.Len(t, s.Events(), 1)
					assert.Equal(t, otelbridge.StateChangeEvent, s.Events()[0].Name)
					assert.Equal(t, tt.wantEvent, testutil.AttrMap(s.Events()[0].Attributes))
				}

				rm := tel.Collect(t)
				assert.Equal(t, tt.wantCalls, testutil.Int64Sums(rm, otelbridge.CallsMetric))
				if tt.wantDur == nil {
					assert.Empty(t, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric))
				} else {
					assert.Equal(t, tt.wantDur, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric))
				}
				if tt.wantTrans == nil {
					assert.Empty(t, testutil.Int64Sums(rm, otelbridge.TransitionsMetric))
				} else {
					assert.Equal(t, tt.wantTrans, testutil.Int64Sums(rm, otelbridge.TransitionsMetric))
				}
			})
		})
	}
}

func TestBreakerDurationsInSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		b := newBreaker(t, "p", tel, breaker.All())
		require.NoError(t, b.Do(context.Background(), func(context.Context) error {
			time.Sleep(250 * time.Millisecond)
			return nil
		}))
		dp, ok := testutil.HistogramPoint(tel.Collect(t), otelbridge.CallDurationMetric, name("p"), state("closed"), outcome("success"))
		require.True(t, ok)
		assert.Equal(t, 0.25, dp.Sum)
		s := tel.Ended()[0]
		assert.Equal(t, 250*time.Millisecond, s.EndTime().Sub(s.StartTime()))
	})
}

func TestBreakerRecovery(t *testing.T) {
	// The whole cycle: trip, rejection, half-open probe, recovery, each
	// transition on the span of the call that caused it.
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		b := newBreaker(t, "p", tel, breaker.All())
		ctx := context.Background()
		trip(ctx, b)
		require.ErrorIs(t, b.Do(ctx, fails(nil)), breaker.ErrNotPermitted)
		time.Sleep(time.Second)
		require.NoError(t, b.Do(ctx, fails(nil)))
		assert.Equal(t, sdk.StateClosed, b.State())

		type row struct {
			State, Outcome string
			Events         []string
		}
		var got []row
		for _, s := range tel.Ended() {
			r := row{}
			r.State = testutil.AttrMap(s.Attributes())["circuit_breaker.state"].(string)
			r.Outcome = testutil.AttrMap(s.Attributes())["circuit_breaker.outcome"].(string)
			for _, e := range s.Events() {
				m := testutil.AttrMap(e.Attributes)
				r.Events = append(r.Events, m["circuit_breaker.previous_state"].(string)+"→"+m["circuit_breaker.state"].(string)+" "+m["circuit_breaker.transition.reason"].(string))
			}
			got = append(got, r)
		}
		assert.Equal(t, []row{
			{"closed", "error", nil},
			{"closed", "error", []string{"closed→open tripped"}},
			{"open", "rejected", nil},
			{"half_open", "success", []string{"open→half_open retry", "half_open→closed recovered"}},
		}, got)
		assert.Equal(t, map[string]int64{
			testutil.Key(name("p"), prevState("closed"), state("open")):      1,
			testutil.Key(name("p"), prevState("open"), state("half_open")):   1,
			testutil.Key(name("p"), prevState("half_open"), state("closed")): 1,
		}, testutil.Int64Sums(tel.Collect(t), otelbridge.TransitionsMetric))
	})
}

func TestBreakerSpanNesting(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	b := newBreaker(t, "p", tel, breaker.All())
	tracer := tel.TracerProvider.Tracer("test")
	ctx, handler := tracer.Start(context.Background(), "handler")
	_, err := breaker.Execute(ctx, b, func(ctx context.Context) (int, error) {
		_, child := tracer.Start(ctx, "HTTP GET")
		defer child.End()
		assert.Equal(t, "circuit_breaker p", trace.SpanFromContext(ctx).(sdktrace.ReadOnlySpan).Name())
		return 1, nil
	})
	require.NoError(t, err)
	handler.End()
	spans := tel.Ended()
	require.Len(t, spans, 3)
	child, cb, parent := spans[0], spans[1], spans[2]
	assert.Equal(t, cb.SpanContext().SpanID(), child.Parent().SpanID())
	assert.Equal(t, parent.SpanContext().SpanID(), cb.Parent().SpanID())
	assert.Equal(t, parent.SpanContext().TraceID(), child.SpanContext().TraceID())
}

func TestBreakerManualTransitions(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	b := newBreaker(t, "p", tel, breaker.All())
	tracer := tel.TracerProvider.Tracer("test")
	ctx, op := tracer.Start(context.Background(), "runbook")
	b.ForceOpen(ctx)
	b.MetricsOnly(ctx)
	b.Disable(ctx)
	b.Reset(ctx)
	b.Reset(context.Background()) // no span: the metric only
	op.End()

	var got []string
	for _, e := range tel.Ended()[0].Events() {
		m := testutil.AttrMap(e.Attributes)
		assert.Equal(t, "manual", m["circuit_breaker.transition.reason"])
		got = append(got, m["circuit_breaker.previous_state"].(string)+"→"+m["circuit_breaker.state"].(string))
	}
	assert.Equal(t, []string{"closed→forced_open", "forced_open→metrics_only", "metrics_only→disabled", "disabled→closed"}, got)
	assert.Equal(t, map[string]int64{
		testutil.Key(name("p"), prevState("closed"), state("forced_open")):       1,
		testutil.Key(name("p"), prevState("forced_open"), state("metrics_only")): 1,
		testutil.Key(name("p"), prevState("metrics_only"), state("disabled")):    1,
		testutil.Key(name("p"), prevState("disabled"), state("closed")):          1,
		testutil.Key(name("p"), prevState("closed"), state("closed")):            1,
	}, testutil.Int64Sums(tel.Collect(t), otelbridge.TransitionsMetric))
}

func TestBreakerStateMetric(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	a, err := breaker.New("a", breaker.WithHooks(h))
	require.NoError(t, err)
	bb, err := breaker.New("b", breaker.WithHooks(h))
	require.NoError(t, err)
	state := func() map[string]int64 {
		out := map[string]int64{}
		for k, v := range testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric) {
			if v == 1 {
				out[k] = v
			}
		}
		return out
	}
	assert.Len(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric), 2*sdk.NumStates, "six series per breaker")
	assert.Equal(t, map[string]int64{
		testutil.Key(name("a"), otelbridge.StateKey.String("closed")): 1,
		testutil.Key(name("b"), otelbridge.StateKey.String("closed")): 1,
	}, state(), "from construction on, before any call")

	bb.ForceOpen(context.Background())
	assert.Equal(t, map[string]int64{
		testutil.Key(name("a"), otelbridge.StateKey.String("closed")):      1,
		testutil.Key(name("b"), otelbridge.StateKey.String("forced_open")): 1,
	}, state())

	a.Close()
	assert.Equal(t, map[string]int64{testutil.Key(name("b"), otelbridge.StateKey.String("forced_open")): 1}, state())
	bb.Close()
	assert.Empty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))
}

func TestBreakersKeptApart(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	a, err := breaker.New("a", breaker.WithHooks(h))
	require.NoError(t, err)
	bb, err := breaker.New("b", breaker.WithHooks(h))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, a.Do(ctx, fails(nil)))
	require.NoError(t, a.Do(ctx, fails(nil)))
	require.Error(t, bb.Do(ctx, fails(testutil.ErrPlain)))
	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{
		testutil.Key(name("a"), state("closed"), outcome("success")):                                         2,
		testutil.Key(name("b"), state("closed"), outcome("error"), decision("counted"), errorType("_OTHER")): 1,
	}, testutil.Int64Sums(rm, otelbridge.CallsMetric))
	assert.Equal(t, map[string]uint64{
		testutil.Key(name("a"), state("closed"), outcome("success")):                    2,
		testutil.Key(name("b"), state("closed"), outcome("error"), decision("counted")): 1,
	}, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric))
	var rules []attribute.Value
	for _, s := range testutil.SpansNamed(tel.Ended(), "circuit_breaker b") {
		v, _ := testutil.SpanAttr(s, otelbridge.RuleKey)
		rules = append(rules, v)
	}
	assert.Equal(t, []attribute.Value{attribute.StringValue("all")}, rules, "the default tracker's label")
}

func TestBreakerWithGlobalNoopAllocatesNothing(t *testing.T) {
	// OpenTelemetry not configured: the bridge skips the tracer, which
	// would allocate for a span that records nothing.
	ctx := context.Background()
	bare, err := breaker.New("a")
	require.NoError(t, err)
	bridged, err := breaker.New("a", breaker.WithHooks(otelbridge.Hooks()))
	require.NoError(t, err)
	tracer := otel.GetTracerProvider().Tracer("baseline")
	fn := func(context.Context) error { return nil }
	fails := func(context.Context) error { return testutil.ErrUnavailable }

	spanAllocs := testing.AllocsPerRun(1000, func() { bareSpan(ctx, tracer) })
	bareAllocs := testing.AllocsPerRun(1000, func() { _ = bare.Do(ctx, fn) })
	bridgedAllocs := testing.AllocsPerRun(1000, func() { _ = bridged.Do(ctx, fn) })
	assert.Equal(t, bareAllocs, bridgedAllocs, "breaker alone %v, no-op span alone %v", bareAllocs, spanAllocs)
	assert.Equal(t, 0.0, testing.AllocsPerRun(1000, func() { _ = bridged.Do(ctx, fails) }), "an error call")
}

// BenchmarkBreaker compares a closed-state call through a breaker without
// hooks, with the bridge over the global no-op providers, and with the
// bridge over the SDK.
func BenchmarkBreaker(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	run := func(b *testing.B, opts ...breaker.Option) {
		cb, err := breaker.New("bench", opts...)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = breaker.Execute(ctx, cb, fn)
		}
	}
	b.Run("no-hooks", func(b *testing.B) { run(b) })
	b.Run("bridge-noop", func(b *testing.B) { run(b, breaker.WithHooks(otelbridge.Hooks())) })
	b.Run("bridge-sdk", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		run(b, breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))))
	})
}
