package testutil_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fluxgate/fluxgate/internal/testutil"
)

func TestFlaky(t *testing.T) {
	f := testutil.NewFlaky(nil, testutil.ErrUnavailable, testutil.ErrNotFound)
	ctx := context.Background()
	var got []error
	for range 4 {
		got = append(got, f.Call(ctx))
	}
	assert.Equal(t, []error{nil, testutil.ErrUnavailable, testutil.ErrNotFound, nil}, got)
	f.SetScript()
	assert.NoError(t, f.Call(ctx))
	assert.Equal(t, 5, f.Calls())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, f.Call(cancelled), context.Canceled)
}

func TestFlakyLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := testutil.NewFlaky(testutil.ErrUnavailable)
		f.SetLatency(time.Second)
		start := time.Now()
		assert.Same(t, testutil.ErrUnavailable, f.Call(context.Background()))
		assert.Equal(t, time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, f.Call(ctx), context.DeadlineExceeded)
	})
}

func TestErrorFixtures(t *testing.T) {
	assert.True(t, testutil.IsServerError(fmt.Errorf("x: %w", testutil.ErrUnavailable)))
	assert.False(t, testutil.IsServerError(testutil.ErrNotFound))
	assert.False(t, testutil.IsServerError(testutil.ErrPlain))
	assert.Equal(t, "503", testutil.ErrUnavailable.ErrorType())
	assert.Equal(t, "c", (&testutil.ClassifiedError{Class: "c", Msg: "m"}).ErrorType())
	assert.Equal(t, "q: typed failure", (&testutil.TypedError{Op: "q"}).Error())
}

func TestTelemetryHelpers(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	_, span := tel.TracerProvider.Tracer("t").Start(context.Background(), "op")
	span.SetAttributes(attribute.String("k", "v"), attribute.Int("n", 1))
	span.AddEvent("e")
	span.End()
	spans := testutil.SpansNamed(tel.Ended(), "op")
	require.Len(t, spans, 1)
	v, ok := testutil.SpanAttr(spans[0], "k")
	assert.True(t, ok)
	assert.Equal(t, "v", v.AsString())
	assert.Equal(t, map[string]any{"k": "v", "n": int64(1)}, testutil.AttrMap(spans[0].Attributes()))
	assert.Len(t, testutil.Events(spans[0], "e"), 1)

	m := tel.MeterProvider.Meter("t")
	c, _ := m.Int64Counter("c")
	h, _ := m.Float64Histogram("h")
	c.Add(context.Background(), 2, metricAttrs("a", "1"))
	h.Record(context.Background(), 0.5, metricAttrs("a", "1"))
	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{"a=1": 2}, testutil.Int64Sums(rm, "c"))
	n, ok := testutil.Int64Value(rm, "c", attribute.String("a", "1"))
	assert.True(t, ok)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, map[string]uint64{"a=1": 1}, testutil.HistogramCounts(rm, "h"))
	dp, ok := testutil.HistogramPoint(rm, "h", attribute.String("a", "1"))
	assert.True(t, ok)
	assert.Equal(t, 0.5, dp.Sum)
	assert.Nil(t, testutil.Int64Sums(rm, "missing"))
	assert.Nil(t, testutil.Int64Sums(rm, "h"), "not a sum")
	assert.Equal(t, 1, testutil.FindMetricPoints(rm, "c"))
	assert.Equal(t, 1, testutil.FindMetricPoints(rm, "h"))
	assert.Equal(t, 0, testutil.FindMetricPoints(rm, "missing"))

	g, _ := m.Float64ObservableGauge("g")
	_, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveFloat64(g, 0.25, metricAttrs("a", "1"))
		return nil
	}, g)
	require.NoError(t, err)
	rm = tel.Collect(t)
	assert.Equal(t, map[string]float64{"a=1": 0.25}, testutil.Gauges[float64](rm, "g"))
	assert.Nil(t, testutil.Gauges[int64](rm, "g"), "not an int64 gauge")
	assert.Equal(t, 1, testutil.FindMetricPoints(rm, "g"))
}
