package benchmarks

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The workload: a protected function that returns a value, and one that
// returns a counted error. Both are static funcs, so calling them allocates
// nothing; each library gets the shape it takes.
var (
	errBoom = errors.New("boom")

	okCtx   = func(context.Context) (int, error) { return 1, nil }
	failCtx = func(context.Context) (int, error) { return 0, errBoom }
	ok      = func() (int, error) { return 1, nil }
	fail    = func() (int, error) { return 0, errBoom }
)

// sink keeps results alive so the compiler cannot drop the calls.
var sink int

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// ---------------------------------------------------------------------------
// Closed-state success: trip at a 50% failure rate over the last 100 calls,
// with at least 100 calls. Successes never reach the rule.
// ---------------------------------------------------------------------------

func newOursRate() *breaker.Breaker {
	return must(breaker.New("bench",
		breaker.WithWindow(breaker.CountWindow(100)),
		breaker.WithTripper(breaker.MinRequests(100).And(breaker.FailureRate(0.5))),
	))
}

// gobreaker has no count window: with Interval 0 its counts cover every
// call since the last transition. ReadyToTrip is the same rule.
func newGobreakerRate() *gobreaker.CircuitBreaker[int] {
	return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name: "bench",
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= 100 && c.TotalFailures*2 >= c.Requests
		},
	})
}

// failsafe-go's count-based breaker: open when 50 of the last 100 calls
// failed.
func newFailsafeRate() circuitbreaker.CircuitBreaker[int] {
	return circuitbreaker.NewBuilder[int]().WithFailureThresholdRatio(50, 100).Build()
}

// ---------------------------------------------------------------------------
// Failure path: every call returns a counted error, and the trip rule is
// evaluated after each one but cannot become true.
// ---------------------------------------------------------------------------

// The rate rule of newOursRate, plus a streak that is never reached, so the
// whole rule is evaluated after every failure.
func newOursFailNoTrip() *breaker.Breaker {
	return must(breaker.New("bench",
		breaker.WithWindow(breaker.CountWindow(100)),
		breaker.WithTripper(breaker.MinRequests(100).And(breaker.FailureRate(0.5)).And(breaker.FailureStreak(math.MaxInt))),
	))
}

func newGobreakerFailNoTrip() *gobreaker.CircuitBreaker[int] {
	return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name: "bench",
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= 100 && c.TotalFailures*2 >= c.Requests && c.ConsecutiveFailures == math.MaxUint32
		},
	})
}

// 101 failures in a window of 100 calls: never reached.
func newFailsafeFailNoTrip() circuitbreaker.CircuitBreaker[int] {
	return circuitbreaker.NewBuilder[int]().WithFailureThresholdRatio(101, 100).Build()
}

// ---------------------------------------------------------------------------
// Rejection while open: one counted failure opens the breaker, which then
// waits an hour before it lets a call through.
// ---------------------------------------------------------------------------

func newOursOpen() *breaker.Breaker {
	b := must(breaker.New("bench",
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
	))
	_, _ = breaker.Execute(context.Background(), b, failCtx)
	if s := b.State(); s != sdk.StateOpen {
		panic("fluxgate breaker not open: " + s.String())
	}
	return b
}

func newGobreakerOpen() *gobreaker.CircuitBreaker[int] {
	cb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name:        "bench",
		Timeout:     time.Hour,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})
	_, _ = cb.Execute(fail)
	if s := cb.State(); s != gobreaker.StateOpen {
		panic("gobreaker not open: " + s.String())
	}
	return cb
}

func newFailsafeOpen() circuitbreaker.CircuitBreaker[int] {
	cb := circuitbreaker.NewBuilder[int]().WithDelay(time.Hour).Build()
	_, _ = failsafe.With[int](cb).Get(fail)
	if !cb.IsOpen() {
		panic("failsafe-go breaker not open: " + cb.State().String())
	}
	return cb
}

// ---------------------------------------------------------------------------
// Half-open admission: each breaker is opened by one failure and moved to
// half-open by the next call; then every call is admitted as a probe,
// succeeds, and leaves the breaker half-open.
// ---------------------------------------------------------------------------

// HalfOpened() keeps the breaker half-open after every success; a first
// failure (streak 1) opens it from closed; Always() lets the next call in.
// Every probe is admitted by All() and takes and frees one of 1<<20 slots.
func newOursHalfOpen() *breaker.Breaker {
	b := must(breaker.New("bench",
		breaker.WithTripper(breaker.HalfOpened().Or(breaker.Closed().And(breaker.FailureStreak(1)))),
		breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.All()),
		breaker.WithMaxHalfOpenCalls(1<<20),
	))
	ctx := context.Background()
	_, _ = breaker.Execute(ctx, b, failCtx)
	_, _ = breaker.Execute(ctx, b, okCtx)
	if s := b.State(); s != sdk.StateHalfOpen {
		panic("fluxgate breaker not half-open: " + s.String())
	}
	return b
}

// MaxRequests bounds the requests admitted since entering half-open and is
// also the number of consecutive successes that closes the breaker: at
// MaxUint32 neither is reached in a benchmark.
func newGobreakerHalfOpen() *gobreaker.CircuitBreaker[int] {
	cb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name:        "bench",
		MaxRequests: math.MaxUint32,
		Timeout:     time.Nanosecond,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})
	_, _ = cb.Execute(fail)
	time.Sleep(time.Millisecond)
	_, _ = cb.Execute(ok)
	if s := cb.State(); s != gobreaker.StateHalfOpen {
		panic("gobreaker not half-open: " + s.String())
	}
	return cb
}

// 1000 permits at once; 1001 successes out of the last 1000 would close
// it, which cannot happen, and failures never reach the threshold either.
func newFailsafeHalfOpen() circuitbreaker.CircuitBreaker[int] {
	cb := circuitbreaker.NewBuilder[int]().WithSuccessThresholdRatio(1001, 1000).Build()
	cb.HalfOpen()
	_, _ = failsafe.With[int](cb).Get(ok)
	if !cb.IsHalfOpen() {
		panic("failsafe-go breaker not half-open: " + cb.State().String())
	}
	return cb
}

// TestScenarios checks that every breaker set-up does what its benchmark
// says, after many calls: no timing here.
func TestScenarios(t *testing.T) {
	ctx := context.Background()
	const n = 1000
	t.Run("success stays closed", func(t *testing.T) {
		ours, gb, fs := newOursRate(), newGobreakerRate(), newFailsafeRate()
		for range n {
			_ = must(breaker.Execute(ctx, ours, okCtx))
			_ = must(gb.Execute(ok))
			_ = must(failsafe.With[int](fs).Get(ok))
		}
		check(t, ours.State() == sdk.StateClosed, gb.State() == gobreaker.StateClosed, fs.IsClosed())
	})
	t.Run("failures stay closed", func(t *testing.T) {
		ours, gb, fs := newOursFailNoTrip(), newGobreakerFailNoTrip(), newFailsafeFailNoTrip()
		for range n {
			_, err1 := breaker.Execute(ctx, ours, failCtx)
			_, err2 := gb.Execute(fail)
			_, err3 := failsafe.With[int](fs).Get(fail)
			check(t, err1 == errBoom, err2 == errBoom, err3 == errBoom)
		}
		check(t, ours.State() == sdk.StateClosed, gb.State() == gobreaker.StateClosed, fs.IsClosed())
		check(t, ours.Info().Metric.FailureCount == 100, gb.Counts().TotalFailures == n, fs.Metrics().Failures() == 100)
	})
	t.Run("open rejects", func(t *testing.T) {
		ours, gb, fs := newOursOpen(), newGobreakerOpen(), newFailsafeOpen()
		for range n {
			_, err1 := breaker.Execute(ctx, ours, okCtx)
			_, err2 := gb.Execute(ok)
			_, err3 := failsafe.With[int](fs).Get(ok)
			check(t, errors.Is(err1, breaker.ErrNotPermitted), err2 == gobreaker.ErrOpenState, err3 == circuitbreaker.ErrOpen)
			check(t, true, true, !fs.TryAcquirePermit())
		}
	})
	t.Run("half-open admits", func(t *testing.T) {
		ours, gb, fs := newOursHalfOpen(), newGobreakerHalfOpen(), newFailsafeHalfOpen()
		for range n {
			_ = must(breaker.Execute(ctx, ours, okCtx))
			_ = must(gb.Execute(ok))
			_ = must(failsafe.With[int](fs).Get(ok))
		}
		check(t, ours.State() == sdk.StateHalfOpen, gb.State() == gobreaker.StateHalfOpen, fs.IsHalfOpen())
	})
}

func check(t *testing.T, ours, gb, fs bool) {
	t.Helper()
	if !ours || !gb || !fs {
		t.Fatalf("fluxgate %v, gobreaker %v, failsafe-go %v", ours, gb, fs)
	}
}
