package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// With no options, the call that finds the cooldown over is always
// admitted as a probe: in 20 of 20 fresh breakers, with the real random
// source.
func TestDefaultsAdmitTheFirstCallAfterTheCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		admitted := 0
		for range 20 {
			b := mustNew(t)
			tripOpen(t, b, 20)
			time.Sleep(60 * time.Second)
			ran := false
			err := b.Do(context.Background(), func(context.Context) error { ran = true; return nil })
			if err == nil && ran {
				admitted++
			}
		}
		assert.Equal(t, 20, admitted, "first calls admitted after the cooldown")
	})
}

// With no options, a failed probe re-opens the breaker at once, and 5
// successful probes in a row close it.
func TestDefaultsHalfOpenDecidesOnProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, breaker.WithHooks(rec.hooks()))
		tripOpen(t, b, 20)
		time.Sleep(60 * time.Second)
		_, err := call(b, failing)
		require.ErrorIs(t, err, errFail, "the first call after the cooldown ran")
		assert.Equal(t, sdk.StateOpen, b.State(), "one failed probe re-opens")
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->open"}, rec.pairs())

		time.Sleep(60 * time.Second)
		// Later probes are admitted by RampUp(0.1, 1.0, 60s): once it has
		// ramped up, every call is.
		_, err = call(b, double(1))
		require.NoError(t, err)
		require.Equal(t, sdk.StateHalfOpen, b.State())
		time.Sleep(60 * time.Second)
		for i := 2; i <= 4; i++ {
			_, err = call(b, double(1))
			require.NoError(t, err)
			require.Equal(t, sdk.StateHalfOpen, b.State(), "%d successful probes", i)
		}
		_, err = call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, sdk.StateClosed, b.State(), "5 successful probes in a row close")
	})
}

// The default permit is AdmitFirst(RampUp(0.1, 1.0, 60s)): the calls after
// the first one of a half-open period are ramped.
func TestDefaultPermitRampsTheCallsAfterTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithRand(func() float64 { return 0.5 }))
		tripOpen(t, b, 20)
		time.Sleep(60 * time.Second)
		first, err := b.Allow(context.Background())
		require.NoError(t, err, "the first call is admitted whatever the draw")
		_, err = b.Allow(context.Background())
		requireRejected(t, err, sdk.StateHalfOpen)
		time.Sleep(30 * time.Second)
		second, err := b.Allow(context.Background())
		require.NoError(t, err, "0.5 < 0.1 + 0.9 × 0.5 + a little")
		first.Done(nil)
		second.Done(nil)
	})
}

// An explicit plain permit decides the first call too, as in fluxgate;
// AdmitFirst admits it whatever the permit says.
func TestAdmitFirst(t *testing.T) {
	for _, tc := range []struct {
		permit breaker.Permit
		first  bool
	}{
		{breaker.RampUp(0.1, 1.0, time.Minute), false},
		{breaker.Random(0), false},
		{breaker.PermitFunc(func(time.Duration) bool { return false }), false},
		{breaker.AdmitFirst(breaker.RampUp(0.1, 1.0, time.Minute)), true},
		{breaker.AdmitFirst(breaker.Random(0)), true},
		{breaker.AdmitFirst(breaker.AdmitFirst(breaker.Random(0))), true},
		{breaker.AdmitFirst(breaker.PermitFunc(func(time.Duration) bool { return false })), true},
	} {
		t.Run(tc.permit.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, breaker.WithPermit(tc.permit), breaker.WithTripper(breaker.FailureStreak(1)),
					breaker.WithRetry(breaker.Cooldown(time.Second, 0)), breaker.WithRand(func() float64 { return 0.5 }))
				tripOpen(t, b, 1)
				time.Sleep(time.Second)
				c, err := b.Allow(context.Background())
				assert.Equal(t, sdk.StateHalfOpen, b.State(), "the call moved the breaker to half-open either way")
				if !tc.first {
					requireRejected(t, err, sdk.StateHalfOpen)
					return
				}
				require.NoError(t, err)
				_, err = b.Allow(context.Background())
				requireRejected(t, err, sdk.StateHalfOpen) // the later calls are the permit's
				c.Done(nil)
				assert.Equal(t, sdk.StateClosed, b.State())
			})
		})
	}
}

func TestAdmitFirstString(t *testing.T) {
	assert.Equal(t, "AdmitFirst(RampUp(0.1, 1, 1m0s))", breaker.AdmitFirst(breaker.RampUp(0.1, 1, time.Minute)).String())
	assert.Equal(t, "AdmitFirst(All())", breaker.AdmitFirst(breaker.AdmitFirst(breaker.All())).String())
	assert.Equal(t, 1.0, breaker.AdmitFirst(breaker.All()).Ratio(0))
	assert.Equal(t, 0.5, breaker.AdmitFirst(breaker.Random(0.5)).Ratio(time.Hour))
	_, err := breaker.New("x", breaker.WithPermit(breaker.AdmitFirst(breaker.Permit{})))
	require.ErrorContains(t, err, "AdmitFirst: permit is unset")
	_, err = breaker.New("x", breaker.WithPermit(breaker.AdmitFirst(breaker.Random(2))))
	require.ErrorContains(t, err, "Random(2): ratio must be between 0.0 and 1.0")
}

// WithFluxgateDefaults gives fluxgate's components: the tripper needs 100
// calls, the first call after the cooldown is admitted only if
// RampUp(0.1, 1.0, 60s) says so, one successful probe closes (the
// half-open trap), and there is no half-open timeout.
func TestWithFluxgateDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		draw := 0.5
		b := mustNew(t, breaker.WithFluxgateDefaults(), breaker.WithRand(func() float64 { return draw }))
		for range 99 {
			_, _ = call(b, failing)
		}
		require.Equal(t, sdk.StateClosed, b.State(), "99 calls are too few for MinRequests(100)")
		_, _ = call(b, failing)
		require.Equal(t, sdk.StateOpen, b.State())
		time.Sleep(60 * time.Second)
		_, err := call(b, double(1))
		requireRejected(t, err, sdk.StateHalfOpen) // 0.5 >= 0.1
		draw = 0.05
		_, err = call(b, failing)
		require.ErrorIs(t, err, errFail)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "one failed probe does not re-open")

		// Ten probes that never report hold every slot for good.
		var leaked []breaker.Call
		for range 9 {
			c, err := b.Allow(context.Background())
			require.NoError(t, err)
			leaked = append(leaked, c)
		}
		c, err := b.Allow(context.Background())
		require.NoError(t, err)
		leaked = append(leaked, c)
		time.Sleep(time.Hour)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "no half-open timeout")
		_, err = call(b, double(1))
		requireRejected(t, err, sdk.StateHalfOpen)
		leaked[0].Done(nil)
		assert.Equal(t, sdk.StateClosed, b.State(), "one successful probe closes")
		for _, c := range leaked[1:] {
			c.Done(nil)
		}
	})
}

// Options after WithFluxgateDefaults override it, and it overrides the
// options before it.
func TestWithFluxgateDefaultsOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithFluxgateDefaults(), breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithPermit(breaker.All()), breaker.WithHalfOpenTimeout(time.Minute), breaker.WithMaxHalfOpenCalls(1))
		tripOpen(t, b, 1)
		time.Sleep(60 * time.Second)
		c, err := b.Allow(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Minute)
		assert.Equal(t, sdk.StateOpen, b.State(), "the half-open timeout set after it applies")
		c.Done(nil)

		b = mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithFluxgateDefaults())
		tripOpen(t, b, 100)
	})
}

func TestWithHalfOpenTimeoutValidation(t *testing.T) {
	_, err := breaker.New("x", breaker.WithHalfOpenTimeout(-time.Second))
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorContains(t, err, "WithHalfOpenTimeout(-1s): must not be negative")
	_, err = breaker.New("x", breaker.WithHalfOpenTimeout(0))
	require.NoError(t, err)
}

// WithFluxgateDefaults is an option of NewGroup too.
func TestWithFluxgateDefaultsInAGroup(t *testing.T) {
	g, err := breaker.NewGroup("g", breaker.WithFluxgateDefaults())
	require.NoError(t, err)
	defer g.Close()
	b, err := g.Get("k")
	require.NoError(t, err)
	for range 99 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State(), "MinRequests(100)")
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State())
}
