package benchmarks

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Rows of the telemetry benchmarks.
const (
	rowOTelBaseline = "otel-baseline"
	rowOTelFloor    = "otel-design-floor"
	rowOursOTel     = "fluxgate+otelbridge"
	rowNoHooks      = "fluxgate-no-hooks"
	rowOTelNoop     = "otel-noop-baseline"
	rowOursNoop     = "fluxgate+otelbridge-noop"
	rowEmptyHooks   = "fluxgate-empty-hooks"
	rowOursEvery    = "fluxgate+otelbridge-every-span"
)

// dropProcessor is a span processor that receives every ended span (so the
// SDK builds its read-only snapshot, as it does for any exporter) and drops
// it.
type dropProcessor struct{}

func (dropProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropProcessor) Shutdown(context.Context) error                  { return nil }
func (dropProcessor) ForceFlush(context.Context) error                { return nil }

// sdkProviders returns the real OpenTelemetry SDK: every span sampled and
// handed to dropProcessor; metrics aggregated for a manual reader (which
// is never read here).
func sdkProviders(b *testing.B) (*sdktrace.TracerProvider, *sdkmetric.MeterProvider) {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(dropProcessor{}),
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return tp, mp
}

// bareCall is the irreducible telemetry of one protected call: one span
// with the same name, kind and start attributes as the bridge's, and one
// counter add with a precomputed attribute set.
type bareCall struct {
	tracer    trace.Tracer
	counter   metric.Int64Counter
	startOpts []trace.SpanStartOption
	addOpts   []metric.AddOption
}

func newBareCall(tp trace.TracerProvider, mp metric.MeterProvider) bareCall {
	name := otelbridge.NameKey.String("bench")
	state := otelbridge.StateKey.String("closed")
	return bareCall{
		tracer:  tp.Tracer("baseline"),
		counter: must(mp.Meter("baseline").Int64Counter(otelbridge.CallsMetric)),
		startOpts: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(name, state),
		},
		addOpts: []metric.AddOption{metric.WithAttributeSet(
			attribute.NewSet(name, state, otelbridge.OutcomeKey.String("success")))},
	}
}

func (c bareCall) run(ctx context.Context) (int, error) {
	cctx, span := c.tracer.Start(ctx, "circuit_breaker bench", c.startOpts...)
	v, err := okCtx(cctx)
	span.End()
	c.counter.Add(cctx, 1, c.addOpts...)
	return v, err
}

// designFloor is what the design asks of the SDK for one successful call,
// made directly: bareCall plus the outcome attribute set on the span at its
// end, the duration measured and recorded in a histogram with a
// precomputed set.
type designFloor struct {
	bareCall
	histogram  metric.Float64Histogram
	recordOpts []metric.RecordOption
	outcome    attribute.KeyValue
}

func newDesignFloor(tp trace.TracerProvider, mp metric.MeterProvider) designFloor {
	c := newBareCall(tp, mp)
	return designFloor{
		bareCall:  c,
		histogram: must(mp.Meter("baseline").Float64Histogram(otelbridge.CallDurationMetric)),
		recordOpts: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(
			otelbridge.NameKey.String("bench"), otelbridge.OutcomeKey.String("success")))},
		outcome: otelbridge.OutcomeKey.String("success"),
	}
}

func (c designFloor) run(ctx context.Context) (int, error) {
	cctx, span := c.tracer.Start(ctx, "circuit_breaker bench", c.startOpts...)
	start := time.Now()
	v, err := okCtx(cctx)
	d := time.Since(start)
	span.SetAttributes(c.outcome)
	span.End()
	c.counter.Add(cctx, 1, c.addOpts...)
	c.histogram.Record(cctx, d.Seconds(), c.recordOpts...)
	return v, err
}

func benchBare(b *testing.B, c interface {
	run(context.Context) (int, error)
}) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, _ := c.run(ctx)
		sink += v
	}
}

func benchOurs(b *testing.B, opts ...breaker.Option) {
	cb := must(breaker.New("bench", opts...))
	b.Cleanup(cb.Close)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := breaker.Execute(ctx, cb, okCtx)
		if err != nil {
			b.Fatal(err)
		}
		sink += v
	}
}

// BenchmarkTelemetry: a successful call with the real OpenTelemetry SDK.
// otel-baseline is one bare sampled span plus one counter add with a
// precomputed set, no breaker; otel-design-floor adds what the design asks
// for on top (the outcome attribute at the span's end, the duration in a
// histogram), still without a breaker; fluxgate+otelbridge is breaker.Execute with
// otelbridge.Hooks on the same providers (span with start and end
// attributes, calls counter, duration histogram).
func BenchmarkTelemetry(b *testing.B) {
	b.Run(rowOTelBaseline, func(b *testing.B) {
		tp, mp := sdkProviders(b)
		benchBare(b, newBareCall(tp, mp))
	})
	b.Run(rowOTelFloor, func(b *testing.B) {
		tp, mp := sdkProviders(b)
		benchBare(b, newDesignFloor(tp, mp))
	})
	b.Run(rowOursOTel, func(b *testing.B) {
		tp, mp := sdkProviders(b)
		benchOurs(b, breaker.WithHooks(otelbridge.Hooks(
			otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))))
	})
}

// emptyHooks are hooks that do nothing: a breaker with them pays what any
// CallStart/CallEnd hook costs it (the hook calls, timing the call), so
// fluxgate+otelbridge-noop minus fluxgate-empty-hooks is the bridge's own
// cost.
var emptyHooks = sdk.Hooks{
	CallStart: func(ctx context.Context, _ sdk.CallStart) context.Context { return ctx },
	CallEnd:   func(context.Context, sdk.CallEnd) {},
}

// BenchmarkTelemetryNoop: OpenTelemetry not configured. fluxgate-no-hooks
// is a breaker without hooks; otel-noop-baseline is the bare span and
// counter add on the global (no-op) providers; fluxgate-empty-hooks is a
// breaker with hooks that do nothing; fluxgate+otelbridge-noop is a breaker
// with otelbridge.Hooks() on the global providers.
func BenchmarkTelemetryNoop(b *testing.B) {
	b.Run(rowNoHooks, func(b *testing.B) { benchOurs(b) })
	b.Run(rowOTelNoop, func(b *testing.B) {
		benchBare(b, newBareCall(otel.GetTracerProvider(), otel.GetMeterProvider()))
	})
	b.Run(rowEmptyHooks, func(b *testing.B) { benchOurs(b, breaker.WithHooks(emptyHooks)) })
	b.Run(rowOursNoop, func(b *testing.B) {
		benchOurs(b, breaker.WithHooks(otelbridge.Hooks()))
	})
}

// benchRejected measures a rejected call of a forced-open breaker.
func benchRejected(b *testing.B, opts ...breaker.Option) {
	cb := must(breaker.New("bench", opts...))
	b.Cleanup(cb.Close)
	ctx := context.Background()
	cb.ForceOpen(ctx)
	b.ReportAllocs()
	for b.Loop() {
		_, err := breaker.Execute(ctx, cb, okCtx)
		if !errors.Is(err, breaker.ErrNotPermitted) {
			b.Fatal(err)
		}
	}
}

// BenchmarkTelemetryRejected: a rejected call with the real OpenTelemetry
// SDK. fluxgate-no-hooks is the rejection alone; fluxgate+otelbridge counts
// it and, by default, gives at most one rejected call a second a span
// (none within the benchmark's run, but the first); fluxgate+otelbridge-every-span
// gives every rejected call a span (WithRejectedSpanInterval(0)).
func BenchmarkTelemetryRejected(b *testing.B) {
	b.Run(rowNoHooks, func(b *testing.B) { benchRejected(b) })
	b.Run(rowOursOTel, func(b *testing.B) {
		tp, mp := sdkProviders(b)
		benchRejected(b, breaker.WithHooks(otelbridge.Hooks(
			otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp))))
	})
	b.Run(rowOursEvery, func(b *testing.B) {
		tp, mp := sdkProviders(b)
		benchRejected(b, breaker.WithHooks(otelbridge.Hooks(
			otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp), otelbridge.WithRejectedSpanInterval(0))))
	})
}
