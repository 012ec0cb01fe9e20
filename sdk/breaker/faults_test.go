package breaker_test

// Fault tests: what a breaker does when the code around it misbehaves — a
// protected function that panics or calls runtime.Goexit in any state,
// hooks that panic or block, a tracker that panics, callers that give up
// while waiting for a half-open slot or while their probe runs. Each test
// checks the promises of the docs/guarantees.md: the slot comes back, the
// outcome is counted (or deliberately not), the state stays consistent and
// every call gets exactly one CallStart and one CallEnd.

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// fltCooldown is the open period of the fault tests' breakers.
const fltCooldown = 10 * time.Second

// fltOptions: FailureStreak(n), Cooldown(10s), every probe permitted, one
// half-open slot, plus extra.
func fltOptions(streak int, extra ...breaker.Option) []breaker.Option {
	return append([]breaker.Option{
		breaker.WithTripper(breaker.FailureStreak(streak)),
		breaker.WithRetry(breaker.Cooldown(fltCooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithMaxHalfOpenCalls(1),
	}, extra...)
}

// fltBoom is a panic value whose identity the tests check.
type fltBoom struct{ n int }

// fltPanicked runs fn and returns what it panicked with (nil if it did not).
func fltPanicked(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

// fltSilenceHookLogs swaps slog's default logger for one that counts the
// "a breaker hook panicked" records, for the duration of the test.
func fltSilenceHookLogs(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	old := slog.Default()
	slog.SetDefault(slog.New(&fltCountingHandler{n: &n}))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &n
}

type fltCountingHandler struct{ n *atomic.Int32 }

func (h *fltCountingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *fltCountingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h *fltCountingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *fltCountingHandler) WithGroup(string) slog.Handler      { return h }

// fltOneEndPerCall checks that rec saw exactly one CallStart and one
// CallEnd per call, in the order start, end.
func fltOneEndPerCall(t *testing.T, rec *callRecorder, calls int) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.starts, calls, "one CallStart per call")
	require.Len(t, rec.ends, calls, "one CallEnd per call")
	open := 0
	for _, e := range rec.events {
		switch {
		case len(e) > 6 && e[:6] == "start:":
			open++
		case len(e) > 4 && e[:4] == "end:":
			open--
		}
		require.GreaterOrEqual(t, open, 0, "CallEnd before its CallStart: %v", rec.events)
	}
	require.Zero(t, open, "every CallStart has its CallEnd: %v", rec.events)
}

// TestFaultPanicInEveryState: in every state that runs the protected
// function, a panic reaches the caller with its original value, the
// fallback is not called, the call is recorded as a counted failure where
// the state records outcomes (and nowhere else), a half-open slot comes
// back, and hooks see exactly one CallEnd with Panicked set. Open and
// forced-open never run the function.
func TestFaultPanicInEveryState(t *testing.T) {
	type want struct {
		state     sdk.State // after the panic
		calls     int       // window after the panic
		failures  int
		streak    int
		reopens   int
		ran       bool
		recorded  bool // CallEnd.Decision counted, Rule panic
		admission sdk.State
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, b *breaker.Breaker)
		want  want
	}{
		{"closed", func(*testing.T, *breaker.Breaker) {},
			want{state: sdk.StateClosed, calls: 1, failures: 1, streak: 1, ran: true, recorded: true, admission: sdk.StateClosed}},
		{"half_open", func(t *testing.T, b *breaker.Breaker) {
			_, _ = call(b, failing)
			_, _ = call(b, failing)
			require.Equal(t, sdk.StateOpen, b.State())
			time.Sleep(fltCooldown)
		}, want{state: sdk.StateOpen, streak: 1, reopens: 1, ran: true, recorded: true, admission: sdk.StateHalfOpen}},
		{"metrics_only", func(_ *testing.T, b *breaker.Breaker) { b.MetricsOnly(context.Background()) },
			want{state: sdk.StateMetricsOnly, calls: 1, failures: 1, streak: 1, ran: true, recorded: true, admission: sdk.StateMetricsOnly}},
		{"disabled", func(_ *testing.T, b *breaker.Breaker) { b.Disable(context.Background()) },
			want{state: sdk.StateDisabled, ran: true, admission: sdk.StateDisabled}},
		{"open", func(t *testing.T, b *breaker.Breaker) {
			_, _ = call(b, failing)
			_, _ = call(b, failing)
			require.Equal(t, sdk.StateOpen, b.State())
		}, want{state: sdk.StateOpen, streak: 2, admission: sdk.StateOpen}},
		{"forced_open", func(_ *testing.T, b *breaker.Breaker) { b.ForceOpen(context.Background()) },
			want{state: sdk.StateForcedOpen, admission: sdk.StateForcedOpen}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &callRecorder{}
				// FailureStreak(2): one panic is visible in the window
				// without tripping the closed breaker; in half-open the
				// streak starts again at 0, so use a tripper of 1 there.
				streak := 2
				if tc.want.admission == sdk.StateHalfOpen {
					streak = 1
				}
				b := mustNew(t, fltOptions(streak, breaker.WithHooks(rec.hooks()))...)
				tc.setup(t, b)
				before := len(rec.endList())

				boom := &fltBoom{n: 7}
				ran, fellBack := false, false
				r := fltPanicked(func() {
					_, _ = breaker.ExecuteWithFallback(context.Background(), b,
						func(context.Context) (int, error) { ran = true; panic(boom) },
						func(context.Context, error) (int, error) { fellBack = true; return 0, nil })
				})
				assert.Equal(t, tc.want.ran, ran, "fn ran")
				if tc.want.ran {
					assert.Same(t, boom, r, "the panic continues with its original value")
					assert.False(t, fellBack, "no fallback on panic")
				} else {
					assert.Nil(t, r)
					assert.True(t, fellBack, "a rejection goes to the fallback")
				}

				info := b.Info()
				assert.Equal(t, tc.want.state, info.State)
				assert.Equal(t, tc.want.calls, info.Metric.TotalCount)
				assert.Equal(t, tc.want.failures, info.Metric.FailureCount)
				assert.Equal(t, tc.want.streak, info.ConsecutiveFailures)
				assert.Equal(t, tc.want.reopens, info.Reopens)

				ends := rec.endList()[before:]
				require.Len(t, ends, 1)
				end := ends[0]
				assert.Equal(t, tc.want.admission, end.State)
				if tc.want.ran {
					assert.True(t, end.Panicked)
					assert.Same(t, boom, end.PanicValue)
					assert.Equal(t, sdk.OutcomeError, end.Outcome)
					assert.Equal(t, sdk.DecisionCounted, end.Decision)
					assert.Equal(t, breaker.RulePanic, end.Rule)
					assert.False(t, end.Stale)
				} else {
					assert.Equal(t, sdk.OutcomeRejected, end.Outcome)
				}
				fltOneEndPerCall(t, rec, len(rec.endList()))

				if tc.want.admission == sdk.StateHalfOpen {
					// The slot came back: after the cooldown the one slot
					// admits a probe, which closes the breaker.
					time.Sleep(fltCooldown)
					_, err := call(b, double(1))
					require.NoError(t, err)
					assert.Equal(t, sdk.StateClosed, b.State())
				}
			})
		})
	}
}

// TestFaultPanickingProbeDoesNotStick covers a failsafe-go bug: with one
// half-open slot, a probe that panics must not leave the breaker half-open
// with no slot (failsafe-go's bug). It counts, re-opens the breaker, and the
// next probe after the cooldown decides.
func TestFaultPanickingProbeDoesNotStick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, fltOptions(1)...)
		_, _ = call(b, failing)
		for round := 1; round <= 3; round++ {
			time.Sleep(fltCooldown)
			r := fltPanicked(func() { _, _ = call(b, func(context.Context) (int, error) { panic("probe") }) })
			require.Equal(t, "probe", r)
			require.Equal(t, sdk.StateOpen, b.State(), "round %d: the panicking probe re-opened the breaker", round)
			require.Equal(t, round, b.Info().Reopens)
		}
		time.Sleep(fltCooldown)
		v, err := call(b, double(21))
		require.NoError(t, err, "the slot was released every time")
		assert.Equal(t, 42, v)
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

// TestFaultGoexitInProtectedFunction: fn that ends its goroutine with
// runtime.Goexit (t.FailNow inside a protected call, say) is recorded like a
// panic, releases its slot and gets its CallEnd; Goexit then goes on.
func TestFaultGoexitInProtectedFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		b := mustNew(t, fltOptions(1, breaker.WithHooks(rec.hooks()))...)
		_, _ = call(b, failing)
		time.Sleep(fltCooldown)
		returned := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = call(b, func(context.Context) (int, error) { runtime.Goexit(); return 0, nil })
			returned = true
		}()
		<-done
		assert.False(t, returned, "Goexit went on")
		assert.Equal(t, sdk.StateOpen, b.State(), "counted as a failure: the probe re-opened the breaker")
		ends := rec.endList()
		require.Len(t, ends, 2)
		assert.True(t, ends[1].Panicked)
		assert.Nil(t, ends[1].PanicValue)
		time.Sleep(fltCooldown)
		_, err := call(b, double(1))
		require.NoError(t, err, "the slot was released")
		assert.Equal(t, sdk.StateClosed, b.State())
		fltOneEndPerCall(t, rec, 3)
	})
}

// fltScript is a fixed sequence of calls run against twin breakers.
var fltScript = []error{nil, errFail, nil, errFail, errFail, nil, nil, errFail, errFail, errFail, nil, nil, nil}

// TestFaultPanickingHooksChangeNothing: hooks that panic in every callback
// (and in Register) leave calls, results, states and windows exactly as on
// a twin breaker without hooks; hooks given after the panicking ones still
// run; each panic is reported through slog.
func TestFaultPanickingHooksChangeNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logged := fltSilenceHookLogs(t)
		panicking := sdk.Hooks{
			Register:    func(sdk.Registration) func() { panic("register") },
			CallStart:   func(context.Context, sdk.CallStart) context.Context { panic("start") },
			CallEnd:     func(context.Context, sdk.CallEnd) { panic("end") },
			StateChange: func(context.Context, sdk.Transition) { panic("transition") },
		}
		nilCtx := sdk.Hooks{CallStart: func(context.Context, sdk.CallStart) context.Context { return nil }}
		rec := &callRecorder{}
		opts := []breaker.Option{
			breaker.WithTripper(breaker.MinRequests(3).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()),
		}
		plain := mustNew(t, opts...)
		hooked := mustNew(t, append(opts, breaker.WithHooks(panicking, nilCtx, panicking, rec.hooks()))...)

		for i, want := range fltScript {
			fn := double(i)
			if want != nil {
				fn = failWith(want)
			}
			v1, err1 := call(plain, fn)
			v2, err2 := call(hooked, fn)
			require.Equal(t, v1, v2, "call %d", i)
			require.Equal(t, err1, err2, "call %d", i)
			i1, i2 := plain.Info(), hooked.Info()
			i1.Name, i2.Name = "", ""
			require.Equal(t, i1, i2, "call %d", i)
			time.Sleep(700 * time.Millisecond)
		}
		hooked.Reset(context.Background())
		plain.Reset(context.Background())
		require.Equal(t, plain.State(), hooked.State())
		fltOneEndPerCall(t, rec, len(fltScript))
		assert.NotEmpty(t, rec.eventList(), "the hooks after the panicking ones ran")
		assert.Positive(t, logged.Load(), "hook panics are reported through slog")
		hooked.Close() // the Register hook panicked: no unregister func to call
	})
}

// TestFaultSlowHooksDoNotBlockOtherCalls: a StateChange hook that blocks the
// call that tripped the breaker, and a CallEnd hook that blocks a probe,
// hold neither the lock nor a half-open slot: other calls, Info and manual
// commands go on, and the blocked callers return once the hooks do.
func TestFaultSlowHooksDoNotBlockOtherCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var blockTransition, blockEnd atomic.Bool
		slow := sdk.Hooks{
			StateChange: func(_ context.Context, tr sdk.Transition) {
				if tr.To == sdk.StateOpen && blockTransition.CompareAndSwap(true, false) {
					<-release
				}
			},
			CallEnd: func(_ context.Context, e sdk.CallEnd) {
				if e.State == sdk.StateHalfOpen && blockEnd.CompareAndSwap(true, false) {
					<-release
				}
			},
		}
		b := mustNew(t, fltOptions(1, breaker.WithHooks(slow))...)

		blockTransition.Store(true)
		tripped := make(chan error, 1)
		go func() { _, err := call(b, failing); tripped <- err }()
		synctest.Wait()
		require.Equal(t, sdk.StateOpen, b.State(), "the transition happened; only its report is slow")
		_, err := call(b, double(1))
		requireRejected(t, err, sdk.StateOpen)
		_ = b.Info()
		b.Reset(context.Background())
		_, err = call(b, double(1))
		require.NoError(t, err)
		select {
		case <-tripped:
			t.Fatal("the tripping call returned before its hook did")
		default:
		}
		release <- struct{}{}
		require.Same(t, errFail, <-tripped)

		// A probe whose CallEnd hook blocks has already released its slot.
		_, _ = call(b, failing)
		time.Sleep(fltCooldown)
		blockEnd.Store(true)
		first := make(chan error, 1)
		go func() { _, err := call(b, failWith(&valueError{"still down"})); first <- err }()
		synctest.Wait()
		require.Equal(t, sdk.StateOpen, b.State(), "the first probe failed and re-opened the breaker")
		time.Sleep(2 * fltCooldown) // Backoff-free cooldown: the next probe may go
		_, err = call(b, double(1))
		require.NoError(t, err, "the single slot is free while the first probe's hook blocks")
		assert.Equal(t, sdk.StateClosed, b.State())
		release <- struct{}{}
		require.Error(t, <-first)
	})
}

// TestFaultPanickingTracker: a tracker that panics is handled like a
// panicking protected function — the caller sees the tracker's panic, the
// call counts as a failure, the slot comes back, one CallEnd — in closed
// and in half-open.
func TestFaultPanickingTracker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		var armed atomic.Bool
		tr := tracker.Custom(func(context.Context, error) bool {
			if armed.Load() {
				panic("tracker")
			}
			return true
		})
		b := mustNew(t, fltOptions(1, breaker.WithTracker(tr), breaker.WithHooks(rec.hooks()))...)

		armed.Store(true)
		r := fltPanicked(func() { _, _ = call(b, failing) })
		require.Equal(t, "tracker", r, "the caller sees the tracker's panic")
		require.Equal(t, sdk.StateOpen, b.State(), "closed: the call counted and tripped FailureStreak(1)")

		time.Sleep(fltCooldown)
		r = fltPanicked(func() { _, _ = call(b, failing) })
		require.Equal(t, "tracker", r)
		require.Equal(t, sdk.StateOpen, b.State(), "half-open: the probe counted and re-opened the breaker")
		require.Equal(t, 1, b.Info().Reopens)

		ends := rec.endList()
		require.Len(t, ends, 2)
		for _, e := range ends {
			assert.True(t, e.Panicked)
			assert.Equal(t, "tracker", e.PanicValue)
			assert.Equal(t, sdk.DecisionCounted, e.Decision)
		}

		armed.Store(false)
		time.Sleep(fltCooldown)
		_, err := call(b, double(1))
		require.NoError(t, err, "the half-open slot came back")
		assert.Equal(t, sdk.StateClosed, b.State())
		fltOneEndPerCall(t, rec, 3)
	})
}

// fltHalfOpenWithHeldProbe opens b, waits the cooldown and starts a probe
// that holds the only slot until release is closed; it returns the probe's
// result channel.
func fltHalfOpenWithHeldProbe(t *testing.T, b *breaker.Breaker, release chan struct{}) chan error {
	t.Helper()
	_, _ = call(b, failing)
	require.Equal(t, sdk.StateOpen, b.State())
	time.Sleep(fltCooldown)
	res := make(chan error, 1)
	go func() {
		_, err := call(b, func(context.Context) (int, error) { <-release; return 1, nil })
		res <- err
	}()
	synctest.Wait()
	require.Equal(t, sdk.StateHalfOpen, b.State())
	return res
}

// TestFaultCancelWhileWaitingForSlot: a caller that gives up while waiting
// for a half-open slot gets its context's error, never runs, records
// nothing, takes no slot with it, and gets one rejected CallEnd.
func TestFaultCancelWhileWaitingForSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		b := mustNew(t, fltOptions(1, breaker.WithHooks(rec.hooks()))...)
		release := make(chan struct{})
		probe := fltHalfOpenWithHeldProbe(t, b, release)

		var waiters sync.WaitGroup
		var ran atomic.Int32
		errs := make([]error, 3)
		cancels := make([]context.CancelFunc, 3)
		for i := range 3 {
			ctx, cancel := context.WithCancel(context.Background())
			cancels[i] = cancel
			waiters.Go(func() {
				_, errs[i] = breaker.Execute(ctx, b, func(context.Context) (int, error) { ran.Add(1); return 0, nil })
			})
		}
		synctest.Wait()
		for _, c := range cancels {
			c()
		}
		waiters.Wait()
		for _, err := range errs {
			require.ErrorIs(t, err, context.Canceled)
		}
		assert.Zero(t, ran.Load(), "a canceled waiter never runs")
		assert.Equal(t, sdk.StateHalfOpen, b.State())
		assert.Zero(t, b.Info().Metric.TotalCount, "nothing recorded")

		close(release)
		require.NoError(t, <-probe)
		assert.Equal(t, sdk.StateClosed, b.State(), "the held probe closed the breaker")

		// No slot leaked: open again and probe twice in a row.
		for range 2 {
			_, _ = call(b, failing)
			time.Sleep(fltCooldown)
			_, err := call(b, double(1))
			require.NoError(t, err)
			require.Equal(t, sdk.StateClosed, b.State())
		}
		ends := rec.endList()
		rejected := 0
		for _, e := range ends {
			if e.Outcome == sdk.OutcomeRejected {
				rejected++
				assert.ErrorIs(t, e.Err, context.Canceled)
				assert.Equal(t, sdk.StateHalfOpen, e.State)
			}
		}
		assert.Equal(t, 3, rejected)
		fltOneEndPerCall(t, rec, len(ends))
	})
}

// TestFaultUnjudgedProbeDoesNotClose covers a failsafe-go bug: a probe that
// ends without a verdict — its caller canceled it, or the tracker ignored
// its error — releases its slot, records nothing and does not close the
// breaker (failsafe-go closes it: "not counted" became "success"). The next
// real probe decides.
func TestFaultUnjudgedProbeDoesNotClose(t *testing.T) {
	type probe func(ctx context.Context, cancel context.CancelFunc) (int, error)
	cases := []struct {
		name string
		fn   probe
		rule string
	}{
		{"caller canceled, returns ctx.Err()", func(ctx context.Context, cancel context.CancelFunc) (int, error) {
			cancel()
			return 0, ctx.Err()
		}, breaker.RuleContextCanceled},
		{"caller canceled, returns a counted error", func(_ context.Context, cancel context.CancelFunc) (int, error) {
			cancel()
			return 0, errFail
		}, breaker.RuleContextCanceled},
		{"caller canceled, returns success", func(_ context.Context, cancel context.CancelFunc) (int, error) {
			cancel()
			return 1, nil
		}, ""},
		{"tracker ignores the error", func(context.Context, context.CancelFunc) (int, error) {
			return 0, &typeError{"ignored"}
		}, "not_type_error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &callRecorder{}
				ignoreTypeErrors := tracker.Named("not_type_error", tracker.Not(tracker.TypeOf[*typeError]()))
				b := mustNew(t, fltOptions(1, breaker.WithTracker(ignoreTypeErrors), breaker.WithHooks(rec.hooks()))...)
				_, _ = call(b, failing)
				time.Sleep(fltCooldown)

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				_, err := breaker.Execute(ctx, b, func(cctx context.Context) (int, error) { return tc.fn(cctx, cancel) })
				ends := rec.endList()
				end := ends[len(ends)-1]
				if tc.rule == "" {
					// A success is a success, even if the caller gave up
					// meanwhile: it closes the breaker.
					require.NoError(t, err)
					assert.Equal(t, sdk.StateClosed, b.State())
					return
				}
				require.Error(t, err)
				assert.Equal(t, sdk.StateHalfOpen, b.State(), "a probe without a verdict does not close the breaker")
				assert.Zero(t, b.Info().Metric.TotalCount, "and records nothing")
				assert.Equal(t, sdk.DecisionIgnored, end.Decision)
				assert.Equal(t, tc.rule, end.Rule)
				assert.False(t, end.Stale)

				// The slot is free (one slot only) and the next probe decides.
				_, err = call(b, failing)
				require.Same(t, errFail, err)
				assert.Equal(t, sdk.StateOpen, b.State(), "the next probe's failure re-opened the breaker")
				fltOneEndPerCall(t, rec, len(rec.endList()))
			})
		})
	}
}

// TestFaultTransitionOfAWaitingCallIsReported: a call waiting for the
// only half-open slot is woken when the probe that holds it re-opens the
// breaker; it finds the breaker open, moves it to half-open itself and
// runs as that period's probe. Every transition is reported once, in
// order, each with the context of the call that made it.
func TestFaultTransitionOfAWaitingCallIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Always()),
			breaker.WithPermit(breaker.All()), breaker.WithMaxHalfOpenCalls(1), breaker.WithHooks(rec.hooks()))
		_, _ = call(b, failing) // closed -> open
		release := make(chan struct{})
		held := make(chan error, 1)
		go func() { // open -> half_open, holds the only slot, then fails: half_open -> open
			_, err := call(b, func(context.Context) (int, error) { <-release; return 0, errFail })
			held <- err
		}()
		synctest.Wait()
		waiter := make(chan error, 1)
		go func() { // waits for the slot; woken by the re-opening: open -> half_open -> closed
			_, err := call(b, double(1))
			waiter <- err
		}()
		synctest.Wait()
		close(release)
		require.Same(t, errFail, <-held)
		require.NoError(t, <-waiter)
		synctest.Wait()
		assert.Equal(t, sdk.StateClosed, b.State())
		var got []string
		for _, e := range rec.eventList() {
			if strings.HasPrefix(e, "transition:") {
				got = append(got, e)
			}
		}
		assert.Equal(t, []string{
			"transition:closed->open(call)", "transition:open->half_open(call)", "transition:half_open->open(call)",
			"transition:open->half_open(call)", "transition:half_open->closed(call)",
		}, got)
		fltOneEndPerCall(t, rec, 3)
	})
}

// fltWithin runs f in a goroutine and reports whether it returned within d
// of real time; a stuck f is left behind.
func fltWithin(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestFaultPanickingUserFuncsUnderTheLock: TripperFunc, RetryFunc,
// PermitFunc and the WithRand source run under the breaker's lock. If one
// panics, the lock is released: the caller sees the panic and the breaker
// keeps working. Regression test: the lock stayed held, so a panicking
// TripperFunc hung its own caller forever, and after a panicking RetryFunc,
// PermitFunc or rand every later call, Info and Reset blocked forever.
func TestFaultPanickingUserFuncsUnderTheLock(t *testing.T) {
	var armed atomic.Bool
	maybePanic := func(what string) {
		if armed.CompareAndSwap(true, false) {
			panic(what)
		}
	}
	cases := []struct {
		name string
		opts []breaker.Option
		prep func(b *breaker.Breaker)
	}{
		{"TripperFunc", []breaker.Option{
			breaker.WithTripper(breaker.TripperFunc("boom", func(breaker.CallContext) bool { maybePanic("tripper"); return false })),
		}, func(*breaker.Breaker) {}},
		{"RetryFunc", []breaker.Option{
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.RetryFunc(func(time.Duration, int) bool { maybePanic("retry"); return true })),
			breaker.WithPermit(breaker.All()),
		}, func(b *breaker.Breaker) { _, _ = call(b, failing) }},
		{"PermitFunc", []breaker.Option{
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Always()),
			breaker.WithPermit(breaker.PermitFunc(func(time.Duration) bool { maybePanic("permit"); return true })),
			breaker.WithMaxHalfOpenCalls(1), // a leaked slot would block the next probe
		}, func(b *breaker.Breaker) { _, _ = call(b, failing) }},
		{"WithRand", []breaker.Option{
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Always()),
			breaker.WithPermit(breaker.Random(0.5)),
			breaker.WithRand(func() float64 { maybePanic("rand"); return 0 }),
			breaker.WithMaxHalfOpenCalls(1),
		}, func(b *breaker.Breaker) { _, _ = call(b, failing) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, tc.opts...)
			tc.prep(b)
			armed.Store(true)
			var r any
			require.True(t, fltWithin(2*time.Second, func() { r = fltPanicked(func() { _, _ = call(b, double(1)) }) }),
				"the call whose %s panicked returns", tc.name)
			assert.NotNil(t, r, "its caller sees the panic")
			if tc.name == "TripperFunc" {
				assert.Equal(t, 1, b.Info().Metric.TotalCount, "the call is recorded once, not again by the panic path")
			}
			require.True(t, fltWithin(2*time.Second, func() {
				_ = b.Info()
				b.Reset(context.Background())
				_, _ = call(b, double(1))
			}), "the breaker keeps working after a panicking %s", tc.name)
		})
	}
}

// TestFaultAvgLatencyDoesNotOverflow: AvgLatency compares the window's
// average with its threshold without overflowing, whatever the number of
// calls (a busy TimeWindow holds millions) and the threshold. Regression
// test: it compared TotalDuration >= threshold×TotalCount, which wraps
// around and tripped on a healthy window.
func TestFaultAvgLatencyDoesNotOverflow(t *testing.T) {
	cases := []struct {
		threshold time.Duration
		calls     int
		avg       time.Duration
		want      bool
	}{
		{time.Hour, 3_000_000, time.Second, false},
		{time.Hour, 3_000_000, 50 * time.Minute, false},
		{time.Hour, 2_500_000, time.Hour, true},
		{24 * time.Hour, 200_000, 100 * time.Millisecond, false},
		{1 << 62, 2, time.Nanosecond, false},
		{time.Duration(math.MaxInt64), 1, time.Duration(math.MaxInt64), true},
		{time.Second, 1 << 20, time.Second - 1, false},
		{time.Second, 1 << 20, time.Second, true},
	}
	for _, tc := range cases {
		m := breaker.Metric{TotalCount: tc.calls, TotalDuration: tc.avg * time.Duration(tc.calls)}
		got := breaker.AvgLatency(tc.threshold).Trip(breaker.CallContext{Metric: m, State: sdk.StateClosed})
		assert.Equal(t, tc.want, got, "AvgLatency(%s) over %d calls averaging %s", tc.threshold, tc.calls, tc.avg)
	}
}

// TestFaultNoGoroutinesOfOurOwn: building a breaker, driving it through
// every state with hooks, and closing it starts no goroutine and leaves
// none behind.
func TestFaultNoGoroutinesOfOurOwn(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	before := runtime.NumGoroutine()
	same := func(step string) {
		t.Helper()
		require.Equal(t, before, runtime.NumGoroutine(), "goroutines after %s", step)
	}
	rec := &callRecorder{}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.All()), breaker.WithWindow(breaker.TimeWindow(time.Second)),
		breaker.WithHooks(breaker.LogHooks(slog.New(slog.DiscardHandler), nil), rec.hooks()))
	same("New")
	_, _ = call(b, failing)
	same("opening")
	_, _ = call(b, double(1))
	same("a probe")
	_ = fltPanicked(func() { _, _ = call(b, func(context.Context) (int, error) { panic("x") }) })
	same("a panic")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = breaker.Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	for _, cmd := range []func(context.Context){b.ForceOpen, b.Disable, b.MetricsOnly, b.Reset} {
		cmd(context.Background())
		_, _ = call(b, double(1))
	}
	same("manual commands")
	_ = b.Info()
	b.Close()
	same("Close")
}
