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

// The call that ends the cooldown is always a probe under AdmitFirst; under
// the plain permit it is admitted only if the permit says yes.
func ExampleAdmitFirst() {
	ctx := context.Background()
	never := breaker.Random(0) // admits no probe: only AdmitFirst lets one through
	for _, p := range []breaker.Permit{never, breaker.AdmitFirst(never)} {
		b, _ := breaker.New("inventory",
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Always()), // no cooldown, to keep the example short
			breaker.WithPermit(p),
		)
		_ = b.Do(ctx, func(context.Context) error { return errors.New("down") }) // closed -> open
		err := b.Do(ctx, func(context.Context) error { return nil })             // open -> half_open (-> closed if it ran)
		fmt.Printf("%s: %v, %s\n", p, err, b.State())
	}
	// Output:
	// Random(0): circuit breaker is half-open, not executing, half_open
	// AdmitFirst(Random(0)): <nil>, closed
}
