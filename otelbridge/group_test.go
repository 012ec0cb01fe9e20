package otelbridge_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestGroupTelemetry: the breakers of a breaker.Group carry the group's name
// and their key on spans and metrics; the state gauge reports every live
// key from its first Get on, and stops reporting a key once the group
// evicted (and so closed) its breaker, while an open key, which is never
// evicted, goes on being reported.
func TestGroupTelemetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		g, err := breaker.NewGroup("hosts",
			breaker.WithHooks(newHooks(tel)),
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
			breaker.WithIdleTimeout(time.Minute),
		)
		require.NoError(t, err)
		defer g.Close()
		ctx := context.Background()
		key := func(k string) attribute.KeyValue { return otelbridge.KeyKey.String(k) }
		state := func(k string, s sdk.State) string {
			return testutil.Key(name("hosts"), key(k), otelbridge.StateKey.String(s.String()))
		}

		a, err := g.Get("a.example")
		require.NoError(t, err)
		bad, err := g.Get("b.example")
		require.NoError(t, err)
		require.NoError(t, a.Do(ctx, func(context.Context) error { return nil }))
		require.Error(t, bad.Do(ctx, func(context.Context) error { return errors.New("down") }))
		require.Equal(t, sdk.StateOpen, bad.State())

		rm := tel.Collect(t)
		gauge := testutil.Int64Sums(rm, otelbridge.StateMetric)
		assert.Equal(t, int64(1), gauge[state("a.example", sdk.StateClosed)])
		assert.Equal(t, int64(1), gauge[state("b.example", sdk.StateOpen)])
		calls := testutil.Int64Sums(rm, otelbridge.CallsMetric)
		var keys []string
		for k := range calls {
			keys = append(keys, k)
		}
		assert.Contains(t, calls, testutil.Key(name("hosts"), key("a.example"),
			otelbridge.StateKey.String("closed"), otelbridge.OutcomeKey.String("success")), "calls carry the key: %v", keys)

		var keyed int
		for _, s := range tel.Spans.Ended() {
			for _, kv := range s.Attributes() {
				if kv.Key == otelbridge.KeyKey {
					keyed++
				}
			}
		}
		assert.Equal(t, 2, keyed, "each call's span carries its key")

		time.Sleep(2 * time.Minute)
		assert.Equal(t, 1, g.EvictIdle(), "the idle closed key goes; the open one stays")
		rm = tel.Collect(t)
		gauge = testutil.Int64Sums(rm, otelbridge.StateMetric)
		for _, s := range []sdk.State{sdk.StateClosed, sdk.StateOpen, sdk.StateHalfOpen} {
			_, ok := gauge[state("a.example", s)]
			assert.False(t, ok, "the evicted key is no longer reported (%s)", s)
		}
		assert.Equal(t, int64(1), gauge[state("b.example", sdk.StateOpen)], "the open key is still reported")
	})
}
