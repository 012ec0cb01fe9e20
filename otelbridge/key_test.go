package otelbridge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

func key(k string) attribute.KeyValue { return otelbridge.KeyKey.String(k) }

// keyedCall drives one call of the breaker of key k in group "hosts".
func keyedCall(h sdk.Hooks, k string, st sdk.State, end sdk.CallEnd) {
	ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: k, State: st, Rejected: end.Outcome == sdk.OutcomeRejected})
	end.Name, end.Key, end.State = "hosts", k, st
	h.CallEnd(ctx, end)
}

func TestGroupKeyOnSpansAndMetrics(t *testing.T) {
	tests := []struct {
		name         string
		opts         []otelbridge.Option
		wantCalls    map[string]int64
		wantDuration map[string]uint64
		wantState    map[string]int64 // the non-zero points of circuit_breaker.state
		wantTrans    map[string]int64
	}{
		{
			name: "key on metrics (default)",
			wantCalls: map[string]int64{
				testutil.Key(name("hosts"), key("a.example"), state("closed"), outcome("success")):                                   2,
				testutil.Key(name("hosts"), key("b.example"), state("closed"), outcome("success")):                                   1,
				testutil.Key(name("hosts"), key("b.example"), state("open"), outcome("rejected"), errorType("circuit_breaker_open")): 1,
			},
			wantDuration: map[string]uint64{
				testutil.Key(name("hosts"), key("a.example"), state("closed"), outcome("success")): 2,
				testutil.Key(name("hosts"), key("b.example"), state("closed"), outcome("success")): 1,
			},
			wantState: map[string]int64{
				testutil.Key(name("hosts"), key("a.example"), state("closed")): 1,
				testutil.Key(name("hosts"), key("b.example"), state("open")):   1,
				testutil.Key(name("hosts"), key("c.example"), state("open")):   1,
			},
			wantTrans: map[string]int64{
				testutil.Key(name("hosts"), key("b.example"), prevState("closed"), state("open")): 1,
			},
		},
		{
			name: "key off metrics",
			opts: []otelbridge.Option{otelbridge.WithKeyOnMetrics(false)},
			wantCalls: map[string]int64{
				testutil.Key(name("hosts"), state("closed"), outcome("success")):                                   3,
				testutil.Key(name("hosts"), state("open"), outcome("rejected"), errorType("circuit_breaker_open")): 1,
			},
			wantDuration: map[string]uint64{
				testutil.Key(name("hosts"), state("closed"), outcome("success")): 3,
			},
			wantState: map[string]int64{
				testutil.Key(name("hosts"), state("closed")): 1,
				testutil.Key(name("hosts"), state("open")):   2, // the keys in each state
			},
			wantTrans: map[string]int64{
				testutil.Key(name("hosts"), prevState("closed"), state("open")): 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			h := newHooks(tel, tt.opts...)
			states := map[string]sdk.State{"a.example": sdk.StateClosed, "b.example": sdk.StateOpen, "c.example": sdk.StateOpen}
			var unregs []func()
			for _, k := range []string{"a.example", "b.example", "c.example"} {
				unregs = append(unregs, h.Register(sdk.Registration{Name: "hosts", Key: k, State: func() sdk.State { return states[k] }}))
			}
			keyedCall(h, "a.example", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
			keyedCall(h, "a.example", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
			ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: "b.example", State: sdk.StateClosed})
			h.StateChange(ctx, sdk.Transition{Name: "hosts", Key: "b.example", From: sdk.StateClosed, To: sdk.StateOpen, Reason: sdk.ReasonTripped})
			h.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: "b.example", State: sdk.StateClosed, Outcome: sdk.OutcomeSuccess})
			keyedCall(h, "b.example", sdk.StateOpen, sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errOpen})

			// Spans carry the key whatever the option.
			spans := tel.Ended()
			require.Len(t, spans, 4)
			for i, want := range []string{"a.example", "a.example", "b.example", "b.example"} {
				v, ok := testutil.SpanAttr(spans[i], otelbridge.KeyKey)
				require.True(t, ok, "span %d has the key", i)
				assert.Equal(t, want, v.AsString())
				assert.Equal(t, "circuit_breaker hosts", spans[i].Name(), "the span name does not carry the key")
			}
			ev := testutil.Events(spans[2], otelbridge.StateChangeEvent)
			require.Len(t, ev, 1)
			assert.Equal(t, "b.example", testutil.AttrMap(ev[0].Attributes)["circuit_breaker.key"])

			rm := tel.Collect(t)
			assert.Equal(t, tt.wantCalls, testutil.Int64Sums(rm, otelbridge.CallsMetric))
			assert.Equal(t, tt.wantDuration, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric))
			nonZero := func(m map[string]int64) map[string]int64 {
				out := map[string]int64{}
				for k, v := range m {
					if v != 0 {
						out[k] = v
					}
				}
				return out
			}
			assert.Equal(t, tt.wantState, nonZero(testutil.Int64Sums(rm, otelbridge.StateMetric)))
			assert.Equal(t, tt.wantTrans, testutil.Int64Sums(rm, otelbridge.TransitionsMetric))

			// A key whose breaker is closed (evicted from its group) is no
			// longer reported.
			unregs[2]()
			for k := range testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric) {
				assert.NotContains(t, k, "c.example")
			}
			if tt.opts != nil {
				v, _ := testutil.Int64Value(tel.Collect(t), otelbridge.StateMetric, name("hosts"), state("open"))
				assert.Equal(t, int64(1), v, "one key left open")
			}
			unregs[0]()
			unregs[1]()
			assert.Empty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.StateMetric))
		})
	}
}

func TestGroupKeyMetricsExact(t *testing.T) {
	for _, on := range []bool{true, false} {
		tel := testutil.NewTelemetry(t)
		h := newHooks(tel, otelbridge.WithKeyOnMetrics(on))
		keyedCall(h, "a", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
		keyedCall(h, "b", sdk.StateHalfOpen, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable})
		rm := tel.Collect(t)
		ka, kb := []attribute.KeyValue{name("hosts")}, []attribute.KeyValue{name("hosts")}
		if on {
			ka, kb = append(ka, key("a")), append(kb, key("b"))
		}
		assert.Equal(t, map[string]int64{
			testutil.Key(append(ka, state("closed"), outcome("success"))...):                                         1,
			testutil.Key(append(kb, state("half_open"), outcome("error"), decision("counted"), errorType("503"))...): 1,
		}, testutil.Int64Sums(rm, otelbridge.CallsMetric), "key on metrics: %v", on)
		assert.Equal(t, map[string]uint64{
			testutil.Key(append(ka, state("closed"), outcome("success"))...):                       1,
			testutil.Key(append(kb, state("half_open"), outcome("error"), decision("counted"))...): 1,
		}, testutil.HistogramCounts(rm, otelbridge.CallDurationMetric), "probe latency apart from closed-state latency")
	}
}

func TestEmptyKeyHasNoKeyAttribute(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	call(context.Background(), h, sdk.CallStart{Name: "solo", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
	_, ok := testutil.SpanAttr(tel.Ended()[0], otelbridge.KeyKey)
	assert.False(t, ok)
	for k := range testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric) {
		assert.NotContains(t, k, "circuit_breaker.key")
	}
}

func TestGroupKeysAllocateNothingPerCall(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	for _, on := range []bool{true, false} {
		h := newHooks(tel, otelbridge.WithKeyOnMetrics(on), otelbridge.WithFilter(func(context.Context, string) bool { return false }))
		for _, k := range []string{"a", "b", "c"} {
			keyedCall(h, k, sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}) // warm up
		}
		got := testing.AllocsPerRun(200, func() {
			keyedCall(h, "b", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
			keyedCall(h, "c", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: errHalfOpen})
		})
		assert.Equal(t, 0.0, got, "metrics of a keyed breaker are precomputed (key on metrics: %v)", on)
	}
}

func TestManyUnregisteredBreakers(t *testing.T) {
	// Hooks driven by hand for more identities than the bridge keeps
	// without a registration: every call is still counted under its own
	// name and key (with a metric key limit above their number).
	tel := testutil.NewTelemetry(t)
	const n = 1100
	h := newHooks(tel, otelbridge.WithMetricKeyLimit(n))
	for i := range n {
		keyedCall(h, fmt.Sprint(i), sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
	}
	keyedCall(h, "7", sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
	sums := testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric)
	assert.Len(t, sums, n)
	assert.Equal(t, int64(2), sums[testutil.Key(name("hosts"), key("7"), state("closed"), outcome("success"))])
	assert.Equal(t, int64(1), sums[testutil.Key(name("hosts"), key("1099"), state("closed"), outcome("success"))])
	assert.Len(t, tel.Ended(), n+1)
}
