package breakerhttp_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The tests below instrument the client and the server the way otelhttp
// does, with the real SDK: a client span around the inner round trip and a
// server span around the whole handler, each started from the request's
// context. (otelhttp itself is not a dependency of this module; the
// examples module runs the same checks with it.)

// spanTransport starts a client span, from the request's context, for
// every round trip of next.
type spanTransport struct {
	next   http.RoundTripper
	tracer trace.Tracer
}

func (t spanTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	return resp, nil
}

// spanHandler starts a server span for every request h serves.
func spanHandler(h http.Handler, tracer trace.Tracer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// otelBreaker returns a breaker with DefaultTracker and the otelbridge
// hooks over tel.
func otelBreaker(t *testing.T, tel *testutil.Telemetry) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New("inventory",
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithHooks(otelbridge.Hooks(
			otelbridge.WithTracerProvider(tel.TracerProvider),
			otelbridge.WithMeterProvider(tel.MeterProvider))),
	)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func TestTransportTelemetry(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	b := otelBreaker(t, tel)
	srv := newServer(t, http.HandlerFunc(statusHandler))
	inner := &http.Transport{}
	t.Cleanup(inner.CloseIdleConnections)
	c := &http.Client{Transport: breakerhttp.NewTransport(
		spanTransport{inner, tel.TracerProvider.Tracer("client")}, b)}

	tests := []struct {
		status   int
		outcome  string
		decision string
		rule     string
	}{
		{200, "success", "", ""},
		{404, "error", "ignored", ""}, // the rule, if any, that DefaultTracker names
		{503, "error", "counted", breakerhttp.RuleServerError},
	}
	for _, tt := range tests {
		resp, err := c.Get(srv.URL + "/?status=" + strconv.Itoa(tt.status))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	}

	spans := tel.Ended()
	var breakerSpans []sdktrace.ReadOnlySpan
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
		if s.InstrumentationScope().Name == otelbridge.ScopeName {
			breakerSpans = append(breakerSpans, s)
		}
	}
	require.Len(t, breakerSpans, len(tests))
	require.Len(t, spans, 2*len(tests), "one client span per breaker span")
	for i, tt := range tests {
		s := breakerSpans[i]
		a := testutil.AttrMap(s.Attributes())
		assert.Equal(t, tt.outcome, a[string(otelbridge.OutcomeKey)], "status %d", tt.status)
		if tt.decision == "" {
			assert.NotContains(t, a, string(otelbridge.DecisionKey))
			assert.NotContains(t, a, string(otelbridge.ErrorTypeKey))
		} else {
			assert.Equal(t, tt.decision, a[string(otelbridge.DecisionKey)], "status %d", tt.status)
			rule := tt.rule
			if tt.decision == "ignored" {
				rule = ignoredRule(statusErr(t, tt.status))
			}
			if rule == "" {
				assert.NotContains(t, a, string(otelbridge.RuleKey), "status %d", tt.status)
			} else {
				assert.Equal(t, rule, a[string(otelbridge.RuleKey)], "status %d", tt.status)
			}
			assert.Equal(t, strconv.Itoa(tt.status), a[string(otelbridge.ErrorTypeKey)], "the status code, as OpenTelemetry's HTTP conventions spell error.type")
		}
	}
	for _, s := range spans {
		if s.InstrumentationScope().Name == otelbridge.ScopeName {
			continue
		}
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		parent, ok := byID[s.Parent().SpanID()]
		require.True(t, ok, "the client span has a recorded parent")
		assert.Equal(t, otelbridge.ScopeName, parent.InstrumentationScope().Name, "the client span is a child of the breaker's")
		code, _ := testutil.SpanAttr(s, "http.response.status_code")
		et, _ := testutil.SpanAttr(parent, otelbridge.ErrorTypeKey)
		if code.AsInt64() >= 400 {
			assert.Equal(t, strconv.FormatInt(code.AsInt64(), 10), et.AsString(), "same error.type on both spans")
		}
	}

	rm := tel.Collect(t)
	assert.EqualValues(t, 1, callsWith(rm, otelbridge.ErrorTypeKey.String("503"), otelbridge.DecisionKey.String("counted")))
	assert.EqualValues(t, 1, callsWith(rm, otelbridge.ErrorTypeKey.String("404"), otelbridge.DecisionKey.String("ignored")))
	assert.EqualValues(t, 1, callsWith(rm, otelbridge.OutcomeKey.String("success")))
}

// callsWith sums the circuit_breaker.calls points that have every one of
// kvs.
func callsWith(rm metricdata.ResourceMetrics, kvs ...attribute.KeyValue) int64 {
	m, _, ok := testutil.FindMetric(rm, "circuit_breaker.calls")
	if !ok {
		return -1
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		all := true
		for _, kv := range kvs {
			if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
				all = false
			}
		}
		if all {
			n += dp.Value
		}
	}
	return n
}

func TestHandlerTelemetry(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	b := otelBreaker(t, tel)
	tracer := tel.TracerProvider.Tracer("handler")
	h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, span := tracer.Start(r.Context(), "work")
		defer span.End()
		w.WriteHeader(http.StatusInternalServerError)
	}), b)
	srv := newServer(t, spanHandler(h, tel.TracerProvider.Tracer("server")))
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)

	byScope := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range tel.Ended() {
		byScope[s.InstrumentationScope().Name] = s
	}
	require.Len(t, byScope, 3)
	server, brk, work := byScope["server"], byScope[otelbridge.ScopeName], byScope["handler"]
	require.NotNil(t, server)
	require.NotNil(t, brk)
	require.NotNil(t, work)
	assert.Equal(t, server.SpanContext().SpanID(), brk.Parent().SpanID(), "the breaker's span is a child of the server span")
	assert.Equal(t, brk.SpanContext().SpanID(), work.Parent().SpanID(), "the handler runs under the breaker's span")
	a := testutil.AttrMap(brk.Attributes())
	assert.Equal(t, "counted", a[string(otelbridge.DecisionKey)])
	assert.Equal(t, breakerhttp.RuleServerError, a[string(otelbridge.RuleKey)])
	assert.Equal(t, "500", a[string(otelbridge.ErrorTypeKey)])
}

// TestIgnoredErrorsNameNoRule pins the convention that an ignored error
// names a rule only when a rule matched it, on the client and the server:
// DefaultTracker ignores a 404 or a 429 because none of its rules matched,
// so their spans and metric points carry no circuit_breaker.rule; a
// caller's cancellation is ignored by the breaker's own rule, which its
// span names.
func TestIgnoredErrorsNameNoRule(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	b := otelBreaker(t, tel)
	srv := newServer(t, http.HandlerFunc(statusHandler))
	c := &http.Client{Transport: breakerhttp.NewTransport(&http.Transport{}, b)}
	t.Cleanup(c.CloseIdleConnections)
	for _, status := range []int{404, 429} {
		resp, err := c.Get(srv.URL + "/?status=" + strconv.Itoa(status))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.ErrorIs(t, err, context.Canceled)

	hb := otelBreaker(t, tel)
	hsrv := newServer(t, breakerhttp.NewHandler(http.HandlerFunc(http.NotFound), hb))
	resp, err := hsrv.Client().Get(hsrv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	type span struct{ decision, rule, errorType string }
	var got []span
	for _, s := range tel.Ended() {
		if s.InstrumentationScope().Name != otelbridge.ScopeName {
			continue
		}
		a := testutil.AttrMap(s.Attributes())
		rule, _ := a[string(otelbridge.RuleKey)].(string)
		got = append(got, span{a[string(otelbridge.DecisionKey)].(string), rule, a[string(otelbridge.ErrorTypeKey)].(string)})
	}
	assert.Equal(t, []span{
		{"ignored", "", "404"},
		{"ignored", "", "429"},
		{"ignored", breaker.RuleContextCanceled, otelbridge.ErrorTypeCanceled},
		{"ignored", "", "404"}, // the server's
	}, got)

	rm := tel.Collect(t)
	m, _, ok := testutil.FindMetric(rm, "circuit_breaker.calls")
	require.True(t, ok)
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		_, has := dp.Attributes.Value(otelbridge.RuleKey)
		assert.False(t, has, "the rule is on spans only")
	}
	assert.EqualValues(t, 3, callsWith(rm, otelbridge.DecisionKey.String("ignored"), otelbridge.ErrorTypeKey.String("404"))+
		callsWith(rm, otelbridge.DecisionKey.String("ignored"), otelbridge.ErrorTypeKey.String("429")))
}
