package otelbridge_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestWindowGaugesOfARealBreaker: the window gauges of a breaker built by
// breaker.New read its window (calls, failure rate, slow rate per
// threshold, failure streak) at collection, from construction on.
func TestWindowGaugesOfARealBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		b, err := breaker.New("w",
			breaker.WithHooks(newHooks(tel)),
			breaker.WithTripper(breaker.MinRequests(1000).And(breaker.SlowRate(0.5, time.Second))),
		)
		require.NoError(t, err)
		defer b.Close()
		key := testutil.Key(name("w"))
		slowKey := testutil.Key(name("w"), threshold(time.Second))

		rm := tel.Collect(t)
		assert.Equal(t, map[string]int64{key: 0}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric), "reported from construction on")
		assert.Nil(t, testutil.Gauges[float64](rm, otelbridge.WindowFailureRateMetric), "no rate of an empty window")

		ctx := context.Background()
		boom := errors.New("boom")
		_ = b.Do(ctx, func(context.Context) error { time.Sleep(2 * time.Second); return nil }) // slow success
		_ = b.Do(ctx, func(context.Context) error { return nil })
		_ = b.Do(ctx, func(context.Context) error { return boom })
		_ = b.Do(ctx, func(context.Context) error { return boom })

		rm = tel.Collect(t)
		assert.Equal(t, map[string]int64{key: 4}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric))
		assert.Equal(t, map[string]int64{key: 2}, testutil.Gauges[int64](rm, otelbridge.FailureStreakMetric))
		assert.Equal(t, map[string]float64{key: 0.5}, testutil.Gauges[float64](rm, otelbridge.WindowFailureRateMetric))
		assert.Equal(t, map[string]float64{slowKey: 0.25}, testutil.Gauges[float64](rm, otelbridge.WindowSlowRateMetric))

		b.Reset(ctx)
		rm = tel.Collect(t)
		assert.Equal(t, map[string]int64{key: 0}, testutil.Gauges[int64](rm, otelbridge.WindowCallsMetric), "a transition resets the window")
		assert.Equal(t, map[string]int64{key: 0}, testutil.Gauges[int64](rm, otelbridge.FailureStreakMetric))
	})
}
