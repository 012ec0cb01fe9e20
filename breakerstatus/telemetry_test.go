package breakerstatus_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/otelbridge"
)

// TestCommandRecordedOnRequestSpan: a command runs with the request's
// context, so otelbridge puts its transition on the request's span.
func TestCommandRecordedOnRequestSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	f := newFixture(t, otelbridge.Hooks(otelbridge.WithTracerProvider(tp)))
	h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth))
	require.NoError(t, err)

	// What otelhttp does for the request: a server span in its context.
	traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("test").Start(r.Context(), "POST /debug/breakers")
		defer span.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	w := post(t, traced, `{"command":"force_open","name":"hosts","key":"a"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	spans := rec.Ended()
	require.Len(t, spans, 1)
	require.Len(t, spans[0].Events(), 1)
	ev := spans[0].Events()[0]
	assert.Equal(t, otelbridge.StateChangeEvent, ev.Name)
	attrs := attribute.NewSet(ev.Attributes...)
	for k, want := range map[attribute.Key]string{
		"circuit_breaker.name":              "hosts",
		"circuit_breaker.key":               "a",
		"circuit_breaker.previous_state":    "closed",
		"circuit_breaker.state":             "forced_open",
		"circuit_breaker.transition.reason": "manual",
	} {
		v, ok := attrs.Value(k)
		if assert.True(t, ok, "%s on the event: %v", k, ev.Attributes) {
			assert.Equal(t, want, v.AsString(), k)
		}
	}
}
