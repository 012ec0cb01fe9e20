package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

var wouldReject = otelbridge.WouldRejectKey.Bool(true)

// An enforcing and a shadow breaker fed the same outcomes: the shadow one's
// would-reject calls are on its spans and in circuit_breaker.calls, as many
// as the enforcing one's refusals, and it has no rejected series.
func TestShadowModeTelemetry(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel, otelbridge.WithRejectedSpanInterval(0))
	errDown := errors.New("down")
	newB := func(n string, f float64) *breaker.Breaker {
		b, err := breaker.New(n, breaker.WithEnforcement(f), breaker.WithTripper(breaker.FailureStreak(2)),
			breaker.WithRetry(breaker.Cooldown(time.Hour, 0)), breaker.WithHooks(h))
		require.NoError(t, err)
		return b
	}
	enforcing, shadow := newB("enforcing", 1), newB("shadow", 0)
	ran := map[string]int{}
	for i := range 7 {
		for _, b := range []*breaker.Breaker{enforcing, shadow} {
			_ = b.Do(context.Background(), func(context.Context) error {
				ran[b.Name()]++
				if i == 3 {
					return nil
				}
				return errDown
			})
		}
	}
	assert.Equal(t, 7, ran["shadow"], "the shadow breaker's dependency gets every call")
	assert.Equal(t, 2, ran["enforcing"])

	rm := tel.Collect(t)
	refused, ok := testutil.Int64Value(rm, otelbridge.CallsMetric, name("enforcing"), state("open"), outcome("rejected"), errorType("circuit_breaker_open"))
	require.True(t, ok)
	assert.Equal(t, int64(5), refused)
	wouldOK, _ := testutil.Int64Value(rm, otelbridge.CallsMetric, name("shadow"), state("open"), outcome("success"), wouldReject)
	wouldErr, _ := testutil.Int64Value(rm, otelbridge.CallsMetric, name("shadow"), state("open"), outcome("error"),
		decision("counted"), errorType(otelbridge.ErrorTypeOther), wouldReject)
	assert.Equal(t, int64(1), wouldOK)
	assert.Equal(t, int64(4), wouldErr)
	for k := range testutil.Int64Sums(rm, otelbridge.CallsMetric) {
		if strings.Contains(k, "circuit_breaker.name=shadow") {
			assert.NotContains(t, k, "outcome=rejected", "the shadow breaker refused nothing")
		}
	}
	_, ok = testutil.HistogramPoint(rm, otelbridge.CallDurationMetric, name("shadow"), state("open"), outcome("success"), wouldReject)
	assert.True(t, ok, "the duration of a would-reject call is recorded, marked")

	var marked int
	for _, s := range tel.Ended() {
		v, _ := testutil.SpanAttr(s, otelbridge.NameKey)
		w, has := testutil.SpanAttr(s, otelbridge.WouldRejectKey)
		st, _ := testutil.SpanAttr(s, otelbridge.StateKey)
		if has {
			marked++
			assert.True(t, w.AsBool())
			assert.Equal(t, "shadow", v.AsString())
			assert.Equal(t, "open", st.AsString())
		}
	}
	assert.Equal(t, 5, marked)
}

// A reconfiguration adds an event to the span in its context and counts in
// circuit_breaker.reconfigurations; one that changes nothing does neither.
func TestReconfigurationTelemetry(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	h := newHooks(tel)
	g, err := breaker.NewGroup("hosts", breaker.WithHooks(h))
	require.NoError(t, err)
	_, err = g.Get("a")
	require.NoError(t, err)
	b, err := breaker.New("payments", breaker.WithHooks(h), breaker.WithTripper(breaker.FailureStreak(5)))
	require.NoError(t, err)

	ctx, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "admin")
	require.NoError(t, b.Reconfigure(ctx, breaker.WithTripper(breaker.FailureStreak(3)), breaker.WithMaxHalfOpenCalls(10)))
	require.NoError(t, b.Reconfigure(ctx, breaker.WithTripper(breaker.FailureStreak(3))), "unchanged: not reported")
	require.NoError(t, b.SetEnforcement(0))
	require.NoError(t, g.Reconfigure(ctx, breaker.WithWindow(breaker.TimeWindow(time.Minute))))
	span.End()

	rm := tel.Collect(t)
	n, _ := testutil.Int64Value(rm, otelbridge.ReconfigurationsMetric, name("payments"))
	assert.Equal(t, int64(2), n)
	n, _ = testutil.Int64Value(rm, otelbridge.ReconfigurationsMetric, name("hosts"), key("a"))
	assert.Equal(t, int64(1), n)

	admin := testutil.SpansNamed(tel.Ended(), "admin")
	require.Len(t, admin, 1)
	evs := testutil.Events(admin[0], otelbridge.ReconfiguredEvent)
	require.Len(t, evs, 2)
	attrs := testutil.AttrMap(evs[0].Attributes)
	assert.Equal(t, "payments", attrs[string(otelbridge.NameKey)])
	assert.Equal(t, []string{"tripper"}, attrs[string(otelbridge.ReconfiguredSettingsKey)])
	assert.Equal(t, []string{"tripper: FailureStreak(5) -> FailureStreak(3)"},
		attrs[string(otelbridge.ReconfiguredChangesKey)])
	assert.Equal(t, false, attrs[string(otelbridge.WindowReplacedKey)])
	attrs = testutil.AttrMap(evs[1].Attributes)
	assert.Equal(t, "a", attrs[string(otelbridge.KeyKey)])
	assert.Equal(t, []string{"window"}, attrs[string(otelbridge.ReconfiguredSettingsKey)])
	assert.Equal(t, true, attrs[string(otelbridge.WindowReplacedKey)])
}

// A trip the group's cap refuses is counted, per key, and marked on the
// span of the call whose outcome fired the tripper.
func TestTripCappedTelemetry(t *testing.T) {
	tel := testutil.NewTelemetry(t)
	g, err := breaker.NewGroup("hosts", breaker.WithHooks(newHooks(tel)), breaker.WithMaxOpenFraction(0.2),
		breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)))
	require.NoError(t, err)
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("h%d", i)
		_, err := g.Get(keys[i])
		require.NoError(t, err)
	}
	for _, k := range keys[:4] {
		b, _ := g.Get(k)
		_ = b.Do(context.Background(), func(context.Context) error { return errors.New("down") })
	}
	assert.Equal(t, 2, g.OpenKeys())
	rm := tel.Collect(t)
	for i, k := range keys[:4] {
		n, ok := testutil.Int64Value(rm, otelbridge.TripsCappedMetric, name("hosts"), key(k))
		if i < 2 {
			assert.False(t, ok, k)
			continue
		}
		assert.Equal(t, int64(1), n, k)
	}
	var events int
	for _, s := range testutil.SpansNamed(tel.Ended(), "circuit_breaker hosts") {
		for _, e := range testutil.Events(s, otelbridge.TripCappedEvent) {
			events++
			attrs := testutil.AttrMap(e.Attributes)
			assert.Equal(t, int64(2), attrs[string(otelbridge.OpenKeysKey)])
			assert.Equal(t, int64(2), attrs[string(otelbridge.MaxOpenKeysKey)])
			assert.Equal(t, int64(1), attrs[string(otelbridge.WindowFailuresKey)])
		}
	}
	assert.Equal(t, 2, events)
}
