package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
)

var fast = []string{"-cooldown=30ms", "-timeout=250ms", "-stall=5s"}

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, fast))
	s := out.String()
	assert.Contains(t, s, "GET /missing     -> 404 Not Found (breaker closed)")
	assert.Regexp(t, `circuit_breaker.decision=ignored (circuit_breaker.rule=\S+ )?error.type=404`, s)
	assert.Contains(t, s, "circuit_breaker.decision=counted circuit_breaker.rule=http_5xx error.type=503")
	assert.Contains(t, s, "GET /truncated   -> 200 OK, then reading the body: unexpected EOF (breaker closed)")
	assert.Contains(t, s, "circuit_breaker.decision=counted circuit_breaker.rule=network_error")
	assert.Contains(t, s, "circuit_breaker.rule=timeout error.type=context_deadline_exceeded")
	assert.Contains(t, s, "event circuit_breaker.state_change: closed -> open (tripped)")
	assert.Contains(t, s, "GET /ok          -> circuit breaker is open (breaker open)")
	assert.Contains(t, s, "event circuit_breaker.state_change: half_open -> closed (recovered)")
	assert.Contains(t, s, "└─ HTTP GET [http.request.method=GET http.response.status_code=503 error.type=503]")
}

func TestClientSpansNestedUnderBreakerSpans(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	cfg := config{cooldown: 30 * time.Millisecond, timeout: 250 * time.Millisecond, stall: 5 * time.Second}
	require.NoError(t, demo(context.Background(), cfg, tel.TracerProvider, func(string, ...any) {}))

	spans := tel.Ended()
	byID := map[trace.SpanID]string{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s.InstrumentationScope().Name
	}
	var breakerSpans, clientSpans int
	for _, s := range spans {
		switch s.InstrumentationScope().Name {
		case otelbridge.ScopeName:
			breakerSpans++
			assert.False(t, s.Parent().IsValid(), "a root span")
		default:
			clientSpans++
			assert.Equal(t, trace.SpanKindClient, s.SpanKind())
			assert.Equal(t, otelbridge.ScopeName, byID[s.Parent().SpanID()], "otelhttp's span is a child of the breaker's")
		}
	}
	assert.Equal(t, 8, breakerSpans)
	assert.Equal(t, 7, clientSpans, "no request for the rejected call")
}
