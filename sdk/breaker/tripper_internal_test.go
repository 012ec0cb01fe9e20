package breaker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

// Ports of fluxgate's tests/test_trippers.py.

func closedCtx(m Metric) CallContext { return CallContext{Metric: m, State: sdk.StateClosed} }

func TestTripperValidation(t *testing.T) {
	for _, tc := range []struct {
		tripper Tripper
		msg     string
	}{
		{MinRequests(0), "MinRequests(0): count must be greater than zero"},
		{MinRequests(-5), "MinRequests(-5): count must be greater than zero"},
		{FailureRate(0), "FailureRate(0): ratio must be between 0 and 1"},
		{FailureRate(1.5), "FailureRate(1.5): ratio must be between 0 and 1"},
		{AvgLatency(0), "AvgLatency(0s): threshold must be greater than zero"},
		{AvgLatency(-time.Second), "AvgLatency(-1s): threshold must be greater than zero"},
		{SlowRate(0, time.Second), "SlowRate(0, 1s): ratio must be between 0 and 1"},
		{SlowRate(1.5, time.Second), "SlowRate(1.5, 1s): ratio must be between 0 and 1"},
		{SlowRate(0.5, 0), "SlowRate(0.5, 0s): threshold must be greater than zero"},
		{SlowRate(0.5, -time.Second), "SlowRate(0.5, -1s): threshold must be greater than zero"},
		{FailureStreak(0), "FailureStreak(0): count must be greater than zero"},
		{FailureStreak(-5), "FailureStreak(-5): count must be greater than zero"},
		{TripperFunc("x", nil), `TripperFunc("x"): func must not be nil`},
		{Tripper{}, "tripper is unset: use MinRequests, FailureRate, ... or TripperFunc"},
		{MinRequests(1).And(Tripper{}), "tripper: an And, Or or Not operand is unset (the zero Tripper): build it with MinRequests, FailureRate, ... or TripperFunc"},
		{Tripper{}.Or(MinRequests(1)), "tripper: an And, Or or Not operand is unset (the zero Tripper): build it with MinRequests, FailureRate, ... or TripperFunc"},
		{Tripper{}.Not(), "tripper: an And, Or or Not operand is unset (the zero Tripper): build it with MinRequests, FailureRate, ... or TripperFunc"},
		{SuccessesToClose(0), "SuccessesToClose(0): count must be greater than zero"},
		{SuccessesToClose(-3).Not(), "SuccessesToClose(-3): count must be greater than zero"},
	} {
		assert.EqualError(t, tc.tripper.validate(), tc.msg)
	}
	assert.NoError(t, MinRequests(1).And(FailureRate(1)).Or(SlowRate(1, 1)).validate())
	err := MinRequests(0).And(FailureRate(2).Or(FailureStreak(0))).validate()
	assert.ErrorContains(t, err, "MinRequests(0)")
	assert.ErrorContains(t, err, "FailureRate(2)")
	assert.ErrorContains(t, err, "FailureStreak(0)", "every invalid leaf is reported")
}

func TestStateTrippers(t *testing.T) {
	for _, st := range sdk.States() {
		c := CallContext{State: st}
		assert.Equal(t, st == sdk.StateClosed, Closed().Trip(c))
		assert.Equal(t, st == sdk.StateHalfOpen, HalfOpened().Trip(c))
	}
}

func TestLeafTrippers(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name    string
		tripper Tripper
		metric  Metric
		want    bool
	}{
		{"min 5/10", MinRequests(10), metricOf(5, 0, 0, nil), false},
		{"min 10/10", MinRequests(10), metricOf(10, 0, 0, nil), true},
		{"min 15/10", MinRequests(10), metricOf(15, 0, 0, nil), true},
		{"rate 3/10", FailureRate(0.5), metricOf(10, 3, 0, nil), false},
		{"rate 5/10", FailureRate(0.5), metricOf(10, 5, 0, nil), true},
		{"rate 7/10", FailureRate(0.5), metricOf(10, 7, 0, nil), true},
		{"avg 5s/10", AvgLatency(s), metricOf(10, 0, 5*s, nil), false},
		{"avg 10s/10", AvgLatency(s), metricOf(10, 0, 10*s, nil), true},
		{"avg 15s/10", AvgLatency(s), metricOf(10, 0, 15*s, nil), true},
		{"slow 2/10", SlowRate(0.3, s), metricOf(10, 0, 0, map[time.Duration]int{s: 2}), false},
		{"slow 3/10", SlowRate(0.3, s), metricOf(10, 0, 0, map[time.Duration]int{s: 3}), true},
		{"slow 5/10", SlowRate(0.3, s), metricOf(10, 0, 0, map[time.Duration]int{s: 5}), true},
		{"own key fast", SlowRate(0.3, s), metricOf(10, 0, 0, map[time.Duration]int{s: 4, 5 * s: 1}), true},
		{"own key slow", SlowRate(0.3, 5*s), metricOf(10, 0, 0, map[time.Duration]int{s: 4, 5 * s: 1}), false},
		{"empty min", MinRequests(1), Metric{}, false},
		{"empty rate", FailureRate(0.1), Metric{}, false},
		{"empty avg", AvgLatency(1), Metric{}, false},
		{"empty slow", SlowRate(0.1, s), Metric{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.tripper.Trip(closedCtx(tc.metric)))
		})
	}
}

func TestFailureStreakTripper(t *testing.T) {
	for n, want := range map[int]bool{3: false, 5: true, 7: true} {
		assert.Equal(t, want, FailureStreak(5).Trip(CallContext{ConsecutiveFailures: n}), "streak %d", n)
	}
	combined := FailureStreak(5).Or(MinRequests(20).And(FailureRate(0.5)))
	assert.True(t, combined.Trip(CallContext{ConsecutiveFailures: 5, Metric: metricOf(5, 5, 0, nil)}))
	assert.True(t, combined.Trip(CallContext{ConsecutiveFailures: 1, Metric: metricOf(20, 10, 0, nil)}))
	assert.False(t, combined.Trip(CallContext{ConsecutiveFailures: 1, Metric: metricOf(19, 19, 0, nil)}))
}

func TestComposedTrippers(t *testing.T) {
	s := time.Second
	and := MinRequests(10).And(FailureRate(0.5))
	or := FailureRate(0.5).Or(SlowRate(0.3, s))
	for _, tc := range []struct {
		tripper Tripper
		metric  Metric
		want    bool
	}{
		{and, metricOf(5, 5, 0, nil), false},
		{and, metricOf(10, 4, 0, nil), false},
		{and, metricOf(10, 5, 0, nil), true},
		{or, metricOf(10, 5, 0, nil), true},
		{or, metricOf(10, 0, 0, map[time.Duration]int{s: 3}), true},
		{or, metricOf(10, 4, 0, map[time.Duration]int{s: 2}), false},
		{MinRequests(10).And(FailureRate(0.5).Or(SlowRate(0.3, s))), metricOf(10, 0, 0, map[time.Duration]int{s: 3}), true},
		{MinRequests(10).And(FailureRate(0.5).Or(SlowRate(0.3, s))), metricOf(9, 9, 0, nil), false},
		{MinRequests(5).And(FailureRate(0.5)).Or(MinRequests(20).And(AvgLatency(s))), metricOf(20, 0, 20*s, nil), true},
	} {
		assert.Equal(t, tc.want, tc.tripper.Trip(closedCtx(tc.metric)), tc.tripper.String())
	}
}

func TestTripperShortCircuits(t *testing.T) {
	calls := 0
	spy := TripperFunc("spy", func(CallContext) bool { calls++; return true })
	MinRequests(10).And(spy).Trip(closedCtx(Metric{}))
	assert.Equal(t, 0, calls)
	MinRequests(1).Or(spy).Trip(closedCtx(metricOf(1, 0, 0, nil)))
	assert.Equal(t, 0, calls)
	MinRequests(1).And(spy).Trip(closedCtx(metricOf(1, 0, 0, nil)))
	assert.Equal(t, 1, calls)
}

func TestSlowThresholdsAreCollectedSortedAndUnique(t *testing.T) {
	tr := SlowRate(0.5, 2*time.Second).Or(SlowRate(0.5, 500*time.Millisecond)).And(SlowRate(0.1, 2*time.Second))
	assert.Equal(t, []time.Duration{500 * time.Millisecond, 2 * time.Second}, tr.slowThresholds())
	assert.Empty(t, TripperFunc("custom", func(CallContext) bool { return false }).slowThresholds(),
		"a custom tripper contributes no thresholds")
	var leaves []string
	MinRequests(1).Or(FailureRate(1)).And(FailureStreak(1)).n.walk(func(n *tripNode) { leaves = append(leaves, n.desc) })
	assert.Equal(t, []string{"MinRequests(1)", "FailureRate(1)", "FailureStreak(1)"}, leaves, "leaves depth first")
}

func TestTripperString(t *testing.T) {
	assert.Equal(t, "(MinRequests(100) & FailureRate(0.5))", MinRequests(100).And(FailureRate(0.5)).String())
	assert.Equal(t, "((Closed() | HalfOpened()) & SlowRate(0.3, 2s))", Closed().Or(HalfOpened()).And(SlowRate(0.3, 2*time.Second)).String())
	assert.Equal(t, "Tripper(unset)", Tripper{}.String())
}

// The zero Tripper does not dereference nil: Trip panics at once with a
// message that names the fix, whether it is the tripper itself or an
// operand of And or Or; so does a TripperFunc without a func.
func TestZeroTripperPanicsClearly(t *testing.T) {
	const msg = "breaker: Trip on the zero Tripper (or an And, Or or Not operand that is the zero Tripper): " +
		"build trippers with MinRequests, FailureRate, ... or TripperFunc"
	one := closedCtx(metricOf(1, 1, 0, nil))
	assert.PanicsWithValue(t, msg, func() { Tripper{}.Trip(one) })
	assert.PanicsWithValue(t, msg, func() { MinRequests(1).And(Tripper{}).Trip(one) })
	assert.PanicsWithValue(t, msg, func() { Tripper{}.Or(MinRequests(1)).Trip(one) })
	assert.False(t, MinRequests(2).And(Tripper{}).Trip(one), "short-circuit: the unset operand is not reached")
	assert.PanicsWithValue(t, `breaker: Trip on TripperFunc("x"), whose func is nil`, func() { TripperFunc("x", nil).Trip(one) })
	assert.Equal(t, "(Tripper(unset) | MinRequests(1))", Tripper{}.Or(MinRequests(1)).String())
	for _, tr := range []Tripper{Tripper{}, Tripper{}.And(Tripper{})} {
		assert.Empty(t, tr.slowThresholds())
		assert.False(t, tr.hasFunc())
		assert.False(t, tr.needsDurations())
	}
}

// New reports the zero Tripper as a configuration error that names the
// fix, never a panic at the first call.
func TestNewRejectsTheZeroTripper(t *testing.T) {
	for _, tr := range []Tripper{Tripper{}, MinRequests(1).And(Tripper{}), Tripper{}.Not()} {
		b, err := New("zero", WithTripper(tr))
		assert.Nil(t, b)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%s", tr)
		assert.ErrorContains(t, err, "unset")
		assert.ErrorContains(t, err, "MinRequests, FailureRate, ... or TripperFunc")
	}
}

func TestTripperNot(t *testing.T) {
	min5 := MinRequests(5)
	assert.False(t, min5.Not().Trip(closedCtx(metricOf(5, 0, 0, nil))))
	assert.True(t, min5.Not().Trip(closedCtx(metricOf(4, 0, 0, nil))))
	assert.Same(t, min5.n, min5.Not().Not().n, "Not(Not(t)) is t")
	assert.Equal(t, "~MinRequests(5)", min5.Not().String())
	assert.Equal(t, "MinRequests(5)", min5.Not().Not().String())
	both := MinRequests(5).And(FailureRate(0.5))
	assert.Equal(t, "~(MinRequests(5) & FailureRate(0.5))", both.Not().String())
	assert.Equal(t, "(Closed() & ~FailureStreak(3))", Closed().And(FailureStreak(3).Not()).String())
	for _, tc := range []struct {
		m    Metric
		want bool
	}{
		{metricOf(5, 3, 0, nil), false},
		{metricOf(5, 2, 0, nil), true},
		{metricOf(4, 4, 0, nil), true},
	} {
		assert.Equal(t, tc.want, both.Not().Trip(closedCtx(tc.m)), "%s", tc.m)
	}
	// Not is walked like And and Or: thresholds, durations and funcs under
	// it are found.
	slow := SlowRate(0.5, time.Second).Not()
	assert.Equal(t, []time.Duration{time.Second}, slow.slowThresholds())
	assert.True(t, slow.needsDurations())
	assert.True(t, TripperFunc("f", func(CallContext) bool { return true }).Not().hasFunc())
	assert.NoError(t, slow.validate())
	assert.ErrorContains(t, FailureRate(2).Not().validate(), "FailureRate(2)")
	// The operand is evaluated once, and not at all when And short-circuits.
	calls := 0
	spy := TripperFunc("spy", func(CallContext) bool { calls++; return false })
	assert.True(t, spy.Not().Trip(closedCtx(Metric{})))
	assert.Equal(t, 1, calls)
	MinRequests(1).And(spy.Not()).Trip(closedCtx(Metric{}))
	assert.Equal(t, 1, calls)
}

func TestSuccessesToCloseTripper(t *testing.T) {
	rule := SuccessesToClose(3)
	assert.Equal(t, "SuccessesToClose(3)", rule.String())
	for _, tc := range []struct {
		state     sdk.State
		successes int
		want      bool
	}{
		{sdk.StateClosed, 0, false},
		{sdk.StateClosed, 10, false},
		{sdk.StateHalfOpen, 0, true}, // a counted failure: re-open
		{sdk.StateHalfOpen, 1, true},
		{sdk.StateHalfOpen, 2, true},
		{sdk.StateHalfOpen, 3, false}, // close
		{sdk.StateHalfOpen, 4, false},
		{sdk.StateMetricsOnly, 0, false},
	} {
		c := CallContext{State: tc.state, ConsecutiveSuccesses: tc.successes, Metric: metricOf(tc.successes, 0, 0, nil)}
		assert.Equal(t, tc.want, rule.Trip(c), "%s after %d successes", tc.state, tc.successes)
	}
	rec := Closed().And(MinRequests(20).And(FailureRate(0.5))).Or(SuccessesToClose(5))
	assert.NoError(t, rec.validate())
	assert.True(t, rec.Trip(closedCtx(metricOf(20, 10, 0, nil))))
	assert.False(t, rec.Trip(closedCtx(metricOf(19, 19, 0, nil))))
	assert.True(t, rec.Trip(CallContext{State: sdk.StateHalfOpen, Metric: metricOf(40, 20, 0, nil), ConsecutiveSuccesses: 4}))
	assert.False(t, rec.Trip(CallContext{State: sdk.StateHalfOpen, Metric: metricOf(40, 20, 0, nil), ConsecutiveSuccesses: 5}))
}
