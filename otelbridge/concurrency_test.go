package otelbridge_test

import (
	"context"
	"fmt"
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
