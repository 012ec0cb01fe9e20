package breaker_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// recommendedHalfOpen is the rule the package docs recommend: fluxgate's
// closed-state rule, limited to the closed state, and "close after 5
// successes in a row, re-open on the first counted failure" in half-open.
func recommendedHalfOpen() breaker.Tripper {
	return breaker.Closed().And(breaker.MinRequests(20).And(breaker.FailureRate(0.5))).Or(breaker.SuccessesToClose(5))
}

// toHalfOpen waits out the cooldown of a breaker built with Cooldown(d)
// and All(); the next call is a probe.
func toHalfOpen(t *testing.T, b *breaker.Breaker, d time.Duration) {
	t.Helper()
	require.Equal(t, sdk.StateOpen, b.State())
	time.Sleep(d)
}

// The half-open trap, kept for parity with fluxgate: with fluxgate's default
// tripper (WithFluxgateDefaults), one success closes the breaker after 30 failed probes, and
// re-opening takes 100 failed probes in a row.
func TestDefaultTripperHalfOpenTrap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithFluxgateDefaults(), breaker.WithRetry(breaker.Cooldown(time.Second, 0)), breaker.WithPermit(breaker.All()))
		tripOpen(t, b, 100)
		toHalfOpen(t, b, time.Second)
		for range 30 {
			_, _ = call(b, failing)
		}
		require.Equal(t, sdk.StateHalfOpen, b.State(), "30 failed probes do not re-open")
		_, err := call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, sdk.StateClosed, b.State(), "one success closes")

		tripOpen(t, b, 100)
		toHalfOpen(t, b, time.Second)
		for range 99 {
			_, _ = call(b, failing)
		}
		require.Equal(t, sdk.StateHalfOpen, b.State(), "99 failed probes do not re-open")
		_, _ = call(b, failing)
		assert.Equal(t, sdk.StateOpen, b.State(), "the 100th does")
	})
}

// With the recommended rule, a half-open breaker closes after 5 successes
// in a row and re-opens on the first counted failure; ignored errors do not
// break the streak; once closed, the closed-state rule decides again.
func TestSuccessesToCloseInABreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		ignored := &valueError{"ignored"}
		b := mustNew(t,
			breaker.WithTripper(recommendedHalfOpen()),
			breaker.WithTracker(tracker.Custom(func(_ context.Context, err error) bool { return !errors.Is(err, ignored) })),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()),
			breaker.WithHooks(rec.hooks()))
		for range 19 {
			_, _ = call(b, failing)
		}
		require.Equal(t, sdk.StateClosed, b.State(), "MinRequests(20) still decides while closed")
		_, _ = call(b, failing)
		require.Equal(t, sdk.StateOpen, b.State())

		toHalfOpen(t, b, time.Second)
		for range 4 {
			_, err := call(b, double(1))
			require.NoError(t, err)
		}
		require.Equal(t, sdk.StateHalfOpen, b.State(), "4 successes do not close")
		_, _ = call(b, failing)
		require.Equal(t, sdk.StateOpen, b.State(), "the first counted failure re-opens")

		toHalfOpen(t, b, time.Second)
		for i := range 5 {
			_, err := call(b, double(1)) // the first one moves the breaker to half-open
			require.Equal(t, i < 4, b.State() == sdk.StateHalfOpen, "after %d successes", i+1)
			require.NoError(t, err)
			if i == 2 {
				_, err = call(b, failWith(ignored))
				require.ErrorIs(t, err, ignored)
			}
		}
		require.Equal(t, sdk.StateClosed, b.State(), "5 successes in a row close, an ignored error in between")
		for range 19 {
			_, _ = call(b, failing)
		}
		require.Equal(t, sdk.StateClosed, b.State(), "closed again: 19 failures stay below MinRequests(20)")
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"}, rec.pairs())
	})
}

// A tripper sees both streaks; a recorded success ends the failure streak
// and a counted failure the success streak, an ignored error neither, and
// entry into half-open or closed starts both at 0.
func TestCallContextStreaks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type streaks struct {
			state     sdk.State
			fails, ok int
		}
		var seen []streaks
		ignored := &valueError{"ignored"}
		spy := breaker.TripperFunc("spy", func(c breaker.CallContext) bool {
			seen = append(seen, streaks{c.State, c.ConsecutiveFailures, c.ConsecutiveSuccesses})
			return c.ConsecutiveFailures >= 3
		})
		b := mustNew(t,
			breaker.WithTripper(spy),
			breaker.WithTracker(tracker.Custom(func(_ context.Context, err error) bool { return !errors.Is(err, ignored) })),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()))
		ok := double(1)
		for _, fn := range []func(context.Context) (int, error){ok, ok, failing, failWith(ignored), failing, ok, failing, failing, failing} {
			_, _ = call(b, fn)
		}
		require.Equal(t, sdk.StateOpen, b.State())
		assert.Equal(t, 3, b.Info().ConsecutiveFailures)
		time.Sleep(time.Second)
		_, _ = call(b, ok)
		_, _ = call(b, ok)
		assert.Equal(t, 0, b.Info().ConsecutiveFailures, "Info reports the failure streak only")
		c, h := sdk.StateClosed, sdk.StateHalfOpen
		assert.Equal(t, []streaks{
			{c, 0, 1}, {c, 0, 2}, {c, 1, 0}, {c, 2, 0}, {c, 0, 1}, {c, 1, 0}, {c, 2, 0}, {c, 3, 0},
			{h, 0, 1}, // the probe closes the breaker
			{c, 0, 1}, // entry into closed started the streak again
		}, seen)
	})
}
