package otelbridge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// Hooks returns the sdk hooks that turn what a breaker does into spans, span
// events and metrics. Give them to a breaker with breaker.WithHooks. One
// Hooks value may serve any number of breakers: their telemetry is kept
// apart by circuit_breaker.name. Breakers that share a name share their
// series (circuit_breaker.state then counts the breakers in each state).
//
// The tracer and the meter are created at once, from the providers of
// [WithTracerProvider] and [WithMeterProvider] or from the global ones.
func Hooks(opts ...Option) sdk.Hooks {
	b := newBridge(newConfig(opts))
	return sdk.Hooks{
		Register:    b.register,
		CallStart:   b.callStart,
		CallEnd:     b.callEnd,
		StateChange: b.stateChange,
	}
}

// bridge holds the instruments of one Hooks value and the telemetry of the
// breakers it serves.
type bridge struct {
	cfg         config
	tracer      trace.Tracer
	meter       metric.Meter
	calls       metric.Int64Counter
	duration    metric.Float64Histogram
	state       metric.Int64ObservableUpDownCounter
	transitions metric.Int64Counter

	// tels maps a breaker name to its precomputed telemetry. The map is
	// replaced, never changed, under mu, so that calls read it without a
	// lock.
	tels atomic.Pointer[map[string]*breakerTel]
	// regs lists the registered breakers that circuit_breaker.state
	// observes; replaced, never changed, under mu, so that the callback
	// takes no lock of ours.
	regs atomic.Pointer[[]*registration]

	// marks is set once callStart has marked a context with skipKey for a
	// reason other than the filter, so that callEnd looks for the mark.
	marks atomic.Bool

	// mu guards the replacement of tels and regs, breakerTel.refs and
	// callback.
	mu       sync.Mutex
	callback metric.Registration // of the state callback, while regs is not empty
}

// registration is one registered breaker.
type registration struct {
	tel   *breakerTel
	state func() sdk.State
}

// durationBuckets are the bucket boundaries advised for
// circuit_breaker.call.duration, in seconds (those of the HTTP semantic
// conventions).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func newBridge(cfg config) *bridge {
	b := &bridge{cfg: cfg}
	b.tracer = cfg.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(Version))
	b.meter = cfg.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	var err error
	b.calls, err = b.meter.Int64Counter(CallsMetric,
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls that reached a circuit breaker, by admission state, outcome and decision."))
	handle(err)
	b.duration, err = b.meter.Float64Histogram(CallDurationMetric,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the calls a circuit breaker executed."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	b.state, err = b.meter.Int64ObservableUpDownCounter(StateMetric,
		metric.WithUnit("{circuit_breaker}"),
		metric.WithDescription("Circuit breakers in each state: 1 for the state a breaker is in, 0 for the others."))
	handle(err)
	b.transitions, err = b.meter.Int64Counter(TransitionsMetric,
		metric.WithUnit("{transition}"),
		metric.WithDescription("State transitions of a circuit breaker."))
	handle(err)
	tels := map[string]*breakerTel{}
	b.tels.Store(&tels)
	regs := []*registration{}
	b.regs.Store(&regs)
	return b
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// tel returns the telemetry of the breaker name, creating it on first use.
func (b *bridge) tel(name string) *breakerTel {
	if t, ok := (*b.tels.Load())[name]; ok {
		return t
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.telLocked(name)
}

func (b *bridge) telLocked(name string) *breakerTel {
	old := *b.tels.Load()
	if t, ok := old[name]; ok {
		return t
	}
	t := newBreakerTel(&b.cfg, name)
	m := make(map[string]*breakerTel, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[name] = t
	b.tels.Store(&m)
	return t
}

// register precomputes a breaker's telemetry and adds it to the breakers
// that circuit_breaker.state reports. The returned func undoes that.
func (b *bridge) register(r sdk.Registration) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.telLocked(r.Name)
	t.refs++
	reg := &registration{tel: t, state: r.State}
	if reg.state != nil {
		old := *b.regs.Load()
		regs := append(old[:len(old):len(old)], reg)
		b.regs.Store(&regs)
		if b.callback == nil {
			cb, err := b.meter.RegisterCallback(b.observe, b.state)
			handle(err)
			b.callback = cb
		}
	}
	var once sync.Once
	return func() { once.Do(func() { b.unregister(reg) }) }
}

func (b *bridge) unregister(reg *registration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if reg.state != nil {
		old := *b.regs.Load()
		regs := make([]*registration, 0, len(old))
		for _, r := range old {
			if r != reg {
				regs = append(regs, r)
			}
		}
		b.regs.Store(&regs)
		if len(regs) == 0 && b.callback != nil {
			handle(b.callback.Unregister())
			b.callback = nil
		}
	}
	reg.tel.refs--
	if reg.tel.refs == 0 {
		old := *b.tels.Load()
		m := make(map[string]*breakerTel, len(old))
		for k, v := range old {
			if v != reg.tel {
				m[k] = v
			}
		}
		b.tels.Store(&m)
	}
}

// observe reports every state of every registered breaker: 1 for the
// state it is in, 0 for the others.
func (b *bridge) observe(_ context.Context, o metric.Observer) error {
	for _, r := range *b.regs.Load() {
		cur := r.state()
		for _, s := range sdk.States() {
			var v int64
			if s == cur {
				v = 1
			}
			o.ObserveInt64(b.state, v, r.tel.stateObs[s]...)
		}
	}
	return nil
}

// skipKey marks the context of a call that has no span of the bridge's:
// the filter skipped it, or starting it panicked. Its value is the span that
// was current then, so that CallEnd leaves that span alone.
type skipKey struct{}

func (b *bridge) callStart(ctx context.Context, info sdk.CallStart) (out context.Context) {
	defer func() {
		// A panicking span name formatter, filter or sampler: the call
		// goes on without a span, and CallEnd must not end the caller's.
		if r := recover(); r != nil {
			b.marks.Store(true)
			out = context.WithValue(ctx, skipKey{}, trace.SpanFromContext(ctx))
			otel.Handle(fmt.Errorf("otelbridge: starting the span of a call to breaker %q panicked: %v", info.Name, r))
		}
	}()
	if b.cfg.filter != nil && !b.cfg.filter(ctx, info.Name) {
		return context.WithValue(ctx, skipKey{}, trace.SpanFromContext(ctx))
	}
	t := b.tel(info.Name)
	ctx, _ = b.tracer.Start(ctx, t.spanName, t.startOpts(info.State)...)
	return ctx
}

func (b *bridge) callEnd(ctx context.Context, info sdk.CallEnd) {
	t := b.tel(info.Name)
	span := trace.SpanFromContext(ctx)
	if b.cfg.filter != nil || b.marks.Load() {
		if parent, ok := ctx.Value(skipKey{}).(trace.Span); ok && parent.SpanContext().Equal(span.SpanContext()) {
			span = nil
		}
	}
	recording := span != nil && span.IsRecording()

	failed := info.Outcome != sdk.OutcomeSuccess
	var et *errTypeTel
	if failed && (recording || b.calls.Enabled(ctx)) {
		v := ErrorTypeOther
		if info.Panicked {
			v = ErrorTypePanic
		} else if info.Err != nil {
			v = errorType(info.Err, b.cfg.errorType)
		}
		et = t.errType(v)
	}

	// Metrics first, while the span is current, so that no user func on
	// the span's path can lose them.
	switch {
	case !failed:
		b.calls.Add(ctx, 1, t.successOpts(info.State)...)
	case et != nil:
		b.calls.Add(ctx, 1, t.callsErr(et, info.State, info.Outcome, info.Decision)...)
	}
	if info.Outcome != sdk.OutcomeRejected {
		b.duration.Record(ctx, info.Duration.Seconds(), t.durationOpts(info.Outcome, info.Decision)...)
	}

	if recording {
		endSpan(span, info, et, b.cfg.spanStatus)
	} else if span != nil {
		span.End()
	}
}

// endSpan sets the end attributes and the status of a recording span and
// ends it.
func endSpan(span trace.Span, info sdk.CallEnd, et *errTypeTel, status func(sdk.CallEnd) (codes.Code, string)) {
	defer span.End() // even if status panics
	if info.Outcome == sdk.OutcomeSuccess && status == nil {
		span.SetAttributes(successEndAttrs...)
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, outcomeKV(info.Outcome))
	if info.Outcome == sdk.OutcomeError {
		if info.Decision != sdk.DecisionNone {
			attrs = append(attrs, decisionKV(info.Decision))
		}
		if info.Rule != "" {
			attrs = append(attrs, RuleKey.String(info.Rule))
		}
	}
	if et != nil {
		attrs = append(attrs, et.kv)
	}
	span.SetAttributes(attrs...)
	if status == nil {
		status = DefaultSpanStatus
	}
	if code, desc := status(info); code != codes.Unset {
		span.SetStatus(code, desc)
	}
}

// successEndAttrs are the end attributes of a successful call; the span
// copies them.
var successEndAttrs = []attribute.KeyValue{OutcomeKey.String(sdk.OutcomeSuccess.String())}

// DefaultSpanStatus is the bridge's default status rule, for use inside a
// [WithSpanStatus] function: codes.Unset for a success; codes.Error
// otherwise, described by the error's message, or by "panic: <value>" for a
// panic.
func DefaultSpanStatus(info sdk.CallEnd) (codes.Code, string) {
	switch {
	case info.Outcome == sdk.OutcomeSuccess:
		return codes.Unset, ""
	case info.Panicked:
		return codes.Error, fmt.Sprint("panic: ", info.PanicValue)
	case info.Err != nil:
		return codes.Error, info.Err.Error()
	}
	return codes.Error, info.Outcome.String()
}

func (b *bridge) stateChange(ctx context.Context, tr sdk.Transition) {
	t := b.tel(tr.Name)
	b.transitions.Add(ctx, 1, t.transitionOpts(tr.From, tr.To)...)
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	opts := []trace.EventOption{trace.WithAttributes(
		NameKey.String(tr.Name),
		prevStateKV(tr.From),
		stateKV(tr.To),
		reasonKV(tr.Reason),
		WindowCallsKey.Int(tr.Window.Calls),
		WindowFailuresKey.Int(tr.Window.Failures),
	)}
	if !tr.At.IsZero() {
		opts = append(opts, trace.WithTimestamp(tr.At))
	}
	span.AddEvent(StateChangeEvent, opts...)
}
