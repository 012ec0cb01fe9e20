package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Ports of fluxgate's tests/test_circuitbreaker.py, case by case.

func TestSuccessfulCallsPassThrough(t *testing.T) {
	b := mustNew(t)
	v, err := call(b, double(5))
	require.NoError(t, err)
	assert.Equal(t, 10, v)
	v, err = call(b, double(10))
	require.NoError(t, err)
	assert.Equal(t, 20, v)
	info := b.Info()
	assert.Equal(t, sdk.StateClosed, info.State)
	assert.Equal(t, 2, info.Metric.TotalCount)
	assert.Equal(t, 0, info.Metric.FailureCount)
}

func TestFailureIsRecorded(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(10).And(breaker.FailureRate(0.5))))
	_, err := call(b, failing)
	require.Same(t, errFail, err, "the function's error is returned untouched")
	m := b.Info().Metric
	assert.Equal(t, 1, m.TotalCount)
	assert.Equal(t, 1, m.FailureCount)
}

func TestClosedToOpen(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(3).And(breaker.FailureRate(0.5))))
	for range 3 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestOpenBlocksCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t,
			breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Cooldown(10*time.Second, 0)))
		for range 2 {
			_, _ = call(b, failing)
		}
		ran := false
		_, err := call(b, func(context.Context) (int, error) { ran = true; return 1, nil })
		assert.False(t, ran)
		npe := requireRejected(t, err, sdk.StateOpen)
		assert.Equal(t, "circuit breaker is open", err.Error())
		assert.Equal(t, "test", npe.Name())
		assert.Equal(t, 10*time.Second, npe.RetryAfter())
		assert.Equal(t, "circuit_breaker_open", npe.ErrorType())
		time.Sleep(4 * time.Second)
		assert.Equal(t, 6*time.Second, npe.RetryAfter())
		assert.Equal(t, 0, b.Info().Metric.TotalCount, "rejections record nothing")
	})
}

// halfOpenConfig is the configuration of fluxgate's half-open tests.
func halfOpenConfig(tripper breaker.Tripper) []breaker.Option {
	return []breaker.Option{
		breaker.WithTripper(tripper),
		breaker.WithRetry(breaker.Cooldown(60*time.Second, 0)),
		breaker.WithPermit(breaker.All()),
	}
}

func tripOpen(t *testing.T, b *breaker.Breaker, n int) {
	t.Helper()
	for range n {
		_, _ = call(b, failing)
	}
	require.Equal(t, sdk.StateOpen, b.State())
}

func TestOpenToHalfOpenAfterCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, append(halfOpenConfig(breaker.MinRequests(2).And(breaker.FailureRate(0.5))), breaker.WithHooks(rec.hooks()))...)
		tripOpen(t, b, 2)
		time.Sleep(59 * time.Second)
		_, err := call(b, double(1))
		requireRejected(t, err, sdk.StateOpen)
		time.Sleep(2 * time.Second)
		assert.Equal(t, sdk.StateOpen, b.State(), "the move to half-open is lazy")
		v, err := call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, 2, v)
		// The same call went through half-open as a probe and closed the breaker.
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->closed"}, rec.pairs())
		assert.Equal(t, sdk.ReasonRetry, rec.list()[1].Reason)
	})
}

func TestHalfOpenToClosedOnFirstSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.MinRequests(2).And(breaker.FailureRate(0.5)))...)
		tripOpen(t, b, 2)
		time.Sleep(61 * time.Second)
		_, err := call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, sdk.StateClosed, b.State())
		for range 2 {
			_, err = call(b, double(1))
			require.NoError(t, err)
		}
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestHalfOpenToOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.MinRequests(2).And(breaker.FailureRate(0.5)))...)
		tripOpen(t, b, 2)
		initial := b.Info().Reopens
		time.Sleep(61 * time.Second)
		_, _ = call(b, failing)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "MinRequests(2) is not met by one probe")
		_, _ = call(b, failing)
		assert.Equal(t, sdk.StateOpen, b.State())
		assert.Equal(t, initial+1, b.Info().Reopens)
	})
}

func TestHalfOpenSuccessDoesNotCloseWhileTripperTrue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.MinRequests(3).And(breaker.FailureRate(0.5)))...)
		tripOpen(t, b, 3)
		time.Sleep(61 * time.Second)
		_, _ = call(b, failing)
		_, _ = call(b, failing)
		_, err := call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "3 calls, 67%% failed: the tripper is still true")
	})
}

func TestPermitBlocksInHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t,
			breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Cooldown(60*time.Second, 0)),
			breaker.WithPermit(breaker.Random(0)))
		tripOpen(t, b, 2)
		time.Sleep(61 * time.Second)
		_, err := call(b, double(1))
		npe := requireRejected(t, err, sdk.StateHalfOpen)
		assert.Equal(t, "circuit breaker is half-open, not executing", npe.Error())
		assert.Equal(t, "circuit_breaker_half_open", npe.ErrorType())
		assert.Equal(t, sdk.StateHalfOpen, b.State())
		assert.Equal(t, 0, b.Info().Metric.TotalCount)
	})
}

func TestResetFromOpen(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))))
	tripOpen(t, b, 2)
	b.Reset(context.Background())
	assert.Equal(t, sdk.StateClosed, b.State())
	v, err := call(b, double(2))
	require.NoError(t, err)
	assert.Equal(t, 4, v)
}

func TestDisable(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(1).And(breaker.FailureRate(0.5))))
	b.Disable(context.Background())
	assert.Equal(t, sdk.StateDisabled, b.State())
	for range 5 {
		_, err := call(b, failing)
		require.Same(t, errFail, err)
	}
	assert.Equal(t, sdk.StateDisabled, b.State())
	assert.Equal(t, 0, b.Info().Metric.TotalCount, "disabled records nothing")
}

func TestForceOpen(t *testing.T) {
	b := mustNew(t)
	b.ForceOpen(context.Background())
	assert.Equal(t, sdk.StateForcedOpen, b.State())
	_, err := call(b, double(1))
	npe := requireRejected(t, err, sdk.StateForcedOpen)
	assert.Equal(t, "circuit breaker is forced open", npe.Error())
	assert.Equal(t, "circuit_breaker_forced_open", npe.ErrorType())
	assert.Zero(t, npe.RetryAfter())
}

func TestMetricsOnlyNeverTrips(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))))
	b.MetricsOnly(context.Background())
	for range 5 {
		_, _ = call(b, failing)
	}
	info := b.Info()
	assert.Equal(t, sdk.StateMetricsOnly, info.State)
	assert.Equal(t, 5, info.Metric.FailureCount)
	assert.Equal(t, 5, info.ConsecutiveFailures, "the streak still grows")
}

func TestMetricsOnlyRecordsSuccesses(t *testing.T) {
	b := mustNew(t)
	b.MetricsOnly(context.Background())
	for range 3 {
		_, err := call(b, double(1))
		require.NoError(t, err)
	}
	m := b.Info().Metric
	assert.Equal(t, 3, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Equal(t, sdk.StateMetricsOnly, b.State())
}

func TestIgnoredErrorIsNotRecorded(t *testing.T) {
	for _, st := range []func(*breaker.Breaker){
		func(*breaker.Breaker) {},
		func(b *breaker.Breaker) { b.MetricsOnly(context.Background()) },
	} {
		b := mustNew(t, breaker.WithTracker(tracker.TypeOf[*valueError]()))
		st(b)
		_, err := call(b, failWith(&typeError{"type error"}))
		require.EqualError(t, err, "type error")
		m := b.Info().Metric
		assert.Equal(t, 0, m.TotalCount)
		assert.Equal(t, 0, m.FailureCount)
	}
}

func TestIgnoredErrorInHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, append(halfOpenConfig(breaker.MinRequests(2).And(breaker.FailureRate(0.5))),
			breaker.WithTracker(tracker.TypeOf[*valueError]()))...)
		for range 2 {
			_, _ = call(b, failWith(&valueError{"v"}))
		}
		require.Equal(t, sdk.StateOpen, b.State())
		time.Sleep(61 * time.Second)
		_, err := call(b, failWith(&typeError{"t"}))
		require.EqualError(t, err, "t")
		assert.Equal(t, sdk.StateHalfOpen, b.State())
		assert.Equal(t, 0, b.Info().Metric.TotalCount)
	})
}

func TestDefaultTrackerCountsEveryError(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(3).And(breaker.FailureRate(0.5))))
	for _, err := range []error{&valueError{"v"}, &typeError{"t"}, errors.New("runtime")} {
		_, _ = call(b, failWith(err))
	}
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestListenerNotified(t *testing.T) {
	rec := &transitions{}
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))), breaker.WithHooks(rec.hooks()))
	tripOpen(t, b, 2)
	require.Len(t, rec.list(), 1)
	tr := rec.list()[0]
	assert.Equal(t, sdk.StateClosed, tr.From)
	assert.Equal(t, sdk.StateOpen, tr.To)
	assert.Equal(t, sdk.ReasonTripped, tr.Reason)
	assert.Equal(t, sdk.WindowCounts{Calls: 2, Failures: 2}, tr.Window, "counts before the reset")
	assert.Equal(t, "test", tr.Name)
	b.Reset(context.Background())
	assert.Len(t, rec.list(), 2)
}

func TestPanickingListenerDoesNotBreakBreaker(t *testing.T) {
	logs := captureDefaultLog(t)
	rec := &transitions{}
	boom := sdk.Hooks{
		StateChange: func(context.Context, sdk.Transition) { panic("listener failed") },
		CallStart:   func(context.Context, sdk.CallStart) context.Context { panic("start failed") },
		CallEnd:     func(context.Context, sdk.CallEnd) { panic("end failed") },
	}
	b := mustNew(t, breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))), breaker.WithHooks(boom, rec.hooks()))
	_, err := call(b, failing)
	require.Same(t, errFail, err)
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State())
	assert.Len(t, rec.list(), 1, "the next hook still runs")
	assert.Contains(t, logs.String(), "hook=StateChange")
	assert.Contains(t, logs.String(), `panic="listener failed"`)
}

func TestFallback(t *testing.T) {
	ctx := context.Background()
	b := mustNew(t)
	specific := &valueError{"specific error"}
	var got error
	v, err := breaker.ExecuteWithFallback(ctx, b, failWith(specific), func(_ context.Context, err error) (int, error) {
		got = err
		return 42, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	assert.Same(t, specific, got, "the fallback receives the original error")
	assert.Equal(t, 1, b.Info().Metric.FailureCount, "recorded before the fallback ran")

	// A fallback can re-raise: handle valueError, pass anything else on.
	handle := func(_ context.Context, err error) (int, error) {
		if _, ok := errors.AsType[*valueError](err); ok {
			return -1, nil
		}
		return 0, err
	}
	v, err = breaker.ExecuteWithFallback(ctx, b, failWith(&valueError{"v"}), handle)
	require.NoError(t, err)
	assert.Equal(t, -1, v)
	te := &typeError{"t"}
	_, err = breaker.ExecuteWithFallback(ctx, b, failWith(te), handle)
	assert.Same(t, te, err)

	// No fallback on success.
	v, err = breaker.ExecuteWithFallback(ctx, b, double(4), func(context.Context, error) (int, error) {
		t.Fatal("fallback called on success")
		return 0, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 8, v)
}

func TestFallbackWhenOpen(t *testing.T) {
	b := mustNew(t)
	b.ForceOpen(context.Background())
	greet := func(context.Context) (string, error) { return "hello", nil }
	v, err := breaker.ExecuteWithFallback(context.Background(), b, greet, func(_ context.Context, err error) (string, error) {
		return fmt.Sprintf("fallback: %T", err), nil
	})
	require.NoError(t, err)
	assert.Equal(t, "fallback: breaker.NotPermittedError", v)
}

func TestDefaultWindowKeeps100Calls(t *testing.T) {
	b := mustNew(t)
	for range 150 {
		_, _ = call(b, double(1))
	}
	assert.Equal(t, 100, b.Info().Metric.TotalCount)
}

// fluxgate's default tripper, MinRequests(100).And(FailureRate(0.5)),
// needs 100 calls in the window.
func TestFluxgateDefaultTripperNeeds100Calls(t *testing.T) {
	b := mustNew(t, breaker.WithFluxgateDefaults())
	for range 99 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State())
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State())
}

// The default tripper opens on a 50% failure rate once the window holds at
// least 20 calls.
func TestDefaultTripperNeeds20Calls(t *testing.T) {
	b := mustNew(t)
	for range 19 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State(), "19 calls are too few")
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State(), "20 failed calls of 20")

	b = mustNew(t)
	for range 10 {
		_, _ = call(b, double(1))
	}
	for range 9 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State(), "9 of 19 failed")
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State(), "10 of 20 failed: >= 0.5")

	b = mustNew(t)
	for range 100 {
		_, _ = call(b, double(1))
	}
	for range 10 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State(), "a burst of 10 failures among the last 100 calls is a 10% rate")
	for range 40 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateOpen, b.State(), "50 failures among the last 100 calls")
}

func TestDefaultTripperAtHalfFailures(t *testing.T) {
	b := mustNew(t)
	for range 50 {
		_, _ = call(b, double(1))
	}
	for range 49 {
		_, _ = call(b, failing)
	}
	assert.Equal(t, sdk.StateClosed, b.State())
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State(), "50 of 100 failed: >= 0.5")
}

func TestFailureStreakResetBySuccess(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(3)))
	_, _ = call(b, failing)
	_, _ = call(b, failing)
	_, _ = call(b, double(1))
	assert.Equal(t, sdk.StateClosed, b.State())
	_, _ = call(b, failing)
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateClosed, b.State())
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestFailureStreakNotResetByIgnoredError(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(2)), breaker.WithTracker(tracker.TypeOf[*valueError]()))
	_, _ = call(b, failWith(&valueError{"v"}))
	_, _ = call(b, failWith(&typeError{"t"}))
	_, _ = call(b, failWith(&valueError{"v"}))
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestLatencyTrippers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tripper breaker.Tripper
	}{
		{"SlowRate", breaker.MinRequests(5).And(breaker.SlowRate(0.3, time.Millisecond))},
		{"AvgLatency", breaker.MinRequests(5).And(breaker.AvgLatency(time.Millisecond))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, breaker.WithTripper(tc.tripper))
				slow := func(context.Context) (int, error) { time.Sleep(5 * time.Millisecond); return 1, nil }
				for i := 0; i < 10 && b.State() == sdk.StateClosed; i++ {
					_, _ = call(b, slow)
				}
				assert.Equal(t, sdk.StateOpen, b.State())
			})
		})
	}
}

func TestFailuresHaveZeroDurationByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slowFail := func(context.Context) (int, error) { time.Sleep(5 * time.Millisecond); return 0, errFail }
		b := mustNew(t, breaker.WithTripper(breaker.MinRequests(100).And(breaker.SlowRate(0.5, time.Millisecond))))
		for range 3 {
			_, _ = call(b, slowFail)
		}
		m := b.Info().Metric
		assert.Zero(t, m.TotalDuration)
		assert.Zero(t, m.SlowCount(time.Millisecond))

		b = mustNew(t, breaker.WithFailureDurations(true),
			breaker.WithTripper(breaker.MinRequests(100).And(breaker.SlowRate(0.5, time.Millisecond))))
		for range 3 {
			_, _ = call(b, slowFail)
		}
		m = b.Info().Metric
		assert.Equal(t, 15*time.Millisecond, m.TotalDuration)
		assert.Equal(t, 3, m.SlowCount(time.Millisecond))
	})
}

func TestDefaultPermitAdmitsProbesAtHalfOpenEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.MinRequests(1).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)))
		tripOpen(t, b, 1)
		time.Sleep(2 * time.Second)
		passed := 0
		for range 200 {
			if _, err := call(b, double(1)); err == nil {
				passed++
				break
			}
		}
		assert.Equal(t, 1, passed)
	})
}

func TestHalfOpenEntryResetsStreak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.FailureStreak(3))...)
		tripOpen(t, b, 3)
		time.Sleep(61 * time.Second)
		_, _ = call(b, failing)
		assert.Equal(t, sdk.StateHalfOpen, b.State())
		assert.Equal(t, 1, b.Info().ConsecutiveFailures)
	})
}

func TestHalfOpenedTripper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.FailureStreak(1).And(breaker.Closed()).Or(breaker.HalfOpened()))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		for range 3 {
			_, err := call(b, double(1))
			require.NoError(t, err)
			assert.Equal(t, sdk.StateHalfOpen, b.State(), "a success never closes")
		}
		_, _ = call(b, failing)
		assert.Equal(t, sdk.StateOpen, b.State(), "any counted failure re-opens")
	})
}

func TestManualTransitionsToSameStateAreReported(t *testing.T) {
	rec := &transitions{}
	b := mustNew(t, breaker.WithHooks(rec.hooks()))
	_, _ = call(b, double(1))
	ctx := context.Background()
	b.Reset(ctx)
	assert.Equal(t, 0, b.Info().Metric.TotalCount, "every transition resets the window")
	b.Disable(ctx)
	b.Disable(ctx)
	b.MetricsOnly(ctx)
	b.ForceOpen(ctx)
	b.ForceOpen(ctx)
	assert.Equal(t, []string{"closed->closed", "closed->disabled", "disabled->disabled",
		"disabled->metrics_only", "metrics_only->forced_open", "forced_open->forced_open"}, rec.pairs())
	for _, tr := range rec.list() {
		assert.Equal(t, sdk.ReasonManual, tr.Reason)
	}
}

func TestReopensBookkeeping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, halfOpenConfig(breaker.FailureStreak(1))...)
		tripOpen(t, b, 1)
		for i := 1; i <= 3; i++ {
			time.Sleep(61 * time.Second)
			_, _ = call(b, failing)
			require.Equal(t, sdk.StateOpen, b.State())
			assert.Equal(t, i, b.Info().Reopens)
		}
		// force_open from half_open keeps reopens (no increment).
		time.Sleep(61 * time.Second)
		b.Disable(context.Background())
		assert.Equal(t, 3, b.Info().Reopens, "disable keeps reopens")
		b.ForceOpen(context.Background())
		assert.Equal(t, 3, b.Info().Reopens)
		b.Reset(context.Background())
		assert.Equal(t, 0, b.Info().Reopens)
	})
}

func TestBackoffGrowsWithReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithPermit(breaker.All()),
			breaker.WithRetry(breaker.Backoff(10*time.Second, 2, 30*time.Second, 0)))
		tripOpen(t, b, 1)
		for _, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second} {
			_, err := call(b, failing)
			npe := requireRejected(t, err, sdk.StateOpen)
			assert.Equal(t, wait, npe.RetryAfter())
			time.Sleep(wait - time.Millisecond)
			_, err = call(b, failing)
			requireRejected(t, err, sdk.StateOpen)
			time.Sleep(time.Millisecond)
			_, err = call(b, failing)
			require.Same(t, errFail, err, "after %s the probe runs", wait)
			require.Equal(t, sdk.StateOpen, b.State())
		}
	})
}

func TestNeverRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Never()))
		tripOpen(t, b, 1)
		time.Sleep(1000 * time.Hour)
		_, err := call(b, double(1))
		npe := requireRejected(t, err, sdk.StateOpen)
		assert.Zero(t, npe.RetryAfter(), "Never gives no estimate")
		assert.True(t, npe.RetryAt().IsZero())
	})
}

func TestTimeWindowExpiresStaleBuckets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithWindow(breaker.TimeWindow(3*time.Second)),
			breaker.WithTripper(breaker.MinRequests(3).And(breaker.FailureRate(0.5))))
		_, _ = call(b, failing)
		_, _ = call(b, failing)
		assert.Equal(t, 2, b.Info().Metric.TotalCount)
		time.Sleep(10 * time.Second)
		assert.Equal(t, 0, b.Info().Metric.TotalCount, "expired on read")
		_, _ = call(b, double(1))
		m := b.Info().Metric
		assert.Equal(t, 1, m.TotalCount, "fluxgate would still count the old failure here")
		assert.Equal(t, 0, m.FailureCount)
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestInfoIsASnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.MinRequests(100).And(breaker.SlowRate(1, time.Nanosecond))))
		slow := func(context.Context) (int, error) { time.Sleep(time.Millisecond); return 1, nil }
		_, _ = call(b, slow)
		info := b.Info()
		_, _ = call(b, slow)
		assert.Equal(t, 1, info.Metric.SlowCount(time.Nanosecond), "a snapshot does not change with the breaker")
		assert.Equal(t, 2, b.Info().Metric.SlowCount(time.Nanosecond))
		assert.Equal(t, "test", info.Name)
	})
}

func TestCallerCancellationIsIgnored(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := breaker.Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, sdk.StateClosed, b.State())
	assert.Equal(t, 0, b.Info().Metric.TotalCount)
}

func TestDeadlineExceededIsCountedByAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := breaker.Execute(ctx, b, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, sdk.StateOpen, b.State())
	})
}

func TestPanicIsCountedAndRepanicked(t *testing.T) {
	rec := &callRecorder{}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithHooks(rec.hooks()))
	type boom struct{ n int }
	fallbackCalled := false
	func() {
		defer func() {
			r := recover()
			assert.Equal(t, boom{7}, r, "the panic continues with its original value")
		}()
		_, _ = breaker.ExecuteWithFallback(context.Background(), b, func(context.Context) (int, error) { panic(boom{7}) },
			func(context.Context, error) (int, error) { fallbackCalled = true; return 0, nil })
	}()
	assert.False(t, fallbackCalled)
	assert.Equal(t, sdk.StateOpen, b.State(), "the panic counted as a failure")
	ends := rec.endList()
	require.Len(t, ends, 1)
	assert.True(t, ends[0].Panicked)
	assert.Equal(t, boom{7}, ends[0].PanicValue)
	assert.Equal(t, sdk.DecisionCounted, ends[0].Decision)
	assert.Equal(t, breaker.RulePanic, ends[0].Rule)
}

func TestNilArgumentsPanicWithClearMessages(t *testing.T) {
	b := mustNew(t)
	ctx := context.Background()
	assert.PanicsWithValue(t, "breaker: Execute called with a nil func", func() {
		_, _ = breaker.Execute[int](ctx, b, nil)
	})
	assert.PanicsWithValue(t, "breaker: Do called with a nil func", func() { _ = b.Do(ctx, nil) })
	assert.PanicsWithValue(t, "breaker: ExecuteWithFallback called with a nil fallback", func() {
		_, _ = breaker.ExecuteWithFallback(ctx, b, double(1), nil)
	})
	assert.PanicsWithValue(t, "breaker: call through a nil *Breaker", func() {
		_, _ = breaker.Execute(ctx, nil, double(1))
	})
	assert.PanicsWithValue(t, "breaker: nil context", func() {
		//lint:ignore SA1012 testing the nil ctx guard
		_, _ = breaker.Execute(nil, b, double(1))
	})
}

func TestDo(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)))
	require.NoError(t, b.Do(context.Background(), func(context.Context) error { return nil }))
	require.Same(t, errFail, b.Do(context.Background(), func(context.Context) error { return errFail }))
	assert.Equal(t, sdk.StateOpen, b.State())
	requireRejected(t, b.Do(context.Background(), func(context.Context) error { return nil }), sdk.StateOpen)
}

func TestName(t *testing.T) {
	b, err := breaker.New("payments")
	require.NoError(t, err)
	assert.Equal(t, "payments", b.Name())
	assert.Equal(t, "payments", b.Info().Name)
}
