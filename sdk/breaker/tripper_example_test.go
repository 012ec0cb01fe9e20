package breaker_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The recommended half-open rule: fluxgate's closed-state rule limited to
// the closed state, and "close after 3 successes in a row, re-open on the
// first counted failure" in half-open.
func ExampleSuccessesToClose() {
	b, err := breaker.New("payments",
		breaker.WithTripper(breaker.Closed().And(breaker.MinRequests(4).And(breaker.FailureRate(0.5))).
			Or(breaker.SuccessesToClose(3))),
		breaker.WithRetry(breaker.Always()), // no cooldown, to keep the example short
		breaker.WithPermit(breaker.All()),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	fail := func(context.Context) error { return errors.New("unavailable") }
	ok := func(context.Context) error { return nil }
	report := func(what string) { fmt.Printf("%-22s %s\n", what, b.State()) }

	for range 4 {
		_ = b.Do(ctx, fail)
	}
	report("4 failures:")
	_ = b.Do(ctx, ok)
	_ = b.Do(ctx, ok)
	report("2 successful probes:")
	_ = b.Do(ctx, fail)
	report("a failed probe:")
	for range 3 {
		_ = b.Do(ctx, ok)
	}
	report("3 successful probes:")
	// Output:
	// 4 failures:            open
	// 2 successful probes:   half_open
	// a failed probe:        open
	// 3 successful probes:   closed
}

// With fluxgate's default tripper the first successful probe closes the
// breaker, however many probes failed before it: MinRequests(100) is not
// met on the half-open window, which the transition emptied.
func ExampleSuccessesToClose_defaultTrap() {
	b, _ := breaker.New("payments",
		breaker.WithFluxgateDefaults(),
		breaker.WithRetry(breaker.Always()), // no cooldown, to keep the example short
		breaker.WithPermit(breaker.All()),
	)
	ctx := context.Background()
	fail := func(context.Context) error { return errors.New("unavailable") }
	for range 100 {
		_ = b.Do(ctx, fail)
	}
	fmt.Println("100 failures:", b.State())
	for range 30 {
		_ = b.Do(ctx, fail)
	}
	fmt.Println("30 failed probes:", b.State())
	_ = b.Do(ctx, func(context.Context) error { return nil })
	fmt.Println("1 successful probe:", b.State())
	// Output:
	// 100 failures: open
	// 30 failed probes: half_open
	// 1 successful probe: closed
}

// Not inverts a tripper; Not of Not is the original.
func ExampleTripper_Not() {
	quiet := breaker.MinRequests(10).Not()
	fmt.Println(quiet)
	fmt.Println(quiet.Not())
	fmt.Println(quiet.Trip(breaker.CallContext{}), quiet.Not().Trip(breaker.CallContext{}))
	// Output:
	// ~MinRequests(10)
	// MinRequests(10)
	// true false
}
