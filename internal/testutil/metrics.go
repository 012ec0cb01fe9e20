package testutil

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// FindMetric returns the instrument called name and the scope that
// reported it.
func FindMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, instrumentation.Scope, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, sm.Scope, true
			}
		}
	}
	return metricdata.Metrics{}, instrumentation.Scope{}, false
}

// Key encodes an attribute set as "k1=v1,k2=v2" with the keys sorted: the
// keys of the maps that Int64Sums and HistogramCounts return.
func Key(attrs ...attribute.KeyValue) string {
	s := attribute.NewSet(attrs...)
	return s.Encoded(attribute.DefaultEncoder())
}

// Int64Sums returns the data points of the int64 sum (counter or up-down
// counter) called name, by their attribute set encoded with [Key]. It
// returns nil when there is no such metric.
func Int64Sums(rm metricdata.ResourceMetrics, name string) map[string]int64 {
	m, _, ok := FindMetric(rm, name)
	if !ok {
		return nil
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return nil
	}
	out := make(map[string]int64, len(sum.DataPoints))
	for _, dp := range sum.DataPoints {
		out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Value
	}
	return out
}

// HistogramCounts returns the number of measurements of each data point of
// the float64 histogram called name, by attribute set encoded with [Key].
func HistogramCounts(rm metricdata.ResourceMetrics, name string) map[string]uint64 {
	m, _, ok := FindMetric(rm, name)
	if !ok {
		return nil
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		return nil
	}
	out := make(map[string]uint64, len(h.DataPoints))
	for _, dp := range h.DataPoints {
		out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Count
	}
	return out
}

// HistogramPoint returns the data point of the float64 histogram called
// name whose attribute set is exactly attrs.
func HistogramPoint(rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) (metricdata.HistogramDataPoint[float64], bool) {
	m, _, ok := FindMetric(rm, name)
	if !ok {
		return metricdata.HistogramDataPoint[float64]{}, false
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		return metricdata.HistogramDataPoint[float64]{}, false
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp, true
		}
	}
	return metricdata.HistogramDataPoint[float64]{}, false
}

// Int64Value returns the value of the data point of the int64 sum called
// name whose attribute set is exactly attrs.
func Int64Value(rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) (int64, bool) {
	v, ok := Int64Sums(rm, name)[Key(attrs...)]
	return v, ok
}

// FindMetricPoints returns the number of data points of the metric called
// name, whatever its kind (0 when there is no such metric).
func FindMetricPoints(rm metricdata.ResourceMetrics, name string) int {
	m, _, ok := FindMetric(rm, name)
	if !ok {
		return 0
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	case metricdata.Gauge[float64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	case metricdata.Histogram[int64]:
		return len(d.DataPoints)
	}
	return 0
}

// Gauges returns the data points of the gauge called name, by attribute set
// encoded with [Key]. It returns nil when there is no such gauge of
// number type N.
func Gauges[N int64 | float64](rm metricdata.ResourceMetrics, name string) map[string]N {
	m, _, ok := FindMetric(rm, name)
	if !ok {
		return nil
	}
	g, ok := m.Data.(metricdata.Gauge[N])
	if !ok {
		return nil
	}
	out := make(map[string]N, len(g.DataPoints))
	for _, dp := range g.DataPoints {
		out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Value
	}
	return out
}
