package otelbridge_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func reject(h sdk.Hooks, bname string) {
	ctx := h.CallStart(context.Background(), sdk.CallStart{Name: bname, State: sdk.StateOpen, Rejected: true})
	h.CallEnd(ctx, sdk.CallEnd{Name: bname, State: sdk.StateOpen, Outcome: sdk.OutcomeRejected, Err: errOpen})
}

func TestRejectedSpans(t *testing.T) {
	tests := []struct {
		name string
		opts []otelbridge.Option
		// wantSpans is the number of rejected-call spans of breaker "a"
		// after each second, in which it rejects 100 calls.
		wantSpans []int
	}{
		{"default: one a second", nil, []int{1, 2, 3}},
		{"every 2s", []otelbridge.Option{otelbridge.WithRejectedSpanInterval(2 * time.Second)}, []int{1, 1, 2}},
		{"every rejected call", []otelbridge.Option{otelbridge.WithRejectedSpanInterval(0)}, []int{100, 200, 300}},
		{"none", []otelbridge.Option{otelbridge.WithoutRejectedSpans()}, []int{0, 0, 0}},
		{"none, then a negative interval is ignored", []otelbridge.Option{otelbridge.WithoutRejectedSpans(), otelbridge.WithRejectedSpanInterval(-time.Second)}, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tel := testutil.NewTelemetry(t)
				h := newHooks(tel, tt.opts...)
				var got []int
				for range 3 {
					for range 100 {
						reject(h, "a")
					}
					got = append(got, len(tel.Ended()))
					time.Sleep(time.Second)
				}
				assert.Equal(t, tt.wantSpans, got)
				for _, s := range tel.Ended() {
					v, _ := testutil.SpanAttr(s, otelbridge.OutcomeKey)
					assert.Equal(t, "rejected", v.AsString())
				}
				v, ok := testutil.Int64Value(tel.Collect(t), otelbridge.CallsMetric,
					name("a"), state("open"), outcome("rejected"), errorType("circuit_breaker_open"))
				require.True(t, ok)
				assert.Equal(t, int64(300), v, "the metric counts every rejected call")
			})
		})
	}
}

func TestRejectedSpansPerBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := testutil.NewTelemetry(t)
		h := newHooks(tel)
		for range 10 {
			reject(h, "a")
			reject(h, "b")
			ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: "x", State: sdk.StateOpen, Rejected: true})
			h.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: "x", State: sdk.StateOpen, Outcome: sdk.OutcomeRejected, Err: errOpen})
			ctx = h.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: "y", State: sdk.StateOpen, Rejected: true})
			h.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: "y", State: sdk.StateOpen, Outcome: sdk.OutcomeRejected, Err: errOpen})
		}
		assert.Len(t, tel.Ended(), 4, "one span per breaker (per key of a group) in the interval")
	})
}

func TestRejectedSpanInsideACall(t *testing.T) {
	// A rejected call without a span, made inside another call of the
	// bridge, leaves the outer call's span alone.
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithoutRejectedSpans())
	outer, err := breaker.New("outer", breaker.WithHooks(h))
	require.NoError(t, err)
	inner, err := breaker.New("inner", breaker.WithHooks(h))
	require.NoError(t, err)
	inner.ForceOpen(context.Background())
	require.NoError(t, outer.Do(context.Background(), func(ctx context.Context) error {
		assert.ErrorIs(t, inner.Do(ctx, func(context.Context) error { return nil }), breaker.ErrNotPermitted)
		return nil
	}))
	spans := tel.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "circuit_breaker outer", spans[0].Name())
	v, _ := testutil.SpanAttr(spans[0], otelbridge.OutcomeKey)
	assert.Equal(t, "success", v.AsString())
}
