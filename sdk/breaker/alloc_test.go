package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// TestHotPathsAllocateNothing pins the performance budget's allocation
// rules: a breaker without hooks allocates nothing per call on the closed
// success path, the counted-failure path and the rejection path.
func TestHotPathsAllocateNothing(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	for _, tc := range []struct {
		name string
		opts []breaker.Option
		prep func(*breaker.Breaker)
		fn   func(context.Context) (int, error)
	}{
		{"closed success, defaults", nil, nil, ok},
		{"closed success, time window and slow rate", []breaker.Option{
			breaker.WithWindow(breaker.TimeWindow(time.Minute)),
			breaker.WithTripper(breaker.MinRequests(10).And(breaker.SlowRate(0.5, time.Second).Or(breaker.FailureRate(0.5)))),
		}, nil, ok},
		{"closed counted failure", []breaker.Option{breaker.WithTripper(breaker.MinRequests(1 << 30))}, nil, failing},
		{"closed ignored failure", []breaker.Option{breaker.WithTracker(tracker.TypeOf[*valueError]())}, nil, failing},
		{"rejected while open", []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0))},
			func(b *breaker.Breaker) { _, _ = call(b, failing) }, ok},
		{"rejected while forced open", nil, func(b *breaker.Breaker) { b.ForceOpen(ctx) }, ok},
		{"open, shadow mode (let through)", []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
			breaker.WithEnforcement(0)}, func(b *breaker.Breaker) { _, _ = call(b, failing) }, ok},
		{"open, enforcement 0.5", []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
			breaker.WithEnforcement(0.5)}, func(b *breaker.Breaker) { _, _ = call(b, failing) }, ok},
		{"closed success, shadow mode", []breaker.Option{breaker.WithEnforcement(0)}, nil, ok},
		{"disabled", nil, func(b *breaker.Breaker) { b.Disable(ctx) }, ok},
		{"metrics only", nil, func(b *breaker.Breaker) { b.MetricsOnly(ctx) }, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, tc.opts...)
			if tc.prep != nil {
				tc.prep(b)
			}
			allocs := testing.AllocsPerRun(1000, func() { _, _ = breaker.Execute(ctx, b, tc.fn) })
			assert.Zero(t, allocs)
			allocs = testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, func(context.Context) error { return nil }) })
			assert.Zero(t, allocs, "Do")
			allocs = testing.AllocsPerRun(1000, func() {
				c, err := b.Allow(ctx)
				if err == nil {
					c.Done(nil)
				}
			})
			assert.Zero(t, allocs, "Allow and Done")
		})
	}
}

// TestHalfOpenPathsAllocateNothing: while half-open, a probe that finds a
// free slot, and a refusal (fail-fast, or by the permit), allocate
// nothing. Only a caller that has to wait for a slot allocates.
func TestHalfOpenPathsAllocateNothing(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	for _, tc := range []struct {
		name string
		opts []breaker.Option
		hold bool // a probe holds the only slot
	}{
		// HalfOpened keeps the tripper true in half-open: a success does not close it.
		{"probe with a free slot", []breaker.Option{breaker.WithTripper(breaker.HalfOpened().Or(breaker.FailureStreak(1)))}, false},
		{"refused: no free slot, fail-fast", []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithHalfOpenWait(0), breaker.WithMaxHalfOpenCalls(1)}, true},
		{"refused by the permit", []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithPermit(breaker.Random(0))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]breaker.Option{breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All())}, tc.opts...)
			b := mustNew(t, opts...)
			_, _ = call(b, failing)
			if tc.hold {
				c, err := b.Allow(ctx) // open -> half_open, holds the slot
				assert.NoError(t, err)
				defer c.Done(nil)
			} else {
				_, _ = call(b, ok) // open -> half_open
			}
			assert.Equal(t, sdk.StateHalfOpen, b.State())
			allocs := testing.AllocsPerRun(1000, func() { _, _ = breaker.Execute(ctx, b, ok) })
			assert.Zero(t, allocs)
		})
	}
}
