package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

type requestIDKey struct{}

// composite is the rule of the allocation and concurrency tests.
func composite(calls *atomic.Int64) *tracker.Rule {
	return tracker.Named("x", tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))).
		And(tracker.Not(tracker.Custom(func(ctx context.Context, err error) bool {
			calls.Add(1)
			return ctx.Value(requestIDKey{}) == "skip"
		})))
}

func TestConcurrentTrack(t *testing.T) {
	var calls atomic.Int64
	r := composite(&calls)
	skip := context.WithValue(t.Context(), requestIDKey{}, "skip")
	wrapped := fmt.Errorf("call: %w", errOp)

	const goroutines, iterations = 32, 500
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			for i := range iterations {
				ctx := t.Context()
				if (g+i)%2 == 0 {
					ctx = skip
				}
				var want tracker.Verdict
				switch i % 3 {
				case 0:
					want = ignored("") // not a network error: nothing matched
					if r.Track(ctx, errPlain) != want {
						wrong.Add(1)
					}
				case 1:
					want = counted("x") // the exclusion did not match: "x" names the verdict
					if ctx == skip {
						want = ignored("custom") // the exclusion matched
					}
					if r.Track(ctx, wrapped) != want {
						wrong.Add(1)
					}
				default:
					if r.Track(ctx, nil) != (tracker.Verdict{}) {
						wrong.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, wrong.Load())

	perGoroutine := int64((iterations + 1) / 3) // i%3 == 1 for i in [0, iterations)
	want := goroutines * perGoroutine
	assert.Equal(t, want, calls.Load(), "Custom runs once per error that reaches it")
}

func TestTrackDoesNotAllocate(t *testing.T) {
	var calls atomic.Int64
	ctx := context.WithValue(t.Context(), requestIDKey{}, "keep")
	wrappedOp := fmt.Errorf("call: %w", errOp)
	joined := errors.Join(errPlain, fmt.Errorf("deadline: %w", context.DeadlineExceeded))

	rules := map[string]*tracker.Rule{
		"composite": composite(&calls),
		"all":       tracker.All(),
		"type_of":   tracker.TypeOf[*net.OpError](),
		"interface": tracker.TypeOf[net.Error](),
		"is":        tracker.Is(errValue, context.DeadlineExceeded),
		"custom":    tracker.Custom(func(context.Context, error) bool { return true }),
		"not":       tracker.Not(tracker.All()),
		"or":        tracker.Or(tracker.Is(errValue), tracker.TypeOf[*statusError](), tracker.All()),
		"and":       tracker.And(tracker.All(), tracker.TypeOf[*valueError]()),
		"named":     tracker.Named("n", tracker.Named("m", tracker.All())),
		"foreign":   tracker.And(foreign{v: counted("f")}, tracker.Not(foreign{v: ignored("g")})),
		"invalid":   tracker.Custom(nil),
		"nil":       nil,
	}
	errs := []error{errPlain, errOp, wrappedOp, joined, err503, context.DeadlineExceeded, nil}
	for name, r := range rules {
		t.Run(name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				for _, err := range errs {
					_ = r.Track(ctx, err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}

func BenchmarkTrack(b *testing.B) {
	var calls atomic.Int64
	r := composite(&calls)
	ctx := b.Context()
	err := fmt.Errorf("call: %w", errOp)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Track(ctx, err)
	}
}
