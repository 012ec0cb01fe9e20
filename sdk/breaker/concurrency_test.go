package breaker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestHalfOpenLimitQueuesProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t,
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Cooldown(10*time.Millisecond, 0)),
			breaker.WithPermit(breaker.All()),
			breaker.WithMaxHalfOpenCalls(2))
		tripOpen(t, b, 1)
		time.Sleep(20 * time.Millisecond)

		release := make(chan struct{})
		var inFlight, peak atomic.Int32
		probe := func(context.Context) (string, error) {
			// Only calls admitted while half-open are probes: once the
			// first probe's success closes the breaker, the waiters run
			// as closed-state calls, with no limit, possibly while the
			// other probe is still returning.
			if b.State() != sdk.StateHalfOpen {
				<-release
				return "ok", nil
			}
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			inFlight.Add(-1)
			return "ok", nil
		}
		results := make(chan string, 5)
		for range 5 {
			go func() {
				v, err := breaker.Execute(context.Background(), b, probe)
				if err != nil {
					v = err.Error()
				}
				results <- v
			}()
		}
		synctest.Wait()
		assert.Equal(t, sdk.StateHalfOpen, b.State())
		assert.Equal(t, int32(2), inFlight.Load(), "two probes run, three wait")
		close(release)
		for range 5 {
			assert.Equal(t, "ok", <-results, "queued calls are not rejected")
		}
		assert.LessOrEqual(t, peak.Load(), int32(2))
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestHalfOpenWaiterGivesUpWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, append(halfOpenConfig(breaker.FailureStreak(1)), breaker.WithMaxHalfOpenCalls(1))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		release := make(chan struct{})
		go func() {
			_, _ = breaker.Execute(context.Background(), b, func(context.Context) (int, error) { <-release; return 0, errFail })
		}()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ran := false
		_, err := breaker.Execute(ctx, b, func(context.Context) (int, error) { ran = true; return 1, nil })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, ran)
		close(release)
		synctest.Wait()
		assert.Equal(t, sdk.StateOpen, b.State())
	})
}

func TestCanceledProbeReleasesSlotWithoutVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, append(halfOpenConfig(breaker.FailureStreak(1)), breaker.WithMaxHalfOpenCalls(1), breaker.WithHooks(rec.hooks()))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := breaker.Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "a canceled probe does not close the breaker")
		assert.Equal(t, 0, b.Info().Metric.TotalCount)
		// The slot was released: the next probe runs (it would block forever otherwise).
		_, err = call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestPanickingProbeReleasesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, append(halfOpenConfig(breaker.FailureStreak(1)), breaker.WithMaxHalfOpenCalls(1))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		assert.Panics(t, func() {
			_, _ = call(b, func(context.Context) (int, error) { panic("probe") })
		})
		assert.Equal(t, sdk.StateOpen, b.State(), "the panicking probe counted and re-opened the breaker")
		time.Sleep(61 * time.Second)
		_, err := call(b, double(1))
		require.NoError(t, err, "the slot was released")
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestConcurrentFailuresTripOnceAndDropStaleOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, breaker.WithTripper(breaker.MinRequests(1).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Never()), breaker.WithHooks(rec.hooks()))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, err := call(b, func(context.Context) (int, error) { <-start; return 0, errFail })
				assert.Same(t, errFail, err)
			})
		}
		synctest.Wait()
		close(start)
		wg.Wait()
		assert.Equal(t, sdk.StateOpen, b.State())
		m := b.Info().Metric
		assert.Equal(t, 0, m.TotalCount, "outcomes admitted before the trip are dropped")
		assert.Equal(t, []string{"closed->open"}, rec.pairs())
	})
}

func TestStaleOutcomeAfterABACycleIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// closed -> open -> half_open -> closed while a call admitted in the
		// first closed period is in flight: fluxgate's documented gap.
		b := mustNew(t, halfOpenConfig(breaker.MinRequests(1).And(breaker.FailureRate(0.5)))...)
		release := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = call(b, func(context.Context) (int, error) { <-release; return 0, errFail })
		}()
		synctest.Wait()
		_, _ = call(b, failing)
		require.Equal(t, sdk.StateOpen, b.State())
		time.Sleep(61 * time.Second)
		_, err := call(b, double(1))
		require.NoError(t, err)
		require.Equal(t, sdk.StateClosed, b.State())
		close(release)
		<-done
		assert.Equal(t, sdk.StateClosed, b.State(), "the stale failure did not trip the new closed period")
		assert.Equal(t, 0, b.Info().Metric.TotalCount)
	})
}

func TestStaleFailureInHalfOpenEmitsNoTransition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, append(halfOpenConfig(breaker.FailureStreak(1)), breaker.WithHooks(rec.hooks()))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		release := make(chan struct{})
		errc := make(chan error)
		go func() {
			_, err := call(b, func(context.Context) (int, error) { <-release; return 0, errFail })
			errc <- err
		}()
		synctest.Wait()
		require.Equal(t, sdk.StateHalfOpen, b.State())
		b.Disable(context.Background())
		close(release)
		assert.Same(t, errFail, <-errc)
		assert.Equal(t, sdk.StateDisabled, b.State())
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->disabled"}, rec.pairs())
	})
}

func TestDisableWhileInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t)
		release := make(chan struct{})
		res := make(chan string)
		go func() {
			v, _ := breaker.Execute(context.Background(), b, func(context.Context) (string, error) { <-release; return "ok", nil })
			res <- v
		}()
		synctest.Wait()
		b.Disable(context.Background())
		close(release)
		assert.Equal(t, "ok", <-res)
		assert.Equal(t, sdk.StateDisabled, b.State())
	})
}

// TestManyGoroutines hammers one breaker from many goroutines with mixed
// outcomes and manual commands; run with -race. It checks the breaker's
// invariants: the half-open limit holds and every call returns either its
// own result or a rejection.
func TestManyGoroutines(t *testing.T) {
	const limit = 3
	var inHalfOpen, peak atomic.Int32
	b := mustNew(t,
		breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithTripper(breaker.MinRequests(5).And(breaker.FailureRate(0.3))),
		breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.All()),
		breaker.WithMaxHalfOpenCalls(limit),
		breaker.WithHooks(sdk.Hooks{CallStart: func(ctx context.Context, info sdk.CallStart) context.Context {
			return context.WithValue(ctx, ctxKey{}, info.State)
		}}))
	var wg sync.WaitGroup
	var ok, failed, rejected atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 300 {
				if g == 0 && i%50 == 0 {
					b.Reset(context.Background())
				}
				_, err := breaker.Execute(context.Background(), b, func(ctx context.Context) (int, error) {
					half := ctx.Value(ctxKey{}) == sdk.StateHalfOpen
					if half {
						n := inHalfOpen.Add(1)
						defer inHalfOpen.Add(-1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
					}
					if (g+i)%3 == 0 {
						return 0, errFail
					}
					return i, nil
				})
				switch {
				case err == nil:
					ok.Add(1)
				case err == errFail:
					failed.Add(1)
				default:
					require.ErrorIs(t, err, breaker.ErrNotPermitted)
					rejected.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(32*300), ok.Load()+failed.Load()+rejected.Load())
	assert.LessOrEqual(t, peak.Load(), int32(limit), "half-open concurrency limit")
	info := b.Info()
	assert.LessOrEqual(t, info.Metric.TotalCount, 20)
}
