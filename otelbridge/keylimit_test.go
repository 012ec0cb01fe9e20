package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
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
