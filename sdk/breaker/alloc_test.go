package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
		})
	}
}
