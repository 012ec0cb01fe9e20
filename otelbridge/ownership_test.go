package otelbridge_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// captureHandled routes otel.Handle to a list for the test's duration.
func captureHandled(t *testing.T) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(handlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, err.Error())
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// spanHook is a user's hook that runs its own span around each call, after
// the bridge: its CallStart puts that span in the context.
func spanHook(tp trace.TracerProvider) sdk.Hooks {
	tracer := tp.Tracer("user")
	return sdk.Hooks{
		CallStart: func(ctx context.Context, _ sdk.CallStart) context.Context {
			ctx, _ = tracer.Start(ctx, "user span")
			return ctx
		},
		CallEnd: func(ctx context.Context, _ sdk.CallEnd) {
			trace.SpanFromContext(ctx).End()
		},
	}
}

func TestEachBridgeEndsItsOwnSpan(t *testing.T) {
	tests := []struct {
		name  string
		hooks func(a, b *testutil.Telemetry) []sdk.Hooks
		// wantA, wantB: the names of the spans each provider ended.
		wantA, wantB []string
	}{
		{
			name: "two bridges, two providers",
			hooks: func(a, b *testutil.Telemetry) []sdk.Hooks {
				return []sdk.Hooks{newHooks(a), newHooks(b)}
			},
			wantA: []string{"circuit_breaker pay"},
			wantB: []string{"circuit_breaker pay"},
		},
		{
			name: "a user's span hook after the bridge",
			hooks: func(a, b *testutil.Telemetry) []sdk.Hooks {
				return []sdk.Hooks{newHooks(a), spanHook(b.TracerProvider)}
			},
			wantA: []string{"circuit_breaker pay"},
			wantB: []string{"user span"},
		},
	}
	outcomes := map[string]func(context.Context) error{
		"success": func(context.Context) error { return nil },
		"error":   func(context.Context) error { return testutil.ErrUnavailable },
	}
	for _, tt := range tests {
		for oname, fn := range outcomes {
			t.Run(tt.name+"/"+oname, func(t *testing.T) {
				ta, tb := testutil.NewTelemetry(t), testutil.NewTelemetry(t)
				b, err := breaker.New("pay", breaker.WithHooks(tt.hooks(ta, tb)...))
				require.NoError(t, err)
				defer b.Close()
				_ = b.Do(context.Background(), fn)

				names := func(tel *testutil.Telemetry) []string {
					var out []string
					for _, s := range tel.Ended() {
						out = append(out, s.Name())
					}
					return out
				}
				assert.Equal(t, tt.wantA, names(ta))
				assert.Equal(t, tt.wantB, names(tb))
				assert.Empty(t, ta.Spans.Started()[len(ta.Ended()):], "every started span ended")
				for _, s := range ta.Ended() {
					v, ok := testutil.SpanAttr(s, otelbridge.OutcomeKey)
					require.True(t, ok, "the end attributes are on the bridge's own span")
					assert.Equal(t, oname, v.AsString())
				}
			})
		}
	}
}

func TestNestedCallsThroughOneBridge(t *testing.T) {
	// An outer breaker's function calls an inner breaker, both with one
	// Hooks value; the inner call is filtered (no span) or recorded.
	for _, filtered := range []bool{false, true} {
		t.Run(map[bool]string{false: "inner recorded", true: "inner filtered"}[filtered], func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel, otelbridge.WithFilter(func(_ context.Context, name string) bool {
				return !filtered || name != "inner"
			}))
			outer, err := breaker.New("outer", breaker.WithHooks(h))
			require.NoError(t, err)
			inner, err := breaker.New("inner", breaker.WithHooks(h))
			require.NoError(t, err)
			var outerOpenAfterInner bool
			require.NoError(t, outer.Do(context.Background(), func(ctx context.Context) error {
				err := inner.Do(ctx, func(context.Context) error { return nil })
				outerOpenAfterInner = trace.SpanFromContext(ctx).IsRecording()
				return err
			}))
			assert.True(t, outerOpenAfterInner, "the inner call left the outer span open")
			var names []string
			for _, s := range tel.Ended() {
				names = append(names, s.Name())
			}
			if filtered {
				assert.Equal(t, []string{"circuit_breaker outer"}, names)
			} else {
				assert.Equal(t, []string{"circuit_breaker inner", "circuit_breaker outer"}, names)
			}
		})
	}
}

// nilReceiverError reads its receiver in ErrorType and Error, so a typed
// nil *nilReceiverError panics there.
type nilReceiverError struct{ class string }

func (e *nilReceiverError) Error() string     { return "nil receiver: " + e.class }
func (e *nilReceiverError) ErrorType() string { return e.class }

func TestErrorTypeFailuresStillRecord(t *testing.T) {
	var typedNil *nilReceiverError
	tests := []struct {
		name string
		opts []otelbridge.Option
		err  error
	}{
		{
			name: "panicking WithErrorType",
			opts: []otelbridge.Option{otelbridge.WithErrorType(func(error) string { panic("classifier") })},
			err:  testutil.ErrPlain,
		},
		{
			name: "typed nil whose ErrorType reads its receiver",
			err:  typedNil,
		},
		{
			name: "typed nil, wrapped",
			err:  wrap{typedNil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := captureHandled(t)
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel, tt.opts...)
			require.NotPanics(t, func() {
				call(context.Background(), h, sdk.CallStart{Name: "a", State: sdk.StateClosed},
					sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: tt.err}, nil)
			})
			spans := tel.Ended()
			require.Len(t, spans, 1, "the span ended")
			v, _ := testutil.SpanAttr(spans[0], otelbridge.ErrorTypeKey)
			assert.Equal(t, otelbridge.ErrorTypeOther, v.AsString())
			assert.Equal(t, map[string]int64{
				testutil.Key(name("a"), state("closed"), outcome("error"), decision("counted"), errorType("_OTHER")): 1,
			}, testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric), "the call is counted")
			assert.NotEmpty(t, handled(), "the failure is reported through otel.Handle")
		})
	}
}

// wrap wraps an error without a message of its own.
type wrap struct{ err error }

func (w wrap) Error() string { return "wrapped" }
func (w wrap) Unwrap() error { return w.err }

func TestTypedNilThroughABreaker(t *testing.T) {
	captureHandled(t)
	tel := testutil.NewTelemetry(t)
	b, err := breaker.New("a", breaker.WithHooks(newHooks(tel)))
	require.NoError(t, err)
	defer b.Close()
	var typedNil *nilReceiverError
	_ = b.Do(context.Background(), func(context.Context) error { return typedNil })
	require.Len(t, tel.Ended(), 1)
	assert.Len(t, testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric), 1)
}

// collected reports, after a few garbage collections, whether the value
// that cleanup was attached to was collected.
func collected(done <-chan struct{}) bool {
	for range 20 {
		runtime.GC()
		select {
		case <-done:
			return true
		default:
		}
		runtime.Gosched()
	}
	return false
}

func TestDroppedBreakerIsCollected(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	done := make(chan struct{})
	func() {
		b, err := breaker.New("dropped", breaker.WithHooks(h))
		require.NoError(t, err)
		require.NoError(t, b.Do(context.Background(), func(context.Context) error { return nil }))
		_, ok := testutil.Int64Value(tel.Collect(t), otelbridge.StateMetric, name("dropped"), state("closed"))
		require.True(t, ok, "reported while alive")
		runtime.AddCleanup(b, func(ch chan struct{}) { close(ch) }, done)
	}()
	require.True(t, collected(done), "a breaker dropped without Close is collected")
	assert.Empty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric), "and no longer reported")
}

func TestCloseReleasesTheBreaker(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	b, err := breaker.New("closed", breaker.WithHooks(h))
	require.NoError(t, err)
	keep, err := breaker.New("kept", breaker.WithHooks(h))
	require.NoError(t, err)
	defer keep.Close()
	b.Close()
	sums := testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric)
	_, ok := sums[testutil.Key(name("closed"), state("closed"))]
	assert.False(t, ok, "Close stops the reports at once")
	_, ok = sums[testutil.Key(name("kept"), state("closed"))]
	assert.True(t, ok)

	done := make(chan struct{})
	runtime.AddCleanup(b, func(ch chan struct{}) { close(ch) }, done)
	b = nil
	assert.True(t, collected(done), "the bridge holds nothing of a closed breaker")
	runtime.KeepAlive(keep)
}

func TestRegistrationHeldByItsUnregisterFunc(t *testing.T) {
	// The bridge keeps a registration as long as the func Register returned
	// is reachable (a breaker keeps it until Close), and no longer.
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	done := make(chan struct{})
	st := &stateBox{s: sdk.StateOpen}
	runtime.AddCleanup(st, func(ch chan struct{}) { close(ch) }, done)
	unreg := h.Register(sdk.Registration{Name: "r", State: st.get})
	st = nil
	for range 3 {
		runtime.GC()
	}
	v, ok := testutil.Int64Value(tel.Collect(t), otelbridge.StateMetric, name("r"), state("open"))
	assert.True(t, ok)
	assert.Equal(t, int64(1), v)
	runtime.KeepAlive(unreg)
	unreg = nil
	assert.True(t, collected(done))
	assert.Empty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))
	_ = unreg
}

// stateBox is large enough not to be a tiny allocation, which a cleanup
// might never see collected.
type stateBox struct {
	s sdk.State
	_ [32]byte
}

func (b *stateBox) get() sdk.State { return b.s }

func TestSampledOutSpanStillPropagates(t *testing.T) {
	// A span the sampler drops records nothing, but its context (a new span
	// ID, not sampled) still reaches the function, so that the spans the
	// function starts are dropped with it under a parent-based sampler.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := otelbridge.Hooks(otelbridge.WithTracerProvider(tp))
	var inside trace.SpanContext
	call(context.Background(), h, sdk.CallStart{Name: "a", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess},
		func(ctx context.Context) { inside = trace.SpanContextFromContext(ctx) })
	assert.True(t, inside.IsValid())
	assert.False(t, inside.IsSampled())
}

func TestStateChangeEventOnTheBridgesOwnSpan(t *testing.T) {
	// A user's hook after the bridge puts its span in the context: the
	// transition the call causes is an event on the bridge's span, and on
	// no other.
	ta, tb := testutil.NewTelemetry(t), testutil.NewTelemetry(t)
	b, err := breaker.New("pay",
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithHooks(newHooks(ta), spanHook(tb.TracerProvider)))
	require.NoError(t, err)
	defer b.Close()
	require.Error(t, b.Do(context.Background(), func(context.Context) error { return testutil.ErrUnavailable }))
	require.Len(t, ta.Ended(), 1)
	assert.Len(t, testutil.Events(ta.Ended()[0], otelbridge.StateChangeEvent), 1)
	require.Len(t, tb.Ended(), 1)
	assert.Empty(t, tb.Ended()[0].Events())
}
