package otelbridge_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

// windowBox is a breaker's window as a test sets it.
type windowBox struct {
	mu sync.Mutex
	w  sdk.WindowSnapshot
}

func (b *windowBox) set(w sdk.WindowSnapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.w = w
}

func (b *windowBox) get() sdk.WindowSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w
}

func threshold(d time.Duration) attribute.KeyValue {
	return otelbridge.SlowThresholdKey.Float64(d.Seconds())
}

func TestWindowGauges(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	w := &windowBox{}
	unreg := h.Register(sdk.Registration{Name: "p", State: func() sdk.State { return sdk.StateClosed }, Window: w.get})
	defer unreg()
	slow := func(n100, n500 int) []sdk.SlowCount {
		return []sdk.SlowCount{{Threshold: 100 * time.Millisecond, Calls: n100}, {Threshold: 500 * time.Millisecond, Calls: n500}}
	}

	// An empty window: the counts, no rates.
	w.set(sdk.WindowSnapshot{Slow: slow(0, 0)})
	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{testutil.Key(name("p")): 0}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric))
	assert.Equal(t, map[string]int64{testutil.Key(name("p")): 0}, testutil.Gauges[int64](rm, otelbridge.FailureStreakMetric))
	assert.Nil(t, testutil.Gauges[float64](rm, otelbridge.WindowFailureRateMetric), "no rate of an empty window")
	assert.Nil(t, testutil.Gauges[float64](rm, otelbridge.WindowSlowRateMetric))

	w.set(sdk.WindowSnapshot{Calls: 8, Failures: 2, ConsecutiveFailures: 1, Slow: slow(4, 1)})
	rm = tel.Collect(t)
	assert.Equal(t, map[string]int64{testutil.Key(name("p")): 8}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric))
	assert.Equal(t, map[string]int64{testutil.Key(name("p")): 1}, testutil.Gauges[int64](rm, otelbridge.FailureStreakMetric))
	assert.Equal(t, map[string]float64{testutil.Key(name("p")): 0.25}, testutil.Gauges[float64](rm, otelbridge.WindowFailureRateMetric))
	assert.Equal(t, map[string]float64{
		testutil.Key(name("p"), threshold(100*time.Millisecond)): 0.5,
		testutil.Key(name("p"), threshold(500*time.Millisecond)): 0.125,
	}, testutil.Gauges[float64](rm, otelbridge.WindowSlowRateMetric), "one series per threshold, in seconds")

	for metricName, unit := range map[string]string{
		otelbridge.WindowCallsMetric:       "{call}",
		otelbridge.WindowFailureRateMetric: "1",
		otelbridge.WindowSlowRateMetric:    "1",
		otelbridge.FailureStreakMetric:     "{call}",
	} {
		m, scope, ok := testutil.FindMetric(rm, metricName)
		require.True(t, ok, metricName)
		assert.Equal(t, unit, m.Unit, metricName)
		assert.NotEmpty(t, m.Description, metricName)
		assert.Equal(t, otelbridge.ScopeName, scope.Name)
	}
}

func TestWindowGaugesOfAGroup(t *testing.T) {
	snapshots := map[string]sdk.WindowSnapshot{
		"a": {Calls: 10, Failures: 5, ConsecutiveFailures: 3, Slow: []sdk.SlowCount{{Threshold: time.Second, Calls: 2}}},
		"b": {Calls: 30, Failures: 5, ConsecutiveFailures: 1, Slow: []sdk.SlowCount{{Threshold: time.Second, Calls: 0}}},
	}
	tests := []struct {
		name        string
		on          bool
		wantCalls   map[string]int64
		wantStreak  map[string]int64
		wantFailure map[string]float64
		wantSlow    map[string]float64
	}{
		{
			name:        "key on metrics: one series per key",
			on:          true,
			wantCalls:   map[string]int64{testutil.Key(name("g"), key("a")): 10, testutil.Key(name("g"), key("b")): 30},
			wantStreak:  map[string]int64{testutil.Key(name("g"), key("a")): 3, testutil.Key(name("g"), key("b")): 1},
			wantFailure: map[string]float64{testutil.Key(name("g"), key("a")): 0.5, testutil.Key(name("g"), key("b")): 5.0 / 30},
			wantSlow: map[string]float64{
				testutil.Key(name("g"), key("a"), threshold(time.Second)): 0.2,
				testutil.Key(name("g"), key("b"), threshold(time.Second)): 0,
			},
		},
		{
			name:        "key off metrics: the group's window as a whole",
			wantCalls:   map[string]int64{testutil.Key(name("g")): 40},
			wantStreak:  map[string]int64{testutil.Key(name("g")): 3}, // the longest
			wantFailure: map[string]float64{testutil.Key(name("g")): 0.25},
			wantSlow:    map[string]float64{testutil.Key(name("g"), threshold(time.Second)): 0.05},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel, otelbridge.WithKeyOnMetrics(tt.on))
			for k, w := range snapshots {
				unreg := h.Register(sdk.Registration{Name: "g", Key: k, Window: func() sdk.WindowSnapshot { return w }})
				t.Cleanup(unreg)
			}
			rm := tel.Collect(t)
			assert.Equal(t, tt.wantCalls, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric))
			assert.Equal(t, tt.wantStreak, testutil.Gauges[int64](rm, otelbridge.FailureStreakMetric))
			assert.InDeltaMapValues(t, tt.wantFailure, testutil.Gauges[float64](rm, otelbridge.WindowFailureRateMetric), 1e-12)
			assert.InDeltaMapValues(t, tt.wantSlow, testutil.Gauges[float64](rm, otelbridge.WindowSlowRateMetric), 1e-12)
			assert.Nil(t, testutil.Int64Sums(rm, otelbridge.StateMetric), "no state without a State func")
		})
	}
}

func TestWindowGaugesStopWithUnregister(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	unreg := h.Register(sdk.Registration{Name: "p", Window: func() sdk.WindowSnapshot { return sdk.WindowSnapshot{Calls: 1} }})
	require.NotNil(t, testutil.Gauges[int64](tel.Collect(t), otelbridge.WindowCallsMetric))
	unreg()
	assert.Nil(t, testutil.Gauges[int64](tel.Collect(t), otelbridge.WindowCallsMetric))
}

func TestPanickingStateAndWindowFuncs(t *testing.T) {
	handled := captureHandled(t)
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	t.Cleanup(h.Register(sdk.Registration{Name: "bad",
		State:  func() sdk.State { panic("state") },
		Window: func() sdk.WindowSnapshot { panic("window") }}))
	t.Cleanup(h.Register(sdk.Registration{Name: "good", State: func() sdk.State { return sdk.StateOpen },
		Window: func() sdk.WindowSnapshot { return sdk.WindowSnapshot{Calls: 3} }}))
	var rm metricdata.ResourceMetrics
	require.NotPanics(t, func() { rm = tel.Collect(t) })
	v, ok := testutil.Int64Value(rm, otelbridge.StateMetric, name("good"), state("open"))
	assert.True(t, ok)
	assert.Equal(t, int64(1), v)
	assert.Equal(t, map[string]int64{testutil.Key(name("good")): 3}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric))
	assert.Equal(t, []string{`otelbridge: reading the state of breaker "bad" panicked (reported once per breaker): state`}, handled())
}

func TestPanickingStateFuncLeavesItsSeriesOut(t *testing.T) {
	captureHandled(t)
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	t.Cleanup(h.Register(sdk.Registration{Name: "bad", State: func() sdk.State { panic("state") }}))
	assert.Nil(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))
}
