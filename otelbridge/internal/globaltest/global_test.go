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
// they are installed.
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
}
