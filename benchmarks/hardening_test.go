package benchmarks

import (
	"context"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The open path and transitions: costs that must not depend on the retry's
// jitter or on the window's size. Each group's first row is its reference.

// jitters are the rows of the rejection benchmarks: an open breaker with
// Cooldown(1h, 0) and Cooldown(1h, 0.1), a usual jitter.
var jitters = []struct {
	row    string
	jitter float64
}{
	{"jitter=0", 0},
	{"jitter=0.1", 0.1},
}

// newOpenWithJitter returns a breaker opened by one failure, whose retry is
// Cooldown(1h, jitter): every call of the benchmark is refused, before the
// lower edge of the jitter band (54 minutes for 0.1).
func newOpenWithJitter(jitter float64) *breaker.Breaker {
	b := must(breaker.New("bench",
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Hour, jitter)),
	))
	_, _ = breaker.Execute(context.Background(), b, failCtx)
	if s := b.State(); s != sdk.StateOpen {
		panic("fluxgate breaker not open: " + s.String())
	}
	return b
}

// BenchmarkRejectJitter: an open breaker refuses every call, with and
// without jitter on its cooldown, from one goroutine.
func BenchmarkRejectJitter(b *testing.B) {
	ctx := context.Background()
	for _, j := range jitters {
		b.Run(j.row, func(b *testing.B) {
			cb := newOpenWithJitter(j.jitter)
			b.ReportAllocs()
			for b.Loop() {
				v, err := breaker.Execute(ctx, cb, okCtx)
				sink += v
				if !isNotPermitted(err) {
					b.Fatalf("not refused: %v", err)
				}
			}
		})
	}
}

// BenchmarkRejectJitterParallel: the same from GOMAXPROCS goroutines at
// once; a refusal that took the lock (as a jittered one did) would
// serialise them.
func BenchmarkRejectJitterParallel(b *testing.B) {
	ctx := context.Background()
	for _, j := range jitters {
		b.Run(j.row, func(b *testing.B) {
			cb := newOpenWithJitter(j.jitter)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := breaker.Execute(ctx, cb, okCtx); !isNotPermitted(err) {
						b.Errorf("not refused: %v", err)
						return
					}
				}
			})
		})
	}
}

// benchTransition measures one transition (Reset: closed→closed, which
// reads and empties the window and reports the transition, to no hooks)
// of a breaker whose window was filled first.
func benchTransition(b *testing.B, w breaker.Window, fill int) {
	ctx := context.Background()
	cb := must(breaker.New("bench", breaker.WithWindow(w)))
	for range fill {
		_ = must(breaker.Execute(ctx, cb, okCtx))
	}
	b.ReportAllocs()
	for b.Loop() {
		cb.Reset(ctx)
	}
	if s := cb.State(); s != sdk.StateClosed {
		b.Fatalf("state %s, want closed", s)
	}
}

// BenchmarkTransitionTimeWindow: a transition with TimeWindow(1s) and with
// TimeWindow(2^20 s), the largest (about 12 days), holding calls.
func BenchmarkTransitionTimeWindow(b *testing.B) {
	for _, tc := range []struct {
		row  string
		size time.Duration
	}{
		{"size=1s", time.Second},
		{"size=2^20s", (1 << 20) * time.Second},
	} {
		b.Run(tc.row, func(b *testing.B) { benchTransition(b, breaker.TimeWindow(tc.size), 100) })
	}
}

// BenchmarkTransitionCountWindow: a transition with a full CountWindow(10)
// and a full CountWindow(100000).
func BenchmarkTransitionCountWindow(b *testing.B) {
	for _, size := range []int{10, 100000} {
		b.Run(sizeName(size), func(b *testing.B) { benchTransition(b, breaker.CountWindow(size), size) })
	}
}
