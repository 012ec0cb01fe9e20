package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

func TestNewDefaults(t *testing.T) {
	b, err := breaker.New("defaults")
	require.NoError(t, err)
	info := b.Info()
	assert.Equal(t, sdk.StateClosed, info.State)
	assert.False(t, info.ChangedAt.IsZero())
	assert.Equal(t, 0, info.Reopens)
}

func TestNewValidatesEverythingAtOnce(t *testing.T) {
	_, err := breaker.New("bad",
		breaker.WithWindow(breaker.CountWindow(0)),
		breaker.WithTracker(tracker.Is()),
		breaker.WithTripper(breaker.MinRequests(0).And(breaker.FailureRate(1.5))),
		breaker.WithRetry(breaker.Cooldown(-time.Second, 0)),
		breaker.WithPermit(breaker.Random(2)),
		breaker.WithMaxHalfOpenCalls(0),
		breaker.WithRand(nil),
		nil,
	)
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "bad", ce.Name)
	msg := err.Error()
	for _, want := range []string{
		`breaker: invalid configuration for "bad": `,
		"option 7 is nil",
		"WithRand: func must not be nil",
		"CountWindow(0): size must be greater than zero",
		"tracker: Is requires at least one target error",
		"MinRequests(0): count must be greater than zero",
		"FailureRate(1.5): ratio must be between 0 and 1",
		"Cooldown(-1s, 0): duration must be greater than zero",
		"Random(2): ratio must be between 0.0 and 1.0",
		"WithMaxHalfOpenCalls(0): must be at least 1",
	} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, ce.Problems, 9)
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		bn   string
		opts []breaker.Option
		want string
	}{
		{"empty name", "", nil, "name must not be empty"},
		{"nil tracker", "x", []breaker.Option{breaker.WithTracker(nil)}, "tracker is nil"},
		{"nil rule", "x", []breaker.Option{breaker.WithTracker((*tracker.Rule)(nil))}, "tracker"},
		{"zero window", "x", []breaker.Option{breaker.WithWindow(breaker.Window{})}, "window is unset"},
		{"time window too small", "x", []breaker.Option{breaker.WithWindow(breaker.TimeWindow(time.Millisecond))}, "TimeWindow(1ms): size must be at least one second"},
		{"time window fraction", "x", []breaker.Option{breaker.WithWindow(breaker.TimeWindow(1500 * time.Millisecond))}, "TimeWindow(1.5s): size must be a whole number of seconds"},
		{"zero tripper", "x", []breaker.Option{breaker.WithTripper(breaker.Tripper{})}, "tripper is unset"},
		{"zero retry", "x", []breaker.Option{breaker.WithRetry(breaker.Retry{})}, "retry is unset"},
		{"zero permit", "x", []breaker.Option{breaker.WithPermit(breaker.Permit{})}, "permit is unset"},
		{"backoff", "x", []breaker.Option{breaker.WithRetry(breaker.Backoff(time.Second, 1, time.Minute, 0))}, "multiplier must be greater than 1.0"},
		{"rampup", "x", []breaker.Option{breaker.WithPermit(breaker.RampUp(0, 1, time.Minute))}, "initial must be > 0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := breaker.New(tc.bn, tc.opts...)
			assert.Nil(t, b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigErrorUnwraps(t *testing.T) {
	_, err := breaker.New("x", breaker.WithTracker(countAll{}))
	require.NoError(t, err, "foreign trackers are accepted as they are")
	_, err = breaker.New("x", breaker.WithTracker(tracker.Custom(nil)), breaker.WithWindow(breaker.CountWindow(-1)))
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Problems, 2)
	var first error = ce.Problems[0]
	assert.ErrorIs(t, err, first, "ConfigError unwraps to its problems")
}

type countAll struct{}

func (countAll) Track(context.Context, error) tracker.Verdict {
	return tracker.Verdict{Decision: sdk.DecisionCounted}
}

func TestForeignTrackerZeroVerdictIsIgnored(t *testing.T) {
	b := mustNew(t, breaker.WithTracker(zeroTracker{}), breaker.WithTripper(breaker.FailureStreak(1)))
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateClosed, b.State())
	assert.Equal(t, 0, b.Info().Metric.TotalCount)
}

type zeroTracker struct{}

func (zeroTracker) Track(context.Context, error) tracker.Verdict { return tracker.Verdict{} }

func TestWithRandDrivesPermits(t *testing.T) {
	vals := []float64{0.5, 0.05}
	i := 0
	rnd := func() float64 { v := vals[i%len(vals)]; i++; return v }
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.Random(0.1)), breaker.WithRand(rnd))
	tripOpen(t, b, 1)
	_, err := call(b, double(1))
	requireRejected(t, err, sdk.StateHalfOpen)
	_, err = call(b, double(1))
	require.NoError(t, err, "0.05 < 0.1 admits")
	assert.Equal(t, sdk.StateClosed, b.State())
}
