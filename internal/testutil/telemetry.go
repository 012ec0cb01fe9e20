package testutil

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Telemetry is a tracer provider that records every span (always sampled)
// and a meter provider read on demand, both from the real OpenTelemetry SDK.
type Telemetry struct {
	// Spans records the spans of TracerProvider.
	Spans *tracetest.SpanRecorder
	// TracerProvider samples every span.
	TracerProvider *sdktrace.TracerProvider
	// Reader is TracerProvider's metric reader, with cumulative
	// temporality.
	Reader *sdkmetric.ManualReader
	// MeterProvider reports to Reader.
	MeterProvider *sdkmetric.MeterProvider
}

// NewTelemetry returns a new Telemetry whose providers are shut down when the
// test ends.
func NewTelemetry(tb testing.TB) *Telemetry {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(rec),
	)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tb.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return &Telemetry{Spans: rec, TracerProvider: tp, Reader: reader, MeterProvider: mp}
}

// Ended returns the spans that have ended, in the order they ended.
func (t *Telemetry) Ended() []sdktrace.ReadOnlySpan { return t.Spans.Ended() }

// Collect reads the metrics, failing the test on an error.
func (t *Telemetry) Collect(tb testing.TB) metricdata.ResourceMetrics {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := t.Reader.Collect(context.Background(), &rm); err != nil {
		tb.Fatalf("collect metrics: %v", err)
	}
	return rm
}
