package otelbridge_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

// TestConcurrentUse runs calls, registrations and collections at once; run
// it with -race.
func TestConcurrentUse(t *testing.T) {
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(handlerFunc(func(error) {})) // the error.type overflow
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithErrorTypeLimit(3))
	var wg sync.WaitGroup
	var current atomic.Uint32
	for g := range 8 {
		wg.Go(func() {
			bname := fmt.Sprintf("b%d", g%3)
			unreg := h.Register(sdk.Registration{Name: bname, State: func() sdk.State { return sdk.State(current.Load()) }})
			defer unreg()
			for i := range 200 {
				ctx := context.Background()
				if i%2 == 0 {
					paths["success"](ctx, h)
				}
				call(ctx, h, sdk.CallStart{Name: bname, State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeError,
					Decision: sdk.DecisionCounted, Err: &testutil.ClassifiedError{Class: fmt.Sprint(i % 7), Msg: "x"}}, nil)
				if i%50 == 0 {
					current.Store(uint32(i/50) % sdk.NumStates)
					h.StateChange(ctx, sdk.Transition{Name: bname, From: sdk.StateClosed, To: sdk.StateOpen})
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			tel.Collect(t)
		}
	})
	wg.Wait()

	rm := tel.Collect(t)
	var total int64
	for _, v := range testutil.Int64Sums(rm, otelbridge.CallsMetric) {
		total += v
	}
	assert.Equal(t, int64(8*200+8*100), total)
	assert.Empty(t, testutil.Int64Sums(rm, otelbridge.StateMetric), "every breaker unregistered")
}

// TestConcurrentKeysAndCleanups registers, uses, closes and drops keyed
// breakers from many goroutines while collections and garbage collections
// run; run it with -race. Every call is counted once, and in the end no key
// is reported.
func TestConcurrentKeysAndCleanups(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("key on metrics %v", on), func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel, otelbridge.WithKeyOnMetrics(on), otelbridge.WithRejectedSpanInterval(0))
			const goroutines, rounds, calls = 16, 20, 5
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for r := range rounds {
						k := fmt.Sprintf("k%d", (g*rounds+r)%23)
						w := sdk.WindowSnapshot{Calls: r, Failures: r / 2}
						unreg := h.Register(sdk.Registration{Name: "hosts", Key: k,
							State:  func() sdk.State { return sdk.StateClosed },
							Window: func() sdk.WindowSnapshot { return w }})
						for i := range calls {
							st, out := sdk.StateClosed, sdk.OutcomeSuccess
							if i%3 == 2 {
								st, out = sdk.StateOpen, sdk.OutcomeRejected
							}
							ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: k, State: st, Rejected: out == sdk.OutcomeRejected})
							h.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: k, State: st, Outcome: out, Err: map[bool]error{true: errOpen}[out == sdk.OutcomeRejected]})
						}
						if r%2 == 0 {
							unreg() // Close
						} else if r%5 == 0 {
							runtime.GC() // others' dropped registrations go
						}
						// odd rounds drop the registration without Close
					}
				})
			}
			wg.Go(func() {
				for range 30 {
					tel.Collect(t)
				}
			})
			wg.Wait()

			var total int64
			for _, v := range testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric) {
				total += v
			}
			assert.Equal(t, int64(goroutines*rounds*calls), total)
			assert.Len(t, tel.Ended(), goroutines*rounds*calls, "every span ended")
			reported := func() bool {
				rm := tel.Collect(t)
				return len(testutil.Int64Sums(rm, otelbridge.StateMetric)) > 0 || testutil.FindMetricPoints(rm, otelbridge.WindowCallsMetric) > 0
			}
			for i := 0; i < 20 && reported(); i++ {
				runtime.GC()
				runtime.Gosched()
			}
			assert.False(t, reported(), "closed and dropped breakers are no longer reported")
		})
	}
}
