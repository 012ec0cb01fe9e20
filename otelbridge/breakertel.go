package otelbridge

import (
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// breakerTel is what the bridge precomputes for one breaker name: span
// start options and the metric attribute sets, wrapped in the option slices
// that the instruments take, so that no call builds any of them.
type breakerTel struct {
	name     string
	spanName string
	cfg      *config

	start       [sdk.NumStates][]trace.SpanStartOption
	callsOK     [sdk.NumStates][]metric.AddOption
	duration    [numOutcomes][numDecisions][]metric.RecordOption
	stateObs    [sdk.NumStates][]metric.ObserveOption
	transitions [sdk.NumStates][sdk.NumStates][]metric.AddOption

	// errTypes maps an error.type value to its precomputed sets. It is
	// replaced, never changed, under errMu.
	errTypes atomic.Pointer[map[string]*errTypeTel]
	other    *errTypeTel

	// errMu guards errCount, overflowed and the replacement of errTypes.
	errMu      sync.Mutex
	errCount   int  // distinct values that count against the limit
	overflowed bool // the overflow has been reported

	// refs counts the registrations of this name; guarded by bridge.mu.
	refs int
}

// errTypeTel holds the circuit_breaker.calls attribute sets that carry one
// error.type value, built on first use: [state][error, rejected][decision].
type errTypeTel struct {
	kv    attribute.KeyValue
	calls [sdk.NumStates][2][numDecisions]atomic.Pointer[[]metric.AddOption]
}

// maxErrTypeKeys bounds the keys of errTypes, including those that map to
// _OTHER after the limit.
func (t *breakerTel) maxErrTypeKeys() int { return 4*t.cfg.errorTypeLimit + 64 }

func newBreakerTel(cfg *config, name string) *breakerTel {
	t := &breakerTel{name: name, spanName: spanName(cfg, name), cfg: cfg}
	nameKV := NameKey.String(name)
	for _, s := range sdk.States() {
		attrs := make([]attribute.KeyValue, 0, len(cfg.spanAttrs)+2)
		attrs = append(attrs, cfg.spanAttrs...)
		attrs = append(attrs, nameKV, stateValues[s])
		t.start[s] = []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(attrs...),
		}
		t.callsOK[s] = addOpts(t.set(stateValues[s], outcomeValues[sdk.OutcomeSuccess]))
		t.stateObs[s] = []metric.ObserveOption{metric.WithAttributeSet(t.set(stateValues[s]))}
		for _, to := range sdk.States() {
			t.transitions[s][to] = addOpts(t.set(prevStateValues[s], stateValues[to]))
		}
	}
	for o := range numOutcomes {
		for d := range numDecisions {
			set := t.set(outcomeValues[o])
			if sdk.Decision(d) != sdk.DecisionNone {
				set = t.set(outcomeValues[o], decisionValues[d])
			}
			t.duration[o][d] = []metric.RecordOption{metric.WithAttributeSet(set)}
		}
	}
	t.other = &errTypeTel{kv: ErrorTypeKey.String(ErrorTypeOther)}
	m := map[string]*errTypeTel{ErrorTypeOther: t.other}
	t.errTypes.Store(&m)
	return t
}

// spanName returns the span name of the breaker name, or the default name
// if the formatter panics.
func spanName(cfg *config, name string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = defaultSpanName(name)
			otel.Handle(fmt.Errorf("otelbridge: the span name formatter panicked for breaker %q: %v", name, r))
		}
	}()
	return cfg.spanName(name)
}

// set returns the attribute set of the user's metric attributes, the name
// and kvs (the bridge's attributes win over the user's).
func (t *breakerTel) set(kvs ...attribute.KeyValue) attribute.Set {
	all := make([]attribute.KeyValue, 0, len(t.cfg.metricAttrs)+1+len(kvs))
	all = append(all, t.cfg.metricAttrs...)
	all = append(all, NameKey.String(t.name))
	all = append(all, kvs...)
	return attribute.NewSet(all...)
}

func addOpts(set attribute.Set) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(set)}
}

// errType returns the precomputed sets of the error.type value v, or those
// of _OTHER once the breaker has seen its limit of distinct values.
func (t *breakerTel) errType(v string) *errTypeTel {
	if e, ok := (*t.errTypes.Load())[v]; ok {
		return e
	}
	t.errMu.Lock()
	defer t.errMu.Unlock()
	old := *t.errTypes.Load()
	if e, ok := old[v]; ok {
		return e
	}
	var e *errTypeTel
	switch {
	case builtinErrorTypes[v]:
		e = &errTypeTel{kv: ErrorTypeKey.String(v)}
	case t.errCount < t.cfg.errorTypeLimit:
		t.errCount++
		e = &errTypeTel{kv: ErrorTypeKey.String(v)}
	default:
		e = t.other
		if !t.overflowed {
			t.overflowed = true
			otel.Handle(fmt.Errorf("otelbridge: breaker %q has more than %d distinct error.type values; reporting %q (and any further new value) as %q",
				t.name, t.cfg.errorTypeLimit, v, ErrorTypeOther))
		}
		if len(old) >= t.maxErrTypeKeys() {
			return e
		}
	}
	m := make(map[string]*errTypeTel, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[v] = e
	t.errTypes.Store(&m)
	return e
}

// callsErr returns the circuit_breaker.calls options of an error or a
// rejection with the error.type of e, building them on first use.
func (t *breakerTel) callsErr(e *errTypeTel, s sdk.State, o sdk.Outcome, d sdk.Decision) []metric.AddOption {
	oi := 0
	if o == sdk.OutcomeRejected {
		oi = 1
	}
	if !s.Valid() || int(d) >= numDecisions {
		return addOpts(t.errSet(e, s, o, d))
	}
	slot := &e.calls[s][oi][d]
	if p := slot.Load(); p != nil {
		return *p
	}
	opts := addOpts(t.errSet(e, s, o, d))
	slot.CompareAndSwap(nil, &opts)
	return *slot.Load()
}

func (t *breakerTel) errSet(e *errTypeTel, s sdk.State, o sdk.Outcome, d sdk.Decision) attribute.Set {
	if o == sdk.OutcomeRejected || d == sdk.DecisionNone {
		return t.set(stateKV(s), outcomeKV(o), e.kv)
	}
	return t.set(stateKV(s), outcomeKV(o), decisionKV(d), e.kv)
}

// Slow paths for values outside the sdk's enumerations, which a breaker
// never reports; they keep the bridge from panicking on them.

func (t *breakerTel) startOpts(s sdk.State) []trace.SpanStartOption {
	if s.Valid() {
		return t.start[s]
	}
	attrs := append(append([]attribute.KeyValue{}, t.cfg.spanAttrs...), NameKey.String(t.name), stateKV(s))
	return []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...)}
}

func (t *breakerTel) successOpts(s sdk.State) []metric.AddOption {
	if s.Valid() {
		return t.callsOK[s]
	}
	return addOpts(t.set(stateKV(s), outcomeValues[sdk.OutcomeSuccess]))
}

func (t *breakerTel) durationOpts(o sdk.Outcome, d sdk.Decision) []metric.RecordOption {
	if int(o) < numOutcomes && int(d) < numDecisions {
		return t.duration[o][d]
	}
	return []metric.RecordOption{metric.WithAttributeSet(t.set(outcomeKV(o), decisionKV(d)))}
}

func (t *breakerTel) transitionOpts(from, to sdk.State) []metric.AddOption {
	if from.Valid() && to.Valid() {
		return t.transitions[from][to]
	}
	return addOpts(t.set(prevStateKV(from), stateKV(to)))
}
