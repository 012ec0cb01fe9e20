package globaltest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

var firstRun atomic.Bool

// TestGlobalProvidersSetLater checks that hooks built before the program
// installs its providers (a package-level breaker, say) report to them once
// they are installed, and what a second installation does.
func TestGlobalProvidersSetLater(t *testing.T) {
	if !firstRun.CompareAndSwap(false, true) {
		t.Skip("the global providers are installed once per process (go test -count > 1)")
	}
	b, err := breaker.New("early", breaker.WithHooks(otelbridge.Hooks()))
	require.NoError(t, err)
	defer b.Close()
	ctx := context.Background()
	require.NoError(t, b.Do(ctx, func(context.Context) error { return nil })) // before: a no-op

	tel := testutil.NewTelemetry(t)
	otel.SetTracerProvider(tel.TracerProvider)
	otel.SetMeterProvider(tel.MeterProvider)

	require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
	spans := tel.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "circuit_breaker early", spans[0].Name())
	assert.Equal(t, otelbridge.ScopeName, spans[0].InstrumentationScope().Name)

	rm := tel.Collect(t)
	assert.Equal(t, map[string]int64{
		testutil.Key(otelbridge.NameKey.String("early"), otelbridge.StateKey.String("closed"), otelbridge.OutcomeKey.String("success")): 1,
	}, testutil.Int64Sums(rm, otelbridge.CallsMetric))
	v, ok := testutil.Int64Value(rm, otelbridge.StateMetric, otelbridge.NameKey.String("early"), otelbridge.StateKey.String("closed"))
	require.True(t, ok, "the state callback registered before the provider was set")
	assert.Equal(t, int64(1), v)

	// A second provider does not reach hooks built before it: the global
	// API forwards to the first one only. Hooks built now use the second.
	tel2 := testutil.NewTelemetry(t)
	otel.SetTracerProvider(tel2.TracerProvider)
	otel.SetMeterProvider(tel2.MeterProvider)
	late, err := breaker.New("late", breaker.WithHooks(otelbridge.Hooks()))
	require.NoError(t, err)
	defer late.Close()
	require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
	require.NoError(t, late.Do(ctx, func(context.Context) error { return nil }))
	assert.Len(t, tel.Ended(), 2, "the early breaker still reports to the first provider")
	require.Len(t, tel2.Ended(), 1)
	assert.Equal(t, "circuit_breaker late", tel2.Ended()[0].Name())
	_, ok = testutil.Int64Value(tel2.Collect(t), otelbridge.StateMetric, otelbridge.NameKey.String("early"), otelbridge.StateKey.String("closed"))
	assert.False(t, ok, "nor does its state gauge reach the second")

	// Hooks built while a provider is installed keep it.
	tel3 := testutil.NewTelemetry(t)
	otel.SetTracerProvider(tel3.TracerProvider)
	otel.SetMeterProvider(tel3.MeterProvider)
	require.NoError(t, late.Do(ctx, func(context.Context) error { return nil }))
	assert.Len(t, tel2.Ended(), 2, "the late breaker still reports to the provider it was built with")
	assert.Empty(t, tel3.Ended())
	assert.Nil(t, testutil.Int64Sums(tel3.Collect(t), otelbridge.CallsMetric))
}
