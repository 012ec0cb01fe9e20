package breaker_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestWithEnforcementIsValidated(t *testing.T) {
	for _, f := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		_, err := breaker.New("x", breaker.WithEnforcement(f))
		var ce *breaker.ConfigError
		require.ErrorAs(t, err, &ce, "%v", f)
		assert.Contains(t, err.Error(), "WithEnforcement(")
		assert.Contains(t, err.Error(), "must be from 0 to 1")
	}
	b := mustNew(t, breaker.WithEnforcement(0.25))
	assert.Equal(t, 0.25, b.Enforcement())
	assert.Equal(t, 0.25, b.Info().Enforcement)
	var ce *breaker.ConfigError
	require.ErrorAs(t, b.SetEnforcement(2), &ce)
	assert.Equal(t, 0.25, b.Enforcement(), "an invalid enforcement changes nothing")
	require.NoError(t, b.SetEnforcement(0))
	assert.Equal(t, 0.0, b.Enforcement())
	assert.Equal(t, 1.0, mustNew(t).Enforcement(), "default")
}

// A shadow breaker opens as an enforcing one does, then lets every call
// through without recording it; its hooks see WouldReject.
func TestShadowBreakerLetsThroughWhatItWouldRefuse(t *testing.T) {
	rec := &callRecorder{}
	b := mustNew(t, breaker.WithEnforcement(0), breaker.WithTripper(breaker.FailureStreak(2)),
		breaker.WithRetry(breaker.Cooldown(time.Hour, 0)), breaker.WithHooks(rec.hooks()))
	for range 2 {
		_, _ = call(b, failing)
	}
	require.Equal(t, sdk.StateOpen, b.State())
	ran := 0
	for range 5 {
		v, err := call(b, func(context.Context) (int, error) { ran++; return 7, nil })
		require.NoError(t, err)
		assert.Equal(t, 7, v)
	}
	_, err := call(b, failing)
	assert.ErrorIs(t, err, errFail, "the function's own error, untouched")
	assert.Equal(t, 5, ran)
	assert.Equal(t, sdk.StateOpen, b.State(), "let-through calls make no transition")
	assert.Zero(t, b.Info().Metric.TotalCount, "nor are they recorded")
	ends := rec.endList()
	require.Len(t, ends, 8)
	for i, e := range ends[2:] {
		assert.True(t, e.WouldReject, "call %d", i)
		assert.Equal(t, sdk.StateOpen, e.State)
		assert.NotEqual(t, sdk.OutcomeRejected, e.Outcome)
	}
	assert.False(t, ends[0].WouldReject)
}

func TestForcedOpenIsAlwaysEnforced(t *testing.T) {
	b := mustNew(t, breaker.WithEnforcement(0))
	b.ForceOpen(context.Background())
	_, err := call(b, double(1))
	requireRejected(t, err, sdk.StateForcedOpen)
}

// Between 0 and 1, each would-be refusal is enforced with probability f,
// drawn from the WithRand source.
func TestPartialEnforcementRefusesThatFraction(t *testing.T) {
	draws := []float64{0.1, 0.9, 0.49, 0.5, 0.2}
	i := 0
	rnd := func() float64 { v := draws[i%len(draws)]; i++; return v }
	b := mustNew(t, breaker.WithEnforcement(0.5), breaker.WithRand(rnd), breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Hour, 0)))
	_, _ = call(b, failing)
	require.Equal(t, sdk.StateOpen, b.State())
	var got []bool
	for range draws {
		_, err := call(b, double(1))
		got = append(got, err != nil)
	}
	assert.Equal(t, []bool{true, false, true, false, true}, got)
}

// A call that would wait for a half-open slot is let through at once, and
// holds no slot: the probe's outcome alone decides.
func TestShadowCallDoesNotWaitForAHalfOpenSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &transitions{}
		b := mustNew(t, breaker.WithEnforcement(0), breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()),
			breaker.WithMaxHalfOpenCalls(1), breaker.WithHalfOpenWait(time.Hour), breaker.WithHooks(tr.hooks()))
		_, _ = call(b, failing)
		probe, err := b.Allow(context.Background()) // open -> half_open, holds the slot
		require.NoError(t, err)
		start := time.Now()
		_, err = call(b, failing) // would wait; runs at once, not recorded
		require.ErrorIs(t, err, errFail)
		assert.Zero(t, time.Since(start))
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "the let-through failure did not re-open it")
		probe.Done(nil)
		assert.Equal(t, sdk.StateClosed, b.State())
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->closed"}, tr.pairs())
	})
}
