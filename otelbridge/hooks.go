package otelbridge

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/fluxgate/fluxgate/sdk"
)

// Hooks returns the sdk hooks that turn what a breaker does into spans, span
// events and metrics. Give them to a breaker with breaker.WithHooks. One
// Hooks value may serve any number of breakers: their telemetry is kept
// apart by circuit_breaker.name and circuit_breaker.key. Breakers that share
// a name and key share their series (circuit_breaker.state then counts the
// breakers in each state). A breaker may have several Hooks values (two
// providers, say) and other hooks of its own: each bridge ends only its own
// spans.
//
// The tracer and the meter are created at once, from the providers of
// [WithTracerProvider] and [WithMeterProvider] or from the global ones as
// they are now. If the program has not installed a global provider yet, the
// global one that Hooks gets forwards to the first provider installed later
// with otel.SetTracerProvider or otel.SetMeterProvider, so a package-level
// breaker built before main sets up OpenTelemetry reports to it. A provider
// installed after that first one does not reach these hooks; nor does a
// provider installed after Hooks when one had been installed before. Call
// Hooks after setting up OpenTelemetry, or pass the providers explicitly.
//
// The bridge keeps what it knows of a breaker only as long as the func that
// the Register hook returned is reachable: a breaker holds that func until
// its Close, so a breaker dropped without Close is garbage-collected all the
// same, and its series stop being reported.
func Hooks(opts ...Option) sdk.Hooks {
	b := newBridge(newConfig(opts))
	return sdk.Hooks{
		Register:     b.register,
		CallStart:    b.callStart,
		CallEnd:      b.callEnd,
		StateChange:  b.stateChange,
		TripCapped:   b.tripCapped,
		Reconfigured: b.reconfigured,
	}
}

// bridge holds the instruments of one Hooks value and the telemetry of the
// breakers it serves.
type bridge struct {
	cfg    config
	tracer trace.Tracer
	// noSpans is set when the tracer is the no-op one, which records
	// nothing and adds nothing to a context; unsetGlobal holds the global
	// provider of OpenTelemetry's own when Hooks was called before any was
	// installed: while it is still the global provider, the tracer is a
	// no-op too. Calls then skip the tracer.
	noSpans     bool
	unsetGlobal trace.TracerProvider
	meter       metric.Meter
	calls       metric.Int64Counter
	duration    metric.Float64Histogram
	transitions metric.Int64Counter
	capped      metric.Int64Counter
	reconfigs   metric.Int64Counter
	// The observable instruments, reported by observe.
	state         metric.Int64ObservableUpDownCounter
	windowCalls   metric.Int64ObservableGauge
	failureRate   metric.Float64ObservableGauge
	slowRate      metric.Float64ObservableGauge
	failureStreak metric.Int64ObservableGauge

	// tels maps a breaker identity (telKey) to its *breakerTel. Calls read
	// it without a lock; it is written under mu.
	tels sync.Map

	// regsMu guards regs, the registered breakers that the observable
	// instruments report. It is a leaf lock: nothing is called while it is
	// held, so the observe callback may take it.
	regsMu sync.Mutex
	regs   []*regEntry

	// mu guards series, metricKeys, unreferenced, nregs, the refs counts
	// and callback.
	mu           sync.Mutex
	series       map[telKey]*series
	metricKeys   map[string]*metricKeys // by breaker name
	unreferenced int                    // entries of tels without a registration
	nregs        int                    // len(regs), for the callback's registration
	callback     metric.Registration    // of the observe callback, while regs is not empty
}

// durationBuckets are the bucket boundaries advised for
// circuit_breaker.call.duration, in seconds (those of the HTTP semantic
// conventions).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func newBridge(cfg config) *bridge {
	b := &bridge{cfg: cfg, series: map[telKey]*series{}, metricKeys: map[string]*metricKeys{}}
	b.tracer = cfg.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(Version))
	switch tp := cfg.tracerProvider.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider:
		b.noSpans = true
	default:
		if isUnsetGlobal(tp) {
			b.unsetGlobal = tp
		}
	}
	b.meter = cfg.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	var err error
	b.calls, err = b.meter.Int64Counter(CallsMetric,
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls that reached a circuit breaker, by admission state, outcome and decision."))
	handle(err)
	b.duration, err = b.meter.Float64Histogram(CallDurationMetric,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the calls a circuit breaker executed, by admission state, outcome and decision."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	b.transitions, err = b.meter.Int64Counter(TransitionsMetric,
		metric.WithUnit("{transition}"),
		metric.WithDescription("State transitions of a circuit breaker."))
	handle(err)
	b.capped, err = b.meter.Int64Counter(TripsCappedMetric,
		metric.WithUnit("{trip}"),
		metric.WithDescription("Trips of a circuit breaker group's keys that its cap on open keys refused: the key stayed closed."))
	handle(err)
	b.reconfigs, err = b.meter.Int64Counter(ReconfigurationsMetric,
		metric.WithUnit("{reconfiguration}"),
		metric.WithDescription("Changes of a circuit breaker's settings at run time."))
	handle(err)
	b.state, err = b.meter.Int64ObservableUpDownCounter(StateMetric,
		metric.WithUnit("{circuit_breaker}"),
		metric.WithDescription("Circuit breakers in each state: 1 for the state a breaker is in, 0 for the others."))
	handle(err)
	b.windowCalls, err = b.meter.Int64ObservableGauge(WindowCallsMetric,
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls recorded in a circuit breaker's window."))
	handle(err)
	b.failureRate, err = b.meter.Float64ObservableGauge(WindowFailureRateMetric,
		metric.WithUnit("1"),
		metric.WithDescription("Share of the calls in a circuit breaker's window whose error counted; absent while the window is empty."))
	handle(err)
	b.slowRate, err = b.meter.Float64ObservableGauge(WindowSlowRateMetric,
		metric.WithUnit("1"),
		metric.WithDescription("Share of the calls in a circuit breaker's window that took at least the slow-call threshold; absent while the window is empty."))
	handle(err)
	b.failureStreak, err = b.meter.Int64ObservableGauge(FailureStreakMetric,
		metric.WithUnit("{call}"),
		metric.WithDescription("Consecutive counted failures of a circuit breaker."))
	handle(err)
	return b
}

// globalPkg is the package of the provider that otel.GetTracerProvider
// returns until a program installs one: it forwards to the first one
// installed, and until then makes non-recording spans that carry the
// caller's span context, as the no-op tracer does.
const globalPkg = "go.opentelemetry.io/otel/internal/global"

func isUnsetGlobal(tp trace.TracerProvider) bool {
	t := reflect.TypeOf(tp)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().PkgPath() == globalPkg && tp == otel.GetTracerProvider()
}

// tracing reports whether the tracer may record: false for the no-op
// tracer, and for the global one while no provider has been installed.
func (b *bridge) tracing() bool {
	return !b.noSpans && (b.unsetGlobal == nil || otel.GetTracerProvider() != b.unsetGlobal)
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

func (b *bridge) callStart(ctx context.Context, info sdk.CallStart) (out context.Context) {
	defer func() {
		// A panicking filter or sampler: the call goes on without a span.
		if r := recover(); r != nil {
			out = b.noSpan(ctx)
			otel.Handle(fmt.Errorf("otelbridge: starting the span of a call to breaker %q panicked: %v", info.Name, r))
		}
	}()
	if !b.tracing() {
		// No span can record, and none of ours is in ctx (none ever was).
		return ctx
	}
	if b.cfg.filter != nil && !b.cfg.filter(ctx, info.Name) {
		return b.noSpan(ctx)
	}
	t := b.tel(info.Name, info.Key)
	if info.Rejected && !t.sampleRejected() {
		return b.noSpan(ctx)
	}
	sctx, span := b.tracer.Start(ctx, t.spanName, t.startOpts(info.State, info.WouldReject)...)
	if !span.IsRecording() {
		// Nothing to end. A span that only carries the caller's span
		// context (the no-op tracers) adds nothing to ctx either.
		if span.SpanContext().Equal(trace.SpanContextFromContext(ctx)) {
			sctx = ctx
		}
		return b.noSpan(sctx)
	}
	return &callCtx{Context: sctx, b: b, span: span, tel: t}
}

func (b *bridge) callEnd(ctx context.Context, info sdk.CallEnd) {
	var c *callCtx
	if b.tracing() {
		c = b.own(ctx)
	}
	var span trace.Span
	var t *breakerTel
	mctx := ctx // the context of the measurements: the span's, for exemplars
	if c != nil {
		span, t, mctx = c.span, c.tel, c
	}
	countCalls := b.calls.Enabled(mctx)
	recordDuration := info.Outcome != sdk.OutcomeRejected && b.duration.Enabled(mctx)
	if span == nil && !countCalls && !recordDuration {
		return // nothing records: no lookup, no error.type
	}
	if t == nil {
		t = b.tel(info.Name, info.Key)
	}
	s := t.series

	var et *errTypeTel
	if info.Outcome != sdk.OutcomeSuccess {
		et = s.errType(b.errorTypeOf(t, info))
	}
	// Metrics first, so that nothing on the span's path can lose them.
	if countCalls {
		if et == nil {
			b.calls.Add(mctx, 1, s.successOpts(info.State, info.WouldReject)...)
		} else {
			b.calls.Add(mctx, 1, s.callsErr(et, info.State, info.Outcome, info.Decision, info.WouldReject)...)
		}
	}
	if recordDuration {
		b.duration.Record(mctx, info.Duration.Seconds(), s.durationOpts(info.State, info.Outcome, info.Decision, info.WouldReject)...)
	}
	if span != nil {
		b.endSpan(t, span, info, et)
	}
}

// errorTypeOf derives the error.type of a failed call. Whatever fails while
// deriving it (a panicking WithErrorType func, an ErrorType method of a
// typed nil) gives _OTHER, reported through otel.Handle.
func (b *bridge) errorTypeOf(t *breakerTel, info sdk.CallEnd) (v string) {
	switch {
	case info.Panicked:
		return ErrorTypePanic
	case info.Err == nil:
		return ErrorTypeOther
	}
	defer func() {
		if r := recover(); r != nil {
			v = ErrorTypeOther
			t.reportOnce(fmt.Errorf("otelbridge: deriving the error.type of a call to breaker %q panicked (reporting %q; reported once per breaker): %v",
				info.Name, ErrorTypeOther, r))
		}
	}()
	return errorType(info.Err, b.cfg.errorType)
}

func (b *bridge) stateChange(ctx context.Context, tr sdk.Transition) {
	t := b.tel(tr.Name, tr.Key)
	b.transitions.Add(ctx, 1, t.series.transitionOpts(tr.From, tr.To)...)
	// The event goes to the span of the call that caused the transition;
	// a manual transition's, or one of a call without a span of ours, to
	// the span in the context, if any.
	var span trace.Span
	if c := b.own(ctx); c != nil && c.span != nil && tr.Reason != sdk.ReasonManual {
		span = c.span
	} else {
		span = trace.SpanFromContext(ctx)
	}
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs, NameKey.String(tr.Name))
	if tr.Key != "" {
		attrs = append(attrs, KeyKey.String(tr.Key))
	}
	attrs = append(attrs,
		prevStateKV(tr.From),
		stateKV(tr.To),
		reasonKV(tr.Reason),
		WindowCallsKey.Int(tr.Window.Calls),
		WindowFailuresKey.Int(tr.Window.Failures),
	)
	opts := []trace.EventOption{trace.WithAttributes(attrs...)}
	if !tr.At.IsZero() {
		opts = append(opts, trace.WithTimestamp(tr.At))
	}
	span.AddEvent(StateChangeEvent, opts...)
}
