package breaker_test

// Regression tests for the hardening of the breaker core: half-open slots
// that belong to one half-open period, bounded waiting, hooks that call
// back into the breaker, transitions delivered in order, exactly-once
// accounting when a hook ends its goroutine, panics in two places at once,
// and the zero Breaker. Each test failed on the code before the fix it
// names.

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// hrdResult is what a call run in its own goroutine returned.
type hrdResult struct {
	v   int
	err error
	ran bool
}

// hrdGo runs fn through b in a goroutine under ctx; the channel gets its
// result.
func hrdGo(ctx context.Context, b *breaker.Breaker, v int) chan hrdResult {
	res := make(chan hrdResult, 1)
	go func() {
		var r hrdResult
		r.v, r.err = breaker.Execute(ctx, b, func(context.Context) (int, error) { r.ran = true; return v, nil })
		res <- r
	}()
	return res
}

// hrdReturned reports whether a result is there, without waiting.
func hrdReturned(res chan hrdResult) (hrdResult, bool) {
	select {
	case r := <-res:
		return r, true
	default:
		return hrdResult{}, false
	}
}

// TestWaiterGoesOnByTheNewStateAfterAManualCommand: a caller queued for the
// only half-open slot goes on at once when a manual command changes the
// state, by the new state, without waiting for the probe that holds the
// slot. Before the fix it stayed blocked until the old probe returned.
func TestWaiterGoesOnByTheNewStateAfterAManualCommand(t *testing.T) {
	cases := []struct {
		name    string
		command func(*breaker.Breaker, context.Context)
		ran     bool
		state   sdk.State // of the rejection, when it did not run
	}{
		{"Reset", (*breaker.Breaker).Reset, true, 0},
		{"Disable", (*breaker.Breaker).Disable, true, 0},
		{"MetricsOnly", (*breaker.Breaker).MetricsOnly, true, 0},
		{"ForceOpen", (*breaker.Breaker).ForceOpen, false, sdk.StateForcedOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, fltOptions(1)...)
				release := make(chan struct{})
				probe := fltHalfOpenWithHeldProbe(t, b, release)
				defer func() { close(release); <-probe }()
				waiter := hrdGo(context.Background(), b, 7)
				synctest.Wait()
				_, done := hrdReturned(waiter)
				require.False(t, done, "the waiter waits for the slot")

				tc.command(b, context.Background())
				synctest.Wait()
				r, done := hrdReturned(waiter)
				require.True(t, done, "the waiter went on at once after %s", tc.name)
				assert.Equal(t, tc.ran, r.ran)
				if tc.ran {
					require.NoError(t, r.err)
					assert.Equal(t, 7, r.v)
				} else {
					requireRejected(t, r.err, tc.state)
				}
			})
		})
	}
}

// TestStaleProbeHoldsNoSlotOfALaterPeriod: a probe admitted in one
// half-open period and still running holds no slot of the next one: the
// next period's probe runs at once. Before the fix it waited (forever, with
// context.Background) for the old probe's slot.
func TestStaleProbeHoldsNoSlotOfALaterPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		b := mustNew(t, fltOptions(1, breaker.WithHooks(rec.hooks()))...)
		release := make(chan struct{})
		stale := fltHalfOpenWithHeldProbe(t, b, release)
		defer func() { close(release); require.NoError(t, <-stale) }()

		b.Reset(context.Background()) // the held probe is now stale
		_, _ = call(b, failing)       // closed -> open
		time.Sleep(fltCooldown)
		next := hrdGo(context.Background(), b, 3) // open -> half_open: a probe of the new period
		synctest.Wait()
		r, done := hrdReturned(next)
		require.True(t, done, "the new period's probe ran although a stale probe is in flight")
		require.NoError(t, r.err)
		assert.Equal(t, sdk.StateClosed, b.State())
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->closed",
			"closed->open", "open->half_open", "half_open->closed"}, rec.pairs())
	})
}

// TestWaiterThatGivesUpGetsARejectionMatchingItsContext: a caller whose
// context ends while it waits for a half-open slot gets a rejection that
// matches both ErrNotPermitted and its context's error, so it can tell that
// its function never ran. Before the fix it got the bare context error.
func TestWaiterThatGivesUpGetsARejectionMatchingItsContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, fltOptions(1)...)
				release := make(chan struct{})
				probe := fltHalfOpenWithHeldProbe(t, b, release)
				defer func() { close(release); <-probe }()
				ctx, cancel := tc.ctx()
				defer cancel()
				r := <-hrdGo(ctx, b, 1)
				assert.False(t, r.ran)
				require.ErrorIs(t, r.err, tc.want)
				npe := requireRejected(t, r.err, sdk.StateHalfOpen)
				assert.Equal(t, "test", npe.Name())
				assert.ErrorIs(t, npe.Unwrap(), tc.want)
			})
		})
	}
}

// TestHalfOpenWaitIsBoundedByDefault: a caller with context.Background (a
// net/http request context has no deadline either) waiting for a half-open
// slot gives up after the default wait with a half-open rejection. Before
// the fix it waited for as long as the probe ran: forever here.
func TestHalfOpenWaitIsBoundedByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, fltOptions(1)...)
		release := make(chan struct{})
		probe := fltHalfOpenWithHeldProbe(t, b, release)
		defer func() { close(release); <-probe }()
		res := hrdGo(context.Background(), b, 1)
		time.Sleep(time.Hour)
		r, done := hrdReturned(res)
		require.True(t, done, "the waiter gave up")
		assert.False(t, r.ran)
		requireRejected(t, r.err, sdk.StateHalfOpen)
		var npe breaker.NotPermittedError
		require.ErrorAs(t, r.err, &npe)
		assert.NoError(t, npe.Unwrap(), "no context ended: a plain rejection")
	})
}

// TestWithHalfOpenWait: a caller that finds every half-open slot taken is
// refused at once with a zero wait (fail-fast), and gives up after the
// wait otherwise; the probe's slot is not affected. A negative wait is a
// configuration error.
func TestWithHalfOpenWait(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want time.Duration // how long the refused caller waited
	}{
		{0, 0},
		{time.Millisecond, time.Millisecond},
		{breaker.DefaultHalfOpenWait, time.Second},
		{5 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.wait.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, fltOptions(1, breaker.WithHalfOpenWait(tc.wait))...)
				release := make(chan struct{})
				probe := fltHalfOpenWithHeldProbe(t, b, release)
				start := time.Now()
				ran := false
				_, err := call(b, func(context.Context) (int, error) { ran = true; return 1, nil })
				assert.Equal(t, tc.want, time.Since(start), "time waited (the bubble's clock)")
				assert.False(t, ran)
				requireRejected(t, err, sdk.StateHalfOpen)
				close(release)
				require.NoError(t, <-probe)
				assert.Equal(t, sdk.StateClosed, b.State(), "the held probe still decides")
			})
		})
	}
	_, err := breaker.New("test", breaker.WithHalfOpenWait(-time.Second))
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorContains(t, err, "WithHalfOpenWait(-1s): must not be negative")
}

// TestStateChangeHookMayCallTheBreaker: a StateChange hook that, when the
// breaker enters half-open, calls Do (with one half-open slot), State, Info
// and Reset does not deadlock. Before the fix the transition was reported
// after the call had taken the only slot, so the hook's Do waited forever
// for it.
func TestStateChangeHookMayCallTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hookCtx, cancelHook := context.WithCancel(context.Background())
		defer cancelHook()
		var b *breaker.Breaker
		var nested atomic.Int32
		var nestedErr atomic.Value
		hooks := sdk.Hooks{StateChange: func(_ context.Context, tr sdk.Transition) {
			if tr.To != sdk.StateHalfOpen {
				return
			}
			_ = b.State()
			_ = b.Info()
			err := b.Do(hookCtx, func(context.Context) error { nested.Add(1); return nil })
			if err != nil {
				nestedErr.Store(err)
			}
		}}
		b = mustNew(t, fltOptions(1, breaker.WithHooks(hooks))...)
		_, _ = call(b, failing)
		time.Sleep(fltCooldown)
		res := hrdGo(context.Background(), b, 1)
		synctest.Wait()
		r0, done := hrdReturned(res)
		if !done {
			cancelHook() // unstick the old code so that the bubble can end
			r0 = <-res
		}
		res <- r0
		require.True(t, done, "a hook that calls the breaker does not deadlock")
		assert.Equal(t, int32(1), nested.Load(), "the hook's call ran as a probe")
		assert.Nil(t, nestedErr.Load())
		assert.Equal(t, sdk.StateClosed, b.State(), "the hook's probe closed the breaker")
		r := <-res
		assert.False(t, r.ran, "the call whose half-open period ended before it took its slot does not run")
		requireRejected(t, r.err, sdk.StateHalfOpen)
	})
}

// TestEveryHookMayCallTheBreaker: CallStart, CallEnd and StateChange hooks
// that call Execute, Do, State, Info and every manual command neither
// deadlock nor lose a call: every call, the nested ones included, gets one
// CallStart and one CallEnd.
func TestEveryHookMayCallTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b *breaker.Breaker
		var depth atomic.Int32
		reenter := func(ctx context.Context) {
			if depth.Add(1) > 1 {
				depth.Add(-1)
				return
			}
			defer depth.Add(-1)
			_ = b.State()
			_ = b.Info()
			_, _ = breaker.Execute(ctx, b, double(1))
			_ = b.Do(ctx, func(context.Context) error { return errFail })
			b.MetricsOnly(ctx)
			b.Disable(ctx)
			b.ForceOpen(ctx)
			b.Reset(ctx)
		}
		rec := &callRecorder{}
		hooks := sdk.Hooks{
			CallStart:   func(ctx context.Context, _ sdk.CallStart) context.Context { reenter(ctx); return ctx },
			CallEnd:     func(ctx context.Context, _ sdk.CallEnd) { reenter(ctx) },
			StateChange: func(ctx context.Context, _ sdk.Transition) { reenter(ctx) },
		}
		b = mustNew(t, fltOptions(1, breaker.WithHooks(rec.hooks(), hooks))...)
		for range 5 {
			_, _ = call(b, failing)
			time.Sleep(fltCooldown)
			_, _ = call(b, double(2))
		}
		synctest.Wait()
		rec.mu.Lock()
		n := len(rec.starts)
		rec.mu.Unlock()
		assert.Greater(t, n, 10)
		fltOneEndPerCall(t, rec, n)
	})
}

// TestTransitionsAreDeliveredInOrder: a call that moves the breaker to
// half-open is held in its CallStart hook while a second probe closes the
// breaker; the StateChange hooks still see open->half_open before
// half_open->closed, and the second probe is not held up by the first
// one's hook. Before the fix half_open->closed arrived first.
func TestTransitionsAreDeliveredInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &transitions{}
		hold := make(chan struct{})
		var held atomic.Bool
		slow := sdk.Hooks{CallStart: func(ctx context.Context, info sdk.CallStart) context.Context {
			if info.State == sdk.StateHalfOpen && held.CompareAndSwap(false, true) {
				<-hold
			}
			return ctx
		}}
		b := mustNew(t, fltOptions(1, breaker.WithMaxHalfOpenCalls(2), breaker.WithHooks(slow, rec.hooks()))...)
		_, _ = call(b, failing)
		time.Sleep(fltCooldown)
		first := hrdGo(context.Background(), b, 1) // open -> half_open, held in CallStart
		synctest.Wait()
		second := hrdGo(context.Background(), b, 2) // half_open -> closed
		synctest.Wait()
		r, done := hrdReturned(second)
		require.True(t, done, "a slow hook of one call does not hold up another")
		require.NoError(t, r.err)
		close(hold)
		r = <-first
		assert.False(t, r.ran, "its half-open period ended before it took its slot: refused")
		requireRejected(t, r.err, sdk.StateHalfOpen)
		synctest.Wait()
		assert.Equal(t, []string{"closed->open", "open->half_open", "half_open->closed"}, rec.pairs())
	})
}

// TestGoexitInAHookRecordsTheCallOnce: a hook that ends its goroutine with
// runtime.Goexit (what t.FailNow does) cannot make the breaker record the
// call twice or run CallEnd twice, and leaks no half-open slot. Before the
// fix a Goexit in CallEnd recorded the call a second time (as a failure)
// and ran CallEnd again; a Goexit in the StateChange hook of a call's
// open->half_open transition lost its CallEnd and its slot.
func TestGoexitInAHookRecordsTheCallOnce(t *testing.T) {
	cases := []struct {
		name  string
		hooks func(armed *atomic.Bool) sdk.Hooks
		prep  func(t *testing.T, b *breaker.Breaker)
		calls int // in the window after the call
	}{
		{"CallEnd", func(armed *atomic.Bool) sdk.Hooks {
			return sdk.Hooks{CallEnd: func(context.Context, sdk.CallEnd) {
				if armed.CompareAndSwap(true, false) {
					runtime.Goexit()
				}
			}}
		}, func(*testing.T, *breaker.Breaker) {}, 1},
		{"StateChange to half-open", func(armed *atomic.Bool) sdk.Hooks {
			return sdk.Hooks{StateChange: func(_ context.Context, tr sdk.Transition) {
				if tr.To == sdk.StateHalfOpen && armed.CompareAndSwap(true, false) {
					runtime.Goexit()
				}
			}}
		}, func(t *testing.T, b *breaker.Breaker) {
			_, _ = call(b, failing)
			time.Sleep(fltCooldown)
		}, 0},
		{"StateChange to open", func(armed *atomic.Bool) sdk.Hooks {
			return sdk.Hooks{StateChange: func(_ context.Context, tr sdk.Transition) {
				if tr.To == sdk.StateOpen && armed.CompareAndSwap(true, false) {
					runtime.Goexit()
				}
			}}
		}, func(*testing.T, *breaker.Breaker) {}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var armed atomic.Bool
				rec := &callRecorder{}
				b := mustNew(t, fltOptions(1, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithHooks(rec.hooks(), tc.hooks(&armed)))...)
				tc.prep(t, b)
				before := len(rec.endList())
				armed.Store(true)
				done := make(chan struct{})
				returned := false
				go func() {
					defer close(done)
					fn := double(1)
					if tc.name == "StateChange to open" {
						fn = failing
					}
					_, _ = call(b, fn)
					returned = true
				}()
				<-done
				assert.False(t, returned, "Goexit went on")
				ends := rec.endList()
				require.Len(t, ends, before+1, "one CallEnd: %v", rec.eventList())
				assert.Equal(t, tc.calls, b.Info().Metric.TotalCount, "recorded once")
				if tc.name == "CallEnd" {
					assert.Equal(t, sdk.StateClosed, b.State(), "the success was not recorded again as a failure")
				}
				// No slot leaked: the breaker still probes and closes.
				if b.State() == sdk.StateHalfOpen {
					_, err := call(b, double(1))
					require.NoError(t, err, "the slot came back")
				}
				b.ForceOpen(context.Background())
				b.Reset(context.Background())
				_, _ = call(b, failing)
				time.Sleep(fltCooldown)
				_, err := call(b, double(1))
				require.NoError(t, err)
				assert.Equal(t, sdk.StateClosed, b.State())
				fltOneEndPerCall(t, rec, len(rec.endList()))
			})
		})
	}
}

// TestPanicsInTwoPlaces: fn panics and the TripperFunc panics while the
// breaker records that panic; the CallEnd hooks still run once, so
// otelbridge ends the span. Before the fix no CallEnd ran.
func TestPanicsInTwoPlaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_ = fltSilenceHookLogs(t)
		rec := &callRecorder{}
		var armed atomic.Bool
		trip := breaker.TripperFunc("boom", func(breaker.CallContext) bool {
			if armed.CompareAndSwap(true, false) {
				panic("tripper")
			}
			return false
		})
		b := mustNew(t, breaker.WithTripper(trip), breaker.WithHooks(rec.hooks()))
		armed.Store(true)
		r := fltPanicked(func() { _, _ = call(b, func(context.Context) (int, error) { panic("fn") }) })
		assert.NotNil(t, r, "a panic reaches the caller")
		ends := rec.endList()
		require.Len(t, ends, 1, "CallEnd ran")
		assert.True(t, ends[0].Panicked)
		assert.Equal(t, 1, b.Info().Metric.TotalCount, "the call was recorded once")
		_, err := call(b, double(1))
		require.NoError(t, err, "the breaker keeps working")
		fltOneEndPerCall(t, rec, 2)
	})
}

// TestPanicAfterTheMoveToHalfOpenIsReported: a PermitFunc or WithRand
// source that panics after the call moved the breaker from open to
// half-open: the transition and the call's CallStart and CallEnd are still
// reported, and the breaker keeps probing. Before the fix all three were
// lost.
func TestPanicAfterTheMoveToHalfOpenIsReported(t *testing.T) {
	var armed atomic.Bool
	maybePanic := func(what string) {
		if armed.CompareAndSwap(true, false) {
			panic(what)
		}
	}
	for _, tc := range []struct {
		name string
		opts []breaker.Option
	}{
		{"PermitFunc", []breaker.Option{breaker.WithPermit(breaker.PermitFunc(func(time.Duration) bool { maybePanic("permit"); return true }))}},
		{"WithRand", []breaker.Option{breaker.WithPermit(breaker.Random(0.5)), breaker.WithRand(func() float64 { maybePanic("rand"); return 0 })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &callRecorder{}
				b := mustNew(t, append(fltOptions(1, breaker.WithHooks(rec.hooks())), tc.opts...)...)
				_, _ = call(b, failing)
				time.Sleep(fltCooldown)
				armed.Store(true)
				r := fltPanicked(func() { _, _ = call(b, double(1)) })
				assert.NotNil(t, r, "the panic reaches the caller")
				assert.Equal(t, sdk.StateHalfOpen, b.State())
				assert.Equal(t, []string{"start:closed", "transition:closed->open(call)", "end:error",
					"start:half_open", "transition:open->half_open(call)", "end:error"}, rec.eventList())
				ends := rec.endList()
				require.Len(t, ends, 2)
				assert.True(t, ends[1].Panicked)
				assert.Equal(t, sdk.DecisionIgnored, ends[1].Decision, "nothing was recorded")
				_, err := call(b, double(1))
				require.NoError(t, err, "the slot was not leaked")
				assert.Equal(t, sdk.StateClosed, b.State())
				fltOneEndPerCall(t, rec, 3)
			})
		})
	}
}

// TestZeroBreakerPanicsAtOnce: a Breaker that was not built by New panics
// at its first use with a message that names the fix. Before the fix it
// deadlocked.
func TestZeroBreakerPanicsAtOnce(t *testing.T) {
	uses := map[string]func(b *breaker.Breaker){
		"Do":      func(b *breaker.Breaker) { _ = b.Do(context.Background(), func(context.Context) error { return nil }) },
		"Execute": func(b *breaker.Breaker) { _, _ = breaker.Execute(context.Background(), b, double(1)) },
		"Allow":   func(b *breaker.Breaker) { _, _ = b.Allow(context.Background()) },
		"Reset":   func(b *breaker.Breaker) { b.Reset(context.Background()) },
		"Info":    func(b *breaker.Breaker) { _ = b.Info() },
	}
	for name, use := range uses {
		t.Run(name, func(t *testing.T) {
			var b breaker.Breaker
			var r any
			require.True(t, fltWithin(2*time.Second, func() { r = fltPanicked(func() { use(&b) }) }), "%s returns at once", name)
			require.NotNil(t, r, "%s on a zero Breaker panics", name)
			msg, _ := r.(string)
			assert.Contains(t, msg, "breaker.New")
		})
	}
}

// TestPanickingProbeStaysHalfOpenWhileTheTripperIsFalse: a panicking probe
// is a counted failure; whether it re-opens the breaker is the tripper's
// call, as for any failure. With MinRequests(2).And(FailureRate(0.5)) one
// panicking probe leaves the breaker half-open, and the next probe decides.
func TestPanickingProbeStaysHalfOpenWhileTheTripperIsFalse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, append(halfOpenConfig(breaker.MinRequests(2).And(breaker.FailureRate(0.5))), breaker.WithMaxHalfOpenCalls(1))...)
		tripOpen(t, b, 2)
		time.Sleep(61 * time.Second)
		r := fltPanicked(func() { _, _ = call(b, func(context.Context) (int, error) { panic("probe") }) })
		assert.Equal(t, "probe", r)
		assert.Equal(t, sdk.StateHalfOpen, b.State(), "one failure in the window: the tripper is false")
		assert.Equal(t, 1, b.Info().Metric.FailureCount)
		_, err := call(b, failing)
		require.ErrorIs(t, err, errFail)
		assert.Equal(t, sdk.StateOpen, b.State(), "the second counted failure re-opened it")
		assert.False(t, errors.Is(err, breaker.ErrNotPermitted))
	})
}
