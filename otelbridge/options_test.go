package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
)

func TestWithSpanNameFormatter(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	var mu sync.Mutex
	formatted := 0
	h := newHooks(tel, otelbridge.WithSpanNameFormatter(func(n string) string {
		mu.Lock()
		formatted++
		mu.Unlock()
		return "cb." + n
	}))
	for range 3 {
		call(context.Background(), h, sdk.CallStart{Name: "payments"}, sdk.CallEnd{}, nil)
	}
	for _, s := range tel.Ended() {
		assert.Equal(t, "cb.payments", s.Name())
	}
	assert.Equal(t, 1, formatted, "called once per breaker name")
}

func TestWithSpanAndMetricAttributes(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel,
		otelbridge.WithSpanAttributes(attribute.String("peer.service", "psp"), otelbridge.NameKey.String("not the name")),
		otelbridge.WithSpanAttributes(attribute.Int("tier", 1)),
		otelbridge.WithMetricAttributes(attribute.String("region", "eu"), otelbridge.NameKey.String("not the name")),
	)
	h.Register(sdk.Registration{Name: "payments", State: func() sdk.State { return sdk.StateClosed }})
	ctx := h.CallStart(context.Background(), sdk.CallStart{Name: "payments", State: sdk.StateClosed})
	h.StateChange(ctx, sdk.Transition{Name: "payments", From: sdk.StateClosed, To: sdk.StateOpen})
	h.CallEnd(ctx, sdk.CallEnd{Name: "payments", State: sdk.StateClosed, Outcome: sdk.OutcomeError,
		Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable})

	s := tel.Ended()[0]
	got := testutil.AttrMap(s.Attributes())
	assert.Equal(t, "psp", got["peer.service"])
	assert.Equal(t, int64(1), got["tier"])
	assert.Equal(t, "payments", got["circuit_breaker.name"], "the bridge's attributes win")
	_, onEvent := testutil.AttrMap(s.Events()[0].Attributes)["peer.service"]
	assert.False(t, onEvent, "span attributes are not copied to events")

	rm := tel.Collect(t)
	region := attribute.String("region", "eu")
	for _, m := range []string{otelbridge.CallsMetric, otelbridge.StateMetric, otelbridge.TransitionsMetric} {
		sums := testutil.Int64Sums(rm, m)
		require.NotEmpty(t, sums, m)
		for k := range sums {
			assert.Contains(t, k, "region=eu", m)
			assert.Contains(t, k, "circuit_breaker.name=payments", m)
		}
	}
	_, ok := testutil.HistogramPoint(rm, otelbridge.CallDurationMetric, region, name("payments"), state("closed"), outcome("error"), decision("counted"))
	assert.True(t, ok)
}

func TestWithSpanStatus(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	var seen []sdk.CallEnd
	h := newHooks(tel, otelbridge.WithSpanStatus(func(e sdk.CallEnd) (codes.Code, string) {
		seen = append(seen, e)
		if e.Decision == sdk.DecisionIgnored {
			return codes.Unset, ""
		}
		return otelbridge.DefaultSpanStatus(e)
	}))
	ctx := context.Background()
	call(ctx, h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
	call(ctx, h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionIgnored, Err: testutil.ErrNotFound}, nil)
	call(ctx, h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable}, nil)

	var got []sdktrace.Status
	for _, s := range tel.Ended() {
		got = append(got, s.Status())
	}
	assert.Equal(t, []sdktrace.Status{
		{Code: codes.Unset},
		{Code: codes.Unset},
		{Code: codes.Error, Description: "upstream answered 503"},
	}, got)
	require.Len(t, seen, 3)
	assert.Equal(t, "a", seen[1].Name)
	assert.Equal(t, testutil.ErrNotFound, seen[1].Err, "the hook sees the call's end")
	v, _ := testutil.SpanAttr(tel.Ended()[1], otelbridge.ErrorTypeKey)
	assert.Equal(t, "404", v.AsString(), "the ignored error keeps its error.type")
}

func TestDefaultSpanStatus(t *testing.T) {
	tests := []struct {
		end      sdk.CallEnd
		wantCode codes.Code
		wantDesc string
	}{
		{sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, codes.Unset, ""},
		{sdk.CallEnd{Outcome: sdk.OutcomeError, Err: errors.New("x")}, codes.Error, "x"},
		{sdk.CallEnd{Outcome: sdk.OutcomeError, Panicked: true, PanicValue: fmt.Errorf("bad %d", 1)}, codes.Error, "panic: bad 1"},
		{sdk.CallEnd{Outcome: sdk.OutcomeRejected, Err: errOpen}, codes.Error, "circuit breaker is open"},
		{sdk.CallEnd{Outcome: sdk.OutcomeRejected}, codes.Error, "rejected"},
	}
	for _, tt := range tests {
		code, desc := otelbridge.DefaultSpanStatus(tt.end)
		assert.Equal(t, tt.wantCode, code)
		assert.Equal(t, tt.wantDesc, desc)
	}
}

func TestWithFilter(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithFilter(func(ctx context.Context, n string) bool { return n != "health" }))
	tracer := tel.TracerProvider.Tracer("test")

	ctx, parent := tracer.Start(context.Background(), "handler")
	call(ctx, h, sdk.CallStart{Name: "health", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess},
		func(ctx context.Context) {
			// A breaker call inside a skipped one still gets its span,
			// and a transition of the skipped call goes to the
			// caller's span.
			call(ctx, h, sdk.CallStart{Name: "db", State: sdk.StateClosed}, sdk.CallEnd{Outcome: sdk.OutcomeSuccess}, nil)
			h.StateChange(ctx, sdk.Transition{Name: "health", From: sdk.StateClosed, To: sdk.StateOpen})
		})
	assert.True(t, parent.IsRecording(), "CallEnd of the skipped call did not end the caller's span")
	parent.End()

	spans := tel.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "circuit_breaker db", spans[0].Name())
	assert.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent().SpanID())
	assert.Equal(t, "handler", spans[1].Name())
	assert.Len(t, testutil.Events(spans[1], otelbridge.StateChangeEvent), 1)

	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{
		testutil.Key(name("health"), state("closed"), outcome("success")): 1,
		testutil.Key(name("db"), state("closed"), outcome("success")):     1,
	}, testutil.Int64Sums(rm, otelbridge.CallsMetric), "metrics are recorded for filtered calls")
}

func TestWithErrorType(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithErrorType(func(err error) string {
		if errors.Is(err, testutil.ErrPlain) {
			return "plain"
		}
		return ""
	}))
	ctx := context.Background()
	for _, err := range []error{testutil.ErrPlain, errors.New("other"), context.Canceled} {
		call(ctx, h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: err}, nil)
	}
	var got []string
	for _, s := range tel.Ended() {
		v, _ := testutil.SpanAttr(s, otelbridge.ErrorTypeKey)
		got = append(got, v.AsString())
	}
	assert.Equal(t, []string{"plain", "_OTHER", "context_canceled"}, got)
}

type handlerFunc func(error)

func (f handlerFunc) Handle(err error) { f(err) }

func TestWithErrorTypeLimit(t *testing.T) {
	var handled []error
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(handlerFunc(func(err error) { handled = append(handled, err) }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithErrorTypeLimit(2))
	ctx := context.Background()
	classes := []string{"a", "b", "c", "d", "a", "c", "circuit_breaker_open", "context_canceled"}
	for _, c := range classes {
		for _, bname := range []string{"x", "y"} {
			call(ctx, h, sdk.CallStart{Name: bname}, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted,
				Err: &testutil.ClassifiedError{Class: c, Msg: "m"}}, nil)
		}
	}
	var got []string
	for _, s := range testutil.SpansNamed(tel.Ended(), "circuit_breaker x") {
		v, _ := testutil.SpanAttr(s, otelbridge.ErrorTypeKey)
		got = append(got, v.AsString())
	}
	assert.Equal(t, []string{"a", "b", "_OTHER", "_OTHER", "a", "_OTHER", "circuit_breaker_open", "context_canceled"}, got,
		"two values of its own per breaker, then _OTHER; built-in values do not count")

	rm := tel.Collect(t)
	v, ok := testutil.Int64Value(rm, otelbridge.CallsMetric, name("y"), state("closed"), outcome("error"), decision("counted"), errorType("_OTHER"))
	require.True(t, ok)
	assert.Equal(t, int64(3), v)
	assert.Len(t, testutil.Int64Sums(rm, otelbridge.CallsMetric), 10, "5 series for each breaker")

	require.Len(t, handled, 2, "one report per breaker")
	assert.Contains(t, handled[0].Error(), `breaker "x" has more than 2 distinct error.type values`)
}

func TestNilOptionsIgnored(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel,
		nil,
		otelbridge.WithTracerProvider(nil),
		otelbridge.WithMeterProvider(nil),
		otelbridge.WithSpanNameFormatter(nil),
		otelbridge.WithSpanStatus(nil),
		otelbridge.WithFilter(nil),
		otelbridge.WithErrorType(nil),
		otelbridge.WithErrorTypeLimit(-1),
	)
	call(context.Background(), h, sdk.CallStart{Name: "a"}, sdk.CallEnd{Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted, Err: testutil.ErrUnavailable}, nil)
	s := tel.Ended()
	require.Len(t, s, 1, "the providers of the earlier options are kept")
	assert.Equal(t, "circuit_breaker a", s[0].Name())
	assert.Equal(t, codes.Error, s[0].Status().Code)
	assert.NotEmpty(t, testutil.Int64Sums(tel.Collect(t), otelbridge.CallsMetric))
}
