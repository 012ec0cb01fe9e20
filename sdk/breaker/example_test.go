package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// A breaker with the package's defaults protects a call.
func Example() {
	b, err := breaker.New("inventory")
	if err != nil {
		panic(err)
	}
	n, err := breaker.Execute(context.Background(), b, func(ctx context.Context) (int, error) {
		return 42, nil // call the dependency here, with ctx
	})
	fmt.Println(n, err, b.State())
	// Output: 42 <nil> closed
}

// Every component of fluxgate's model, configured explicitly.
func ExampleNew() {
	b, err := breaker.New("payments",
		breaker.WithWindow(breaker.TimeWindow(60*time.Second)),
		breaker.WithTracker(tracker.TypeOf[*os.PathError]().Or(tracker.Is(context.DeadlineExceeded))),
		breaker.WithTripper(breaker.MinRequests(20).And(breaker.FailureRate(0.5).Or(breaker.SlowRate(0.3, 2*time.Second)))),
		breaker.WithRetry(breaker.Backoff(10*time.Second, 2, 5*time.Minute, 0.1)),
		breaker.WithPermit(breaker.RampUp(0.1, 1.0, time.Minute)),
		breaker.WithMaxHalfOpenCalls(5),
	)
	fmt.Println(b.Name(), err)
	// Output: payments <nil>
}

// New reports every invalid part of a configuration at once, with
// fluxgate's messages.
func ExampleNew_invalid() {
	_, err := breaker.New("payments",
		breaker.WithTripper(breaker.MinRequests(0).And(breaker.FailureRate(1.5))),
		breaker.WithRetry(breaker.Cooldown(0, 0)),
	)
	var ce *breaker.ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// MinRequests(0): count must be greater than zero
	// FailureRate(1.5): ratio must be between 0 and 1
	// Cooldown(0s, 0): duration must be greater than zero
}

// The breaker opens, refuses calls with a NotPermittedError that tells when
// to retry, then lets a probe through and closes.
func Example_lifecycle() {
	b, _ := breaker.New("search",
		breaker.WithTripper(breaker.MinRequests(3).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.All()),
	)
	ctx := context.Background()
	down := errors.New("connection refused")
	for range 3 {
		_ = b.Do(ctx, func(context.Context) error { return down })
	}
	fmt.Println(b.State())

	b2, _ := breaker.New("search-cooldown",
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
	)
	_ = b2.Do(ctx, func(context.Context) error { return down })
	err := b2.Do(ctx, func(context.Context) error { return nil })
	var npe breaker.NotPermittedError
	fmt.Println(err, errors.Is(err, breaker.ErrNotPermitted), errors.As(err, &npe) && npe.RetryAfter() > 59*time.Minute)

	// Always lets the next call through as a half-open probe; its success closes the breaker.
	err = b.Do(ctx, func(context.Context) error { return nil })
	fmt.Println(err, b.State())
	// Output:
	// open
	// circuit breaker is open true true
	// <nil> closed
}

// A fallback answers when the call fails or is refused.
func ExampleExecuteWithFallback() {
	b, _ := breaker.New("recommendations")
	b.ForceOpen(context.Background())
	recs, err := breaker.ExecuteWithFallback(context.Background(), b,
		func(ctx context.Context) ([]string, error) { return fetchRecommendations(ctx) },
		func(ctx context.Context, err error) ([]string, error) { return []string{"bestsellers"}, nil },
	)
	fmt.Println(recs, err)
	// Output: [bestsellers] <nil>
}

func fetchRecommendations(context.Context) ([]string, error) { return []string{"personal"}, nil }

// Set an HTTP Retry-After header from a rejection.
func ExampleNotPermittedError_RetryAfter() {
	b, _ := breaker.New("upstream", breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(30*time.Second, 0)))
	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("boom") })

	h := http.Header{}
	err := b.Do(context.Background(), func(context.Context) error { return nil })
	if npe, ok := errors.AsType[breaker.NotPermittedError](err); ok {
		h.Set("Retry-After", fmt.Sprint(npe.RetryAfterSeconds()))
	}
	fmt.Println(h.Get("Retry-After"))
	// Output: 30
}

// Manual commands for incidents and maintenance.
func ExampleBreaker_ForceOpen() {
	b, _ := breaker.New("ledger")
	ctx := context.Background()
	b.ForceOpen(ctx)
	fmt.Println(b.State(), b.Do(ctx, func(context.Context) error { return nil }))
	b.MetricsOnly(ctx)
	fmt.Println(b.State())
	b.Disable(ctx)
	fmt.Println(b.State())
	b.Reset(ctx)
	fmt.Println(b.State())
	// Output:
	// forced_open circuit breaker is forced open
	// metrics_only
	// disabled
	// closed
}

// Info returns a consistent snapshot.
func ExampleBreaker_Info() {
	b, _ := breaker.New("cache", breaker.WithTripper(breaker.MinRequests(10).And(breaker.FailureRate(0.5))))
	ctx := context.Background()
	_ = b.Do(ctx, func(context.Context) error { return nil })
	_ = b.Do(ctx, func(context.Context) error { return errors.New("miss") })
	info := b.Info()
	rate, _ := info.Metric.FailureRate()
	fmt.Println(info.State, info.Metric.TotalCount, info.Metric.FailureCount, rate, info.ConsecutiveFailures)
	// Output: closed 2 1 0.5 1
}

// LogHooks logs transitions like fluxgate's LogListener.
func ExampleLogHooks() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	}))
	b, _ := breaker.New("payments", breaker.WithHooks(breaker.LogHooks(logger, map[sdk.State]slog.Level{
		sdk.StateClosed: slog.LevelDebug - 4, // below the handler's level: not logged
	})))
	b.ForceOpen(context.Background())
	b.Reset(context.Background())
	// Output:
	// level=WARN msg="circuit breaker state changed" circuit_name=payments old_state=closed new_state=forced_open reason=manual window_calls=0 window_failures=0
}

// Custom hooks see every call and transition.
func ExampleWithHooks() {
	hooks := sdk.Hooks{
		CallEnd: func(ctx context.Context, info sdk.CallEnd) {
			fmt.Println("call", info.Outcome, info.Decision, info.Rule)
		},
		StateChange: func(ctx context.Context, t sdk.Transition) {
			fmt.Println("transition", t.From, "->", t.To, t.Reason)
		},
	}
	b, _ := breaker.New("profile", breaker.WithHooks(hooks), breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithTracker(tracker.Named("not_found", tracker.Is(os.ErrNotExist)).Not()))
	ctx := context.Background()
	_ = b.Do(ctx, func(context.Context) error { return os.ErrNotExist })
	_ = b.Do(ctx, func(context.Context) error { return errors.New("timeout") })
	// Output:
	// call error ignored not_found
	// transition closed -> open tripped
	// call error counted
}

// Trippers compose with And and Or.
func ExampleTripper_And() {
	t := breaker.MinRequests(20).And(breaker.FailureRate(0.5).Or(breaker.FailureStreak(5)))
	fmt.Println(t)
	// Output: (MinRequests(20) & (FailureRate(0.5) | FailureStreak(5)))
}

// Backoff doubles the wait after each failed recovery.
func ExampleBackoff() {
	r := breaker.Backoff(10*time.Second, 2, 5*time.Minute, 0)
	for reopens := range 7 {
		fmt.Print(r.Delay(reopens), " ")
	}
	fmt.Println()
	// Output: 10s 20s 40s 1m20s 2m40s 5m0s 5m0s
}

// RampUp admits a growing share of probes.
func ExampleRampUp() {
	p := breaker.RampUp(0.1, 0.8, 60*time.Second)
	for _, at := range []time.Duration{0, 15 * time.Second, 30 * time.Second, 60 * time.Second} {
		fmt.Printf("%s:%.3f ", at, p.Ratio(at))
	}
	fmt.Println()
	// Output: 0s:0.100 15s:0.275 30s:0.450 1m0s:0.800
}
