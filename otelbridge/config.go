package otelbridge

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/sdk"
)

// DefaultErrorTypeLimit is the number of distinct error.type values a
// breaker reports before further ones become [ErrorTypeOther].
const DefaultErrorTypeLimit = 16

// config holds what the options set; newConfig fills in the defaults.
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	spanName       func(breakerName string) string
	spanAttrs      []attribute.KeyValue
	metricAttrs    []attribute.KeyValue
	spanStatus     func(sdk.CallEnd) (codes.Code, string)
	filter         func(ctx context.Context, breakerName string) bool
	errorType      func(error) string
	errorTypeLimit int
	keyOnMetrics   bool
	metricKeyLimit int
	// rejectedEvery is the least time between two rejected-call spans of
	// one breaker; 0: every rejected call; noRejectedSpans: none.
	rejectedEvery time.Duration
}

// noRejectedSpans is config.rejectedEvery for WithoutRejectedSpans.
const noRejectedSpans time.Duration = -1

// DefaultRejectedSpanInterval is the least time between two spans of
// rejected calls of one breaker, unless [WithRejectedSpanInterval] or
// [WithoutRejectedSpans] says otherwise.
const DefaultRejectedSpanInterval = time.Second

func newConfig(opts []Option) config {
	c := config{
		errorTypeLimit: DefaultErrorTypeLimit,
		keyOnMetrics:   true,
		metricKeyLimit: DefaultMetricKeyLimit,
		rejectedEvery:  DefaultRejectedSpanInterval,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.spanName == nil {
		c.spanName = defaultSpanName
	}
	return c
}

func defaultSpanName(breakerName string) string { return "circuit_breaker " + breakerName }

// Option configures [Hooks]. The options are the With… functions of this
// package.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the provider of the tracer that starts the call
// spans. The default is the global provider, otel.GetTracerProvider(), as it
// is when [Hooks] is called: see [Hooks] for what a provider installed later
// does. A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithMeterProvider sets the provider of the meter that creates the
// instruments. The default is the global provider, otel.GetMeterProvider(),
// as it is when [Hooks] is called (see [Hooks]). A nil provider is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithSpanNameFormatter sets the function that names the spans of a
// breaker. The default names them "circuit_breaker {name}". It is called once
// per breaker name and its result reused; it must return a low-cardinality
// name. A nil function is ignored.
func WithSpanNameFormatter(f func(breakerName string) string) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.spanName = f
		}
	})
}

// WithSpanAttributes adds attributes to every span at its start, so that
// samplers see them. An attribute with the key of one of the bridge's own
// is replaced by the bridge's. Several calls add up.
func WithSpanAttributes(attrs ...attribute.KeyValue) Option {
	attrs = slices.Clone(attrs)
	return optionFunc(func(c *config) {
		c.spanAttrs = append(c.spanAttrs, attrs...)
	})
}

// WithMetricAttributes adds attributes to every measurement of every
// instrument. They must have few values (a service tier, a region), never
// per-call values. An attribute with the key of one of the bridge's own is
// replaced by the bridge's. Several calls add up.
func WithMetricAttributes(attrs ...attribute.KeyValue) Option {
	attrs = slices.Clone(attrs)
	return optionFunc(func(c *config) {
		c.metricAttrs = append(c.metricAttrs, attrs...)
	})
}

// WithSpanStatus replaces the default span status rule: Unset for a
// success; Error, described by the error's message, for every other call
// (ignored errors and rejections included; "panic: <value>" for a panic).
// f is called for every call whose span is recording; a returned
// codes.Unset leaves the status unset. A typical use leaves ignored errors
// Unset:
//
//	otelbridge.WithSpanStatus(func(e sdk.CallEnd) (codes.Code, string) {
//		if e.Outcome == sdk.OutcomeSuccess || e.Decision == sdk.DecisionIgnored {
//			return codes.Unset, ""
//		}
//		return otelbridge.DefaultSpanStatus(e)
//	})
//
// A nil function is ignored.
func WithSpanStatus(f func(sdk.CallEnd) (codes.Code, string)) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.spanStatus = f
		}
	})
}

// WithFilter sets a function that decides, for every call, whether it gets
// a span: returning false skips the span. Metrics are recorded for every
// call all the same, so that rates stay right (unlike otelhttp's filters,
// which skip all telemetry). A state_change event of a call without a span
// goes to the span in its context, if any. A nil function is ignored.
func WithFilter(f func(ctx context.Context, breakerName string) bool) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filter = f
		}
	})
}

// WithErrorType sets a function that classifies errors that neither have
// an ErrorType() string method nor match context.Canceled or
// context.DeadlineExceeded. A non-empty result becomes the error.type; an
// empty one falls back to the Go type name of the error. The result must
// come from a small set of values: never the message. A nil function is
// ignored.
func WithErrorType(f func(error) string) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.errorType = f
		}
	})
}

// WithErrorTypeLimit sets how many distinct error.type values each metric
// series reports before further values are reported as [ErrorTypeOther] (the
// bridge then reports the overflow once through otel.Handle). A series is a
// breaker name and key, or a breaker name alone for the breakers of a group
// when [WithKeyOnMetrics] is false; spans carry the same, limited value. The values the bridge
// and the breaker define themselves (panic, context_canceled,
// context_deadline_exceeded, the circuit_breaker_* rejections, _OTHER) do
// not count. The default is [DefaultErrorTypeLimit]; 0 reports every other
// value as _OTHER; a negative n is ignored.
func WithErrorTypeLimit(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.errorTypeLimit = n
		}
	})
}

// WithKeyOnMetrics sets whether the metrics carry circuit_breaker.key, the
// key of a breaker of a breaker.Group (spans always carry it). The default
// is true: one series per key, for at most [WithMetricKeyLimit] keys per
// breaker name; the keys after those are reported as [KeyOther]. With
// false, the breakers of a group share their name's series: the counters
// and the histogram add up over the keys, circuit_breaker.state counts the
// keys in each state, and the window gauges report the group's window as a
// whole (see docs/telemetry.md in the repository). Use false for large key
// spaces.
func WithKeyOnMetrics(on bool) Option {
	return optionFunc(func(c *config) { c.keyOnMetrics = on })
}

// DefaultMetricKeyLimit is the number of keys of one breaker name (one
// breaker.Group) that get a circuit_breaker.key value of their own on
// metrics, unless [WithMetricKeyLimit] says otherwise. At the default
// error.type limit a breaker in its usual states (closed, half-open) has up
// to 69 circuit_breaker.calls series, so one group's 21 key values stay
// within 1449, under the OpenTelemetry SDK's default cardinality limit of
// 2000 per instrument.
const DefaultMetricKeyLimit = 20

// KeyOther is the circuit_breaker.key value on metrics of the keys past the
// metric key limit (see [WithMetricKeyLimit]). It is also the key of a
// breaker.Group's overflow breaker (breaker.OverflowKey), whose series it
// shares: both stand for many keys.
const KeyOther = "_OTHER"

// WithMetricKeyLimit sets how many distinct circuit_breaker.key values the
// metrics of one breaker name carry. Keys get a value of their own first
// come, first served, for the life of the [Hooks] value: the first n keys
// of a name that reach the bridge keep their own series, even after their
// group evicted them; every later key is reported as [KeyOther] (and the
// bridge reports that once per name through otel.Handle). [KeyOther]
// itself does not count against the limit. Spans and span events always
// carry the real key.
//
// A key limit on metrics has to be fixed for good: a cumulative counter
// cannot forget a series, so a group that evicts idle keys and takes new
// ones (an attacker choosing the Host, say) would otherwise add series
// without end until the OpenTelemetry SDK's own cardinality limit (2000 per
// instrument by default), after which the new series of every breaker,
// live keys included, would fall into the SDK's overflow series. With the
// limit, one breaker name puts at most n+1 key values on each instrument,
// however many keys go through its group.
//
// The default is [DefaultMetricKeyLimit]; 0 reports every key as
// [KeyOther]; a negative n is ignored. It applies only while
// [WithKeyOnMetrics] is true.
func WithMetricKeyLimit(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.metricKeyLimit = n
		}
	})
}

// WithRejectedSpanInterval sets the least time between two spans of
// rejected calls of one breaker: within d of a rejected call that got a
// span, further rejected calls get none. circuit_breaker.calls counts every
// rejected call all the same. The default is
// [DefaultRejectedSpanInterval]: an open breaker under load then shows up
// in traces once a second, not once per refused request, which would flood
// a tracing backend (and keep every trace under an error-keeping tail
// sampler) with zero-length copies of one fact. 0 gives every rejected
// call a span; a negative d is ignored.
func WithRejectedSpanInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d >= 0 {
			c.rejectedEvery = d
		}
	})
}

// WithoutRejectedSpans gives rejected calls no span at all; the metrics
// still count every one (see [WithRejectedSpanInterval]).
func WithoutRejectedSpans() Option {
	return optionFunc(func(c *config) { c.rejectedEvery = noRejectedSpans })
}
