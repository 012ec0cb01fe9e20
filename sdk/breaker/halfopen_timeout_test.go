package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// With the defaults, every half-open slot leaked (ten Calls never ended):
// the breaker leaves half-open within DefaultHalfOpenTimeout of the last
// probe's admission, counts the leaked probes as failures, drops their
// late reports, and closes again once the dependency recovers.
func TestHalfOpenTimeoutEveryProbeLeaked(t *testing.T) {
	for _, how := range []string{"State", "Info", "call"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &transitions{}
				calls := &callRecorder{}
				b := mustNew(t, breaker.WithHooks(rec.hooks(), calls.hooks()), breaker.WithRand(func() float64 { return 0 }))
				tripOpen(t, b, 20)
				time.Sleep(breaker.DefaultHalfOpenTimeout)
				var leaked []breaker.Call
				for range 10 {
					c, err := b.Allow(context.Background())
					require.NoError(t, err)
					leaked = append(leaked, c)
				}
				last := time.Now()
				_, err := call(b, double(1))
				requireRejected(t, err, sdk.StateHalfOpen) // every slot held (after a 1s wait)

				time.Sleep(time.Until(last.Add(breaker.DefaultHalfOpenTimeout)) - time.Nanosecond)
				require.Equal(t, sdk.StateHalfOpen, b.State(), "not before the bound")
				time.Sleep(time.Nanosecond)
				switch how {
				case "State":
					assert.Equal(t, sdk.StateOpen, b.State())
				case "Info":
					info := b.Info()
					assert.Equal(t, sdk.StateOpen, info.State)
					assert.Equal(t, 1, info.Reopens)
					assert.Equal(t, 10, info.ConsecutiveFailures, "the leaked probes count as failures")
				case "call":
					_, err := call(b, double(1))
					requireRejected(t, err, sdk.StateOpen) // refused by the breaker it re-opened
				}
				require.Equal(t, sdk.StateOpen, b.State())
				trs := rec.list()
				tr := trs[len(trs)-1]
				assert.Equal(t, sdk.StateHalfOpen, tr.From)
				assert.Equal(t, sdk.StateOpen, tr.To)
				assert.Equal(t, sdk.ReasonHalfOpenTimeout, tr.Reason)
				assert.Equal(t, sdk.WindowCounts{Calls: 10, Failures: 10}, tr.Window)

				for _, c := range leaked {
					c.Done(nil) // late: stale
				}
				assert.Equal(t, sdk.StateOpen, b.State(), "late reports are dropped")
				for _, e := range calls.endList() {
					if e.Outcome == sdk.OutcomeSuccess {
						assert.True(t, e.Stale, "a leaked probe's report is stale")
					}
				}

				// The dependency recovered: after the cooldown, 5 probes close.
				time.Sleep(60 * time.Second)
				for range 5 {
					_, err := call(b, double(1))
					require.NoError(t, err)
				}
				assert.Equal(t, sdk.StateClosed, b.State())
			})
		})
	}
}

// A healthy ramp-up is never cut short: while slots free within the
// timeout, the breaker stays half-open however long the period lasts.
func TestHalfOpenTimeoutSparesAHealthyRampUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t,
			breaker.WithTripper(breaker.FailureStreak(1).Or(breaker.HalfOpened())), // never closes
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()),
			breaker.WithMaxHalfOpenCalls(2),
			breaker.WithHalfOpenTimeout(10*time.Second),
		)
		tripOpen(t, b, 1)
		time.Sleep(time.Second)
		leaked, err := b.Allow(context.Background())
		require.NoError(t, err)
		for range 20 { // 100s of half-open, one slot leaked, the other busy
			c, err := b.Allow(context.Background())
			require.NoError(t, err)
			time.Sleep(5 * time.Second)
			require.Equal(t, sdk.StateHalfOpen, b.State())
			c.Done(nil)
		}
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "100s with a free slot every 5s")
		// Both slots held, none taken for 10s: stuck.
		c, err := b.Allow(context.Background())
		require.NoError(t, err)
		time.Sleep(10 * time.Second)
		assert.Equal(t, sdk.StateOpen, b.State())
		c.Done(nil)
		leaked.Done(nil)
	})
}

// WithHalfOpenTimeout(0) turns the bound off: leaked probes hold the slots
// for good, as in fluxgate.
func TestHalfOpenTimeoutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithHalfOpenTimeout(0), breaker.WithMaxHalfOpenCalls(1), breaker.WithHalfOpenWait(0))
		tripOpen(t, b, 20)
		time.Sleep(time.Minute)
		c, err := b.Allow(context.Background())
		require.NoError(t, err)
		time.Sleep(24 * time.Hour)
		_, err = call(b, double(1))
		requireRejected(t, err, sdk.StateHalfOpen)
		assert.Equal(t, sdk.StateHalfOpen, b.Info().State)
		c.Done(nil)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "1 of 5 successes")
	})
}

// Many goroutines find a stuck breaker at once: it re-opens once.
func TestHalfOpenTimeoutConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, breaker.WithHooks(rec.hooks()), breaker.WithMaxHalfOpenCalls(3), breaker.WithPermit(breaker.All()))
		tripOpen(t, b, 20)
		time.Sleep(time.Minute)
		for range 3 {
			_, err := b.Allow(context.Background())
			require.NoError(t, err)
		}
		time.Sleep(time.Minute)
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				if i%2 == 0 {
					_ = b.State()
				} else {
					_, _ = call(b, double(1))
				}
			})
		}
		wg.Wait()
		n := 0
		for _, tr := range rec.list() {
			if tr.Reason == sdk.ReasonHalfOpenTimeout {
				n++
			}
		}
		assert.Equal(t, 1, n)
		assert.Equal(t, sdk.StateOpen, b.State())
	})
}

// A reconfiguration that lowers the slot limit below the probes already
// held leaves every slot taken with no take that filled the last one: the
// half-open timeout counts from the reconfiguration, not from an earlier
// take (nor from the zero time).
func TestHalfOpenTimeoutCountsFromALowerSlotLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithRand(func() float64 { return 0 }))
		tripOpen(t, b, 20)
		time.Sleep(breaker.DefaultHalfOpenTimeout)
		var leaked []breaker.Call
		for range 3 { // 3 of 10 slots: the clock is not read for these takes
			c, err := b.Allow(context.Background())
			require.NoError(t, err)
			leaked = append(leaked, c)
		}
		time.Sleep(30 * time.Second)
		require.NoError(t, b.Reconfigure(context.Background(), breaker.WithMaxHalfOpenCalls(2)))
		reconfigured := time.Now()

		time.Sleep(time.Until(reconfigured.Add(breaker.DefaultHalfOpenTimeout)) - time.Nanosecond)
		require.Equal(t, sdk.StateHalfOpen, b.State(), "not before the bound, counted from the reconfiguration")
		time.Sleep(time.Nanosecond)
		assert.Equal(t, sdk.StateOpen, b.State())
		for _, c := range leaked {
			c.Done(nil)
		}
	})
}
