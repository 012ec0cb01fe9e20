package breaker_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// A breaker that refuses at once, rather than waiting, when every
// half-open slot is taken: what gobreaker and resilience4j do.
func ExampleWithHalfOpenWait() {
	ctx := context.Background()
	b, _ := breaker.New("inventory",
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Always()),
		breaker.WithPermit(breaker.All()),
		breaker.WithMaxHalfOpenCalls(1),
		breaker.WithHalfOpenWait(0),
	)
	_ = b.Do(ctx, func(context.Context) error { return errors.New("down") }) // closed -> open

	probe, _ := b.Allow(ctx) // open -> half_open: this call is the probe and holds the only slot
	err := b.Do(ctx, func(context.Context) error { return nil })
	fmt.Println(err, errors.Is(err, breaker.ErrNotPermitted))

	probe.Done(nil) // the probe succeeded: closed
	fmt.Println(b.State())
	// Output:
	// circuit breaker is half-open, not executing true
	// closed
}
