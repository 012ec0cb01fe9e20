package breaker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// BenchmarkEnforcement measures the closed-state success and the call
// refused while open, without hooks, at enforcement 1 (the default: every
// would-be refusal refused), 0.5 and 0 (shadow mode: the call runs). The
// enforcement=1 rows must match the breaker's budget for these paths.
func BenchmarkEnforcement(b *testing.B) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	for _, f := range []float64{1, 0.5, 0} {
		b.Run(fmt.Sprintf("closed/enforcement=%g", f), func(b *testing.B) {
			br := mustNew(b, breaker.WithEnforcement(f))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = breaker.Execute(ctx, br, ok)
			}
		})
		b.Run(fmt.Sprintf("open/enforcement=%g", f), func(b *testing.B) {
			br := mustNew(b, breaker.WithEnforcement(f), breaker.WithTripper(breaker.FailureStreak(1)),
				breaker.WithRetry(breaker.Cooldown(time.Hour, 0)))
			_, _ = call(br, failing)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = breaker.Execute(ctx, br, ok)
			}
		})
	}
}
