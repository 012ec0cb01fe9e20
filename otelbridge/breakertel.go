package otelbridge

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// telKey identifies a breaker to the bridge: its name and its key in its
// breaker.Group ("" for breaker.New).
type telKey struct{ name, key string }

// breakerTel is what the bridge keeps for one breaker identity (name and
// key): the span name, the span start options (built on first use), the
// rejected-span limiter and the series its metrics go to.
type breakerTel struct {
	telKey
	spanName string
	cfg      *config
	series   *series

	// start holds the span start options by would-reject and state.
	start [2][sdk.NumStates]atomic.Pointer[[]trace.SpanStartOption]

	// nextRejected is the earliest time, in Unix nanoseconds, at which a
	// rejected call may get a span again.
	nextRejected atomic.Int64

	// reported is set once a failure to derive an error.type or a span
	// status has been reported through otel.Handle.
	reported atomic.Bool

	// refs counts the registrations of this identity; guarded by
	// bridge.mu.
	refs int
}

func newBreakerTel(cfg *config, k telKey, s *series) *breakerTel {
	return &breakerTel{telKey: k, spanName: spanName(cfg, k.name), cfg: cfg, series: s}
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

// startOpts returns the span start options of a call admitted or rejected
// in state st (would: let through although the breaker would refuse it).
func (t *breakerTel) startOpts(st sdk.State, would bool) []trace.SpanStartOption {
	if !st.Valid() {
		return t.buildStart(stateKV(st), would)
	}
	slot := &t.start[wi(would)][st]
	if p := slot.Load(); p != nil {
		return *p
	}
	opts := t.buildStart(stateValues[st], would)
	slot.CompareAndSwap(nil, &opts)
	return *slot.Load()
}

func (t *breakerTel) buildStart(state attribute.KeyValue, would bool) []trace.SpanStartOption {
	attrs := make([]attribute.KeyValue, 0, len(t.cfg.spanAttrs)+4)
	attrs = append(attrs, t.cfg.spanAttrs...)
	attrs = append(attrs, NameKey.String(t.name))
	if t.key != "" {
		attrs = append(attrs, KeyKey.String(t.key))
	}
	attrs = append(attrs, state)
	if would {
		attrs = append(attrs, wouldRejectKV)
	}
	return []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...)}
}

// sampleRejected reports whether a rejected call gets a span.
func (t *breakerTel) sampleRejected() bool {
	every := t.cfg.rejectedEvery
	switch {
	case every == 0:
		return true
	case every < 0:
		return false
	}
	now := time.Now().UnixNano()
	next := t.nextRejected.Load()
	return now >= next && t.nextRejected.CompareAndSwap(next, now+int64(every))
}

// reportOnce reports err through otel.Handle, once per breaker identity.
func (t *breakerTel) reportOnce(err error) {
	if t.reported.CompareAndSwap(false, true) {
		otel.Handle(err)
	}
}
