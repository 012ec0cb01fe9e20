package breaker_test

import (
	"context"
	"errors"
	"reflect"
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
	for _, tc := range []struct {
		cooldown time.Duration
		elapsed  time.Duration
		want     int64
	}{
		{time.Second, 200 * time.Millisecond, 1}, // 800 ms left
		{time.Second, time.Second - time.Nanosecond, 1},
		{2 * time.Second, 999 * time.Millisecond, 2},
		{90 * time.Second, 0, 90},
	} {
		synctest.Test(t, func(t *testing.T) {
			b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(tc.cooldown, 0)))
			_, _ = call(b, failing)
			time.Sleep(tc.elapsed)
			var npe breaker.NotPermittedError
			_, err := call(b, failing)
			require.ErrorAs(t, err, &npe)
			assert.Equal(t, tc.want, npe.RetryAfterSeconds(), "cooldown %v, elapsed %v", tc.cooldown, tc.elapsed)
		})
	}
}

// TestRejectionErrorIsImmutable: every refused caller gets the same
// rejection, so it must be impossible for one caller to change what the
// others see. NotPermittedError has no exported fields and is a value.
func TestRejectionErrorIsImmutable(t *testing.T) {
	typ := reflect.TypeFor[breaker.NotPermittedError]()
	require.Equal(t, reflect.Struct, typ.Kind())
	for i := range typ.NumField() {
		assert.False(t, typ.Field(i).IsExported(), "field %s is exported", typ.Field(i).Name)
	}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)))
	_, _ = call(b, failing)
	_, err1 := call(b, failing)
	var a breaker.NotPermittedError
	require.ErrorAs(t, err1, &a)
	a = breaker.NotPermittedError{} // changes the caller's copy only
	assert.Zero(t, a.RetryAfterSeconds(), "the zero value has no estimate")
	_, err2 := call(b, failing)
	var c breaker.NotPermittedError
	require.ErrorAs(t, err2, &c)
	assert.Equal(t, "test", c.Name())
	assert.Equal(t, sdk.StateOpen, c.State())
	assert.False(t, c.RetryAt().IsZero())
	assert.Zero(t, a.Name())
}

// TestRejectionErrorTypeAllocatesNothing: telemetry asks every rejection
// for its error.type; the answer is a constant.
func TestRejectionErrorTypeAllocatesNothing(t *testing.T) {
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)))
	_, _ = call(b, failing)
	_, err := call(b, failing)
	var npe breaker.NotPermittedError
	require.ErrorAs(t, err, &npe)
	assert.Equal(t, "circuit_breaker_open", npe.ErrorType())
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = npe.ErrorType() }))
}
