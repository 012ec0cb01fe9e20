package otelbridge_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

// BenchmarkHooks compares a call through the bridge's hooks with what it
// must cost at least: with the global no-op providers, one no-op span; with
// the SDK, one sampled span plus one counter add with a precomputed set.
func BenchmarkHooks(b *testing.B) {
	ctx := context.Background()
	b.Run("noop/bare-span", func(b *testing.B) {
		tracer := otel.GetTracerProvider().Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			bareSpan(ctx, tracer)
		}
	})
	b.Run("noop/bridge", func(b *testing.B) {
		h := otelbridge.Hooks()
		b.ReportAllocs()
		for b.Loop() {
			paths["success"](ctx, h)
		}
	})
	b.Run("noop/bridge-error", func(b *testing.B) {
		h := otelbridge.Hooks()
		b.ReportAllocs()
		for b.Loop() {
			paths["counted error"](ctx, h)
		}
	})

	sdkProviders := func(b *testing.B) (*sdktrace.TracerProvider, *sdkmetric.MeterProvider) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) })
		return tp, mp
	}
	b.Run("sdk/bare-span+counter", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		tracer := tp.Tracer("bench")
		counter, _ := mp.Meter("bench").Int64Counter("calls")
		opts := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("k", "v")))}
		b.ReportAllocs()
		for b.Loop() {
			ctx, span := tracer.Start(ctx, "circuit_breaker a")
			counter.Add(ctx, 1, opts...)
			span.End()
		}
	})
	b.Run("sdk/same-telemetry-by-hand", func(b *testing.B) {
		// What the bridge records for a success, written by hand with
		// everything precomputed: the bridge's own cost is the difference.
		tp, mp := sdkProviders(b)
		tracer := tp.Tracer("bench")
		meter := mp.Meter("bench")
		counter, _ := meter.Int64Counter("calls")
		hist, _ := meter.Float64Histogram("duration")
		startOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
			attribute.String("circuit_breaker.name", "a"), attribute.String("circuit_breaker.state", "closed"))}
		endAttrs := []attribute.KeyValue{attribute.String("circuit_breaker.outcome", "success")}
		addOpts := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("k", "v")))}
		recOpts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("k", "v")))}
		b.ReportAllocs()
		for b.Loop() {
			ctx, span := tracer.Start(ctx, "circuit_breaker a", startOpts...)
			span.SetAttributes(endAttrs...)
			span.End()
			counter.Add(ctx, 1, addOpts...)
			hist.Record(ctx, 0, recOpts...)
		}
	})
	b.Run("sdk/bridge", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		h := otelbridge.Hooks(otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))
		b.Cleanup(h.Register(sdk.Registration{Name: "a", State: func() sdk.State { return sdk.StateClosed }}))
		b.ReportAllocs()
		for b.Loop() {
			paths["success"](ctx, h)
		}
	})
	b.Run("sdk/bridge-keys-parallel", func(b *testing.B) {
		// Calls of 1,000 keys of one group from every goroutine: the
		// look-up of a key's telemetry takes no lock.
		tp, mp := sdkProviders(b)
		h := otelbridge.Hooks(otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = strconv.Itoa(i)
			b.Cleanup(h.Register(sdk.Registration{Name: "hosts", Key: keys[i], State: func() sdk.State { return sdk.StateClosed }}))
			keyedCall(h, keys[i], sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				keyedCall(h, keys[i%len(keys)], sdk.StateClosed, sdk.CallEnd{Outcome: sdk.OutcomeSuccess})
				i += 7
			}
		})
	})
	b.Run("sdk/bridge-parallel", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		h := otelbridge.Hooks(otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				paths["success"](ctx, h)
			}
		})
	})
}

// BenchmarkRegisterKeys registers b.N breakers of one group (distinct
// keys) with one Hooks value, as a breaker.Group building keys does, and
// reports the live heap the bridge keeps per key: registration cost must
// not grow with the number of keys.
func BenchmarkRegisterKeys(b *testing.B) {
	for _, on := range []bool{true, false} {
		b.Run(fmt.Sprintf("key-on-metrics=%v", on), func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			h := otelbridge.Hooks(otelbridge.WithMeterProvider(mp), otelbridge.WithKeyOnMetrics(on))
			keys := make([]string, b.N)
			for i := range keys {
				keys[i] = strconv.Itoa(i)
			}
			unregs := make([]func(), 0, b.N)
			state := func() sdk.State { return sdk.StateClosed }
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				unregs = append(unregs, h.Register(sdk.Registration{Name: "hosts", Key: keys[i], State: state}))
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/key")
			for _, un := range unregs {
				un()
			}
		})
	}
}
