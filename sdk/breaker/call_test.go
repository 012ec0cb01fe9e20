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
)

func TestAllowDoneRecordsOnce(t *testing.T) {
	var ends []sdk.CallEnd
	b := mustNew(t,
		breaker.WithTripper(breaker.FailureStreak(2)),
		breaker.WithHooks(sdk.Hooks{CallEnd: func(_ context.Context, e sdk.CallEnd) { ends = append(ends, e) }}),
	)
	c, err := b.Allow(context.Background())
	require.NoError(t, err)
	c.Done(errors.New("boom"))
	c.Done(errors.New("boom")) // ignored
	c.Done(nil)                // ignored
	require.Len(t, ends, 1)
	assert.Equal(t, sdk.DecisionCounted, ends[0].Decision)
	assert.Equal(t, 1, b.Info().ConsecutiveFailures)
	assert.Equal(t, sdk.StateClosed, b.State())

	c, err = b.Allow(context.Background())
	require.NoError(t, err)
	c.Done(errors.New("boom"))
	assert.Equal(t, sdk.StateOpen, b.State())

	c, err = b.Allow(context.Background())
	require.ErrorIs(t, err, breaker.ErrNotPermitted)
	c.Done(nil) // the zero Call is done already
	assert.Equal(t, context.Background(), c.Context())
	require.Len(t, ends, 3)
	assert.Equal(t, sdk.OutcomeRejected, ends[2].Outcome)
}

func TestAllowPanickedCountsFailure(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)))
	c, err := b.Allow(context.Background())
	require.NoError(t, err)
	c.Panicked("boom")
	c.Done(nil)
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestAllowDurationFromAllow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got time.Duration
		b := mustNew(t, breaker.WithHooks(sdk.Hooks{CallEnd: func(_ context.Context, e sdk.CallEnd) { got = e.Duration }}))
		c, err := b.Allow(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Second)
		c.Done(nil)
		assert.Equal(t, time.Second, got)
	})
}

func TestAllowClosedPathAllocatesNothing(t *testing.T) {
	b := mustNew(t)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		c, err := b.Allow(ctx)
		if err == nil {
			c.Done(nil)
		}
	})
	assert.Zero(t, allocs)
}

func TestRetryAfterSecondsRoundsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			wait time.Duration
			want int64
		}{
			{0, 0},
			{-time.Second, 0},
			{time.Nanosecond, 1},
			{800 * time.Millisecond, 1},
			{time.Second, 1},
			{time.Second + time.Nanosecond, 2},
			{90 * time.Second, 90},
		} {
			e := &breaker.NotPermittedError{Name: "x", State: sdk.StateOpen}
			if tc.wait != 0 {
				e.RetryAt = time.Now().Add(tc.wait)
			}
			assert.Equal(t, tc.want, e.RetryAfterSeconds(), "wait %v", tc.wait)
		}
	})
}
