package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Roll a new rule out in shadow mode: the breaker runs its whole state
// machine and reports what it would refuse (sdk.CallEnd.WouldReject;
// otelbridge's circuit_breaker.would_reject), and refuses nothing. Once the
// dashboards agree with the rule, enforce it, at once or gradually.
func ExampleBreaker_SetEnforcement() {
	var wouldReject int
	b, err := breaker.New("payments",
		breaker.WithTripper(breaker.FailureStreak(3)),
		breaker.WithEnforcement(0), // shadow mode
		breaker.WithHooks(sdk.Hooks{CallEnd: func(_ context.Context, e sdk.CallEnd) {
			if e.WouldReject {
				wouldReject++
			}
		}}),
	)
	if err != nil {
		panic(err)
	}
	down := func(context.Context) error { return errors.New("connection refused") }
	for range 5 {
		_ = b.Do(context.Background(), down)
	}
	fmt.Println(b.State(), "- would have refused:", wouldReject)

	// Enforce the rule on every call it would refuse.
	if err := b.SetEnforcement(1); err != nil {
		panic(err)
	}
	err = b.Do(context.Background(), down)
	fmt.Println(errors.Is(err, breaker.ErrNotPermitted))
	// Output:
	// open - would have refused: 2
	// true
}

// Tighten a breaker's rule while it serves calls. The state, the window
// (when its kind and size stay) and the telemetry series are kept; the new
// tripper decides from the next outcome.
func ExampleBreaker_Reconfigure() {
	b, err := breaker.New("payments", breaker.WithTripper(breaker.FailureStreak(10)),
		breaker.WithHooks(breaker.LogHooks(slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		})), nil)))
	if err != nil {
		panic(err)
	}
	down := func(context.Context) error { return errors.New("timeout") }
	for range 3 {
		_ = b.Do(context.Background(), down)
	}
	err = b.Reconfigure(context.Background(), breaker.WithTripper(breaker.FailureStreak(4)))
	fmt.Println(err, b.Info().ConsecutiveFailures)
	_ = b.Do(context.Background(), down)
	fmt.Println(b.State())

	// Invalid settings change nothing.
	err = b.Reconfigure(context.Background(), breaker.WithMaxHalfOpenCalls(0), breaker.WithEnforcement(2))
	fmt.Println(err)
	// Output:
	// level=INFO msg="circuit breaker reconfigured" circuit_name=payments changes="[tripper: FailureStreak(10) -> FailureStreak(4)]" window_replaced=false
	// <nil> 3
	// level=WARN msg="circuit breaker state changed" circuit_name=payments old_state=closed new_state=open reason=tripped window_calls=4 window_failures=4
	// open
	// breaker: invalid configuration for "payments": WithMaxHalfOpenCalls(0): must be at least 1; WithEnforcement(2): must be from 0 to 1
}

// Change every key of a group, present and future, at once; and cap how
// many keys may be open together.
func ExampleGroup_Reconfigure() {
	hosts, err := breaker.NewGroup("upstreams", breaker.WithTripper(breaker.FailureStreak(5)),
		breaker.WithRetry(breaker.Cooldown(time.Minute, 0)))
	if err != nil {
		panic(err)
	}
	defer hosts.Close()
	for _, h := range []string{"a", "b", "c", "d"} {
		_, _ = hosts.Get(h)
	}
	err = hosts.Reconfigure(context.Background(),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithMaxOpenFraction(0.5), // at most 2 of 4 keys open
	)
	if err != nil {
		panic(err)
	}
	for _, h := range []string{"a", "b", "c", "d"} {
		b, _ := hosts.Get(h)
		_ = b.Do(context.Background(), func(context.Context) error { return errors.New("down") })
		fmt.Println(h, b.State())
	}
	fmt.Println("open:", hosts.OpenKeys(), "capped:", hosts.TripsCapped())

	err = hosts.Reconfigure(context.Background(), breaker.WithMaxKeys(10))
	fmt.Println(err)
	// Output:
	// a open
	// b open
	// c closed
	// d closed
	// open: 2 capped: 2
	// breaker: invalid configuration for "upstreams": WithMaxKeys(10): cannot change at run time
}
