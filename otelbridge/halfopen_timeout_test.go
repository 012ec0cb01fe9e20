package otelbridge_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// A half-open breaker whose only slot is held by a probe that never
// reports re-opens after the half-open timeout, on the next call: the
// transition is counted like any other, and the refused call's span gets
// the state_change event with reason half_open_timeout.
func TestBreakerHalfOpenTimeoutTransition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		b, err := breaker.New("p",
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()),
			breaker.WithMaxHalfOpenCalls(1),
			breaker.WithHalfOpenWait(0),
			breaker.WithHalfOpenTimeout(10*time.Second),
			breaker.WithHooks(newHooks(tel)),
		)
		require.NoError(t, err)
		defer b.Close()
		ctx := context.Background()
		_ = b.Do(ctx, fails(testutil.ErrUnavailable))
		time.Sleep(time.Second)
		leaked, err := b.Allow(ctx)
		require.NoError(t, err)
		time.Sleep(10 * time.Second)
		err = b.Do(ctx, func(context.Context) error { return nil })
		var npe breaker.NotPermittedError
		require.ErrorAs(t, err, &npe)
		assert.Equal(t, sdk.StateOpen, npe.State())
		spans := tel.Ended()
		refused := spans[len(spans)-1]
		leaked.Done(nil) // stale
		var reasons []string
		for _, e := range refused.Events() {
			if e.Name == otelbridge.StateChangeEvent {
				m := testutil.AttrMap(e.Attributes)
				reasons = append(reasons, m["circuit_breaker.previous_state"].(string)+"→"+m["circuit_breaker.state"].(string)+" "+
					m["circuit_breaker.transition.reason"].(string))
				assert.Equal(t, int64(1), m["circuit_breaker.window.failures"], "the leaked probe counted as a failure")
			}
		}
		assert.Equal(t, []string{"half_open→open half_open_timeout"}, reasons)
		assert.Equal(t, int64(1), testutil.Int64Sums(tel.Collect(t), otelbridge.TransitionsMetric)[testutil.Key(
			name("p"), prevState("half_open"), state("open"))])
	})
}
