package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// metricKeys returns, for the metric called name, the distinct values of
// circuit_breaker.key on its data points, the sum of its values (of its
// counts, for a histogram), and whether any data point is the SDK's
// cardinality overflow series.
func metricKeys(t *testing.T, rm metricdata.ResourceMetrics, name string) (keys map[string]bool, total int64, overflow bool) {
	t.Helper()
	m, _, ok := testutil.FindMetric(rm, name)
	require.True(t, ok, "no metric %s", name)
	keys = map[string]bool{}
	see := func(set attribute.Set, n int64) {
		if v, ok := set.Value(otelbridge.KeyKey); ok {
			keys[v.AsString()] = true
		}
		if _, ok := set.Value("otel.metric.overflow"); ok {
			overflow = true
		}
		total += n
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			see(dp.Attributes, dp.Value)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			see(dp.Attributes, int64(dp.Count))
		}
	default:
		t.Fatalf("metric %s: unexpected data %T", name, m.Data)
	}
	return keys, total, overflow
}

// TestMetricKeysBoundedUnderChurn: 10,000 distinct keys go through a
// 16-key group in turn (each evicting an idle one); the metrics carry at
// most the bridge's metric key limit of key values plus _OTHER, which
// stands for the rest, and count every call; the SDK's cardinality limit
// is never reached; spans carry every real key.
func TestMetricKeysBoundedUnderChurn(t *testing.T) {
	const keys = 10000
	errIgnored := errors.New("not found")
	tests := []struct {
		name  string
		opts  []otelbridge.Option
		limit int
	}{
		{"default", nil, otelbridge.DefaultMetricKeyLimit},
		{"WithMetricKeyLimit(4)", []otelbridge.Option{otelbridge.WithMetricKeyLimit(4)}, 4},
		{"WithMetricKeyLimit(0)", []otelbridge.Option{otelbridge.WithMetricKeyLimit(0)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			g, err := breaker.NewGroup("hosts",
				breaker.WithHooks(newHooks(tel, tt.opts...)),
				breaker.WithTracker(tracker.Not(tracker.Is(errIgnored))),
				breaker.WithMaxKeys(16))
			require.NoError(t, err)
			defer g.Close()
			ctx := context.Background()
			for i := range keys {
				b, err := g.Get(fmt.Sprintf("k%05d.example", i))
				require.NoError(t, err)
				var fail error
				if i%7 == 0 {
					fail = errIgnored
				}
				require.ErrorIs(t, b.Do(ctx, func(context.Context) error { return fail }), fail)
			}
			require.LessOrEqual(t, g.Len(), 16)

			rm := tel.Collect(t)
			for _, metric := range []string{otelbridge.CallsMetric, otelbridge.CallDurationMetric} {
				got, total, overflow := metricKeys(t, rm, metric)
				assert.LessOrEqual(t, len(got), tt.limit+1, "%s: key values", metric)
				assert.True(t, got[breaker.OverflowKey], "%s: the keys past the limit are reported as %s", metric, breaker.OverflowKey)
				for i := range tt.limit {
					assert.True(t, got[fmt.Sprintf("k%05d.example", i)], "%s: the first %d keys keep their own series", metric, tt.limit)
				}
				assert.EqualValues(t, keys, total, "%s: every call is counted", metric)
				assert.False(t, overflow, "%s: the SDK's cardinality limit is never reached", metric)
			}

			spans := tel.Ended()
			require.Len(t, spans, keys)
			v, ok := testutil.SpanAttr(spans[keys-1], otelbridge.KeyKey)
			require.True(t, ok)
			assert.Equal(t, fmt.Sprintf("k%05d.example", keys-1), v.AsString(), "spans carry the real key")
		})
	}
}

// TestWithMetricKeyLimit: the first keys of a name keep their value on
// metrics, first come, first served, also when they come back; later keys
// are _OTHER, reported once per name through otel.Handle; the group's own
// overflow key does not use up the limit; each name has a limit of its
// own; spans carry the real keys.
func TestWithMetricKeyLimit(t *testing.T) {
	var handled []error
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(handlerFunc(func(err error) { handled = append(handled, err) }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithMetricKeyLimit(2))
	success := func(name, key string) {
		ctx := h.CallStart(context.Background(), sdk.CallStart{Name: name, Key: key, State: sdk.StateClosed})
		h.CallEnd(ctx, sdk.CallEnd{Name: name, Key: key, State: sdk.StateClosed, Outcome: sdk.OutcomeSuccess})
	}
	for _, k := range []string{breaker.OverflowKey, "a", "b", "c", "a", "d"} {
		success("hosts", k)
	}
	success("tenants", "t1")

	calls := testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric)
	closed := func(n, k string) string {
		return testutil.Key(name(n), otelbridge.KeyKey.String(k), state("closed"), outcome("success"))
	}
	assert.Equal(t, map[string]int64{
		closed("hosts", "a"):                 2,
		closed("hosts", "b"):                 1,
		closed("hosts", otelbridge.KeyOther): 3, // the group's overflow breaker, c and d
		closed("tenants", "t1"):              1,
	}, calls)
	require.Len(t, handled, 1, "the first key past the limit is reported, once")
	assert.Contains(t, handled[0].Error(), `breaker "hosts" has had more than 2 keys; reporting key "c"`)

	var keys []string
	for _, s := range tel.Ended() {
		v, _ := testutil.SpanAttr(s, otelbridge.KeyKey)
		keys = append(keys, v.AsString())
	}
	assert.Equal(t, []string{breaker.OverflowKey, "a", "b", "c", "a", "d", "t1"}, keys, "spans carry the real key")
}
