package breaker

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

// Ports of fluxgate's tests/test_retries.py and tests/test_permits.py.

func fixed(v float64) func() float64 { return func() float64 { return v } }

func seeded() func() float64 { return rand.New(rand.NewPCG(1, 2)).Float64 }

func TestRetryValidation(t *testing.T) {
	for _, tc := range []struct {
		retry Retry
		msg   string
	}{
		{Cooldown(0, 0), "Cooldown(0s, 0): duration must be greater than zero"},
		{Cooldown(time.Second, -0.1), "Cooldown(1s, -0.1): jitter ratio must be between 0.0 and 1.0"},
		{Cooldown(time.Second, 1), "Cooldown(1s, 1): jitter ratio must be between 0.0 and 1.0"},
		{Backoff(0, 2, time.Second, 0), "Backoff(0s, 2, 1s, 0): initial duration must be greater than zero"},
		{Backoff(time.Second, 1, time.Minute, 0), "Backoff(1s, 1, 1m0s, 0): multiplier must be greater than 1.0"},
		{Backoff(time.Minute, 2, time.Second, 0), "Backoff(1m0s, 2, 1s, 0): max duration must be >= initial duration"},
		{Backoff(time.Second, 2, time.Minute, 1.5), "Backoff(1s, 2, 1m0s, 1.5): jitter ratio must be between 0.0 and 1.0"},
		{RetryFunc(nil), "RetryFunc: func must not be nil"},
		{Retry{}, "retry is unset: use Always, Never, Cooldown, Backoff or RetryFunc"},
	} {
		assert.EqualError(t, tc.retry.validate(), tc.msg)
	}
	err := Backoff(0, 0.5, -1, 2).validate()
	assert.ErrorContains(t, err, "initial duration")
	assert.ErrorContains(t, err, "multiplier")
	assert.ErrorContains(t, err, "jitter", "every problem is reported")
	assert.NoError(t, Always().validate())
	assert.NoError(t, Never().validate())
}

func TestAlwaysAndNever(t *testing.T) {
	for _, openFor := range []time.Duration{0, time.Second, time.Hour} {
		assert.True(t, Always().ready(openFor, 3, nil))
		assert.False(t, Never().ready(openFor, 3, nil))
	}
	assert.Equal(t, time.Duration(0), Always().Delay(5))
	assert.Equal(t, time.Duration(-1), Never().Delay(5))
}

func TestCooldown(t *testing.T) {
	c := Cooldown(5*time.Second, 0)
	assert.False(t, c.ready(0, 0, nil))
	assert.False(t, c.ready(3*time.Second, 0, nil))
	assert.True(t, c.ready(5*time.Second, 0, nil), ">=")
	assert.True(t, c.ready(5100*time.Millisecond, 0, nil))
	assert.Equal(t, 5*time.Second, c.Delay(7), "reopens do not matter")
}

func TestCooldownJitterIsResampledPerEvaluation(t *testing.T) {
	c := Cooldown(5*time.Second, 0.2)
	rnd := seeded()
	passed := 0
	for range 100 {
		if c.ready(5*time.Second, 0, rnd) {
			passed++
		}
	}
	assert.Greater(t, passed, 20)
	assert.Less(t, passed, 80, "mixed results at exactly the nominal delay")
	// The band: factor 1 + 0.2*(2r-1).
	assert.True(t, c.ready(4*time.Second, 0, fixed(0)), "r=0: 0.8 × 5s = 4s")
	assert.False(t, c.ready(5900*time.Millisecond, 0, fixed(0.99999)))
	assert.True(t, c.ready(6*time.Second, 0, fixed(0.99999)))
}

func TestBackoff(t *testing.T) {
	b := Backoff(2*time.Second, 2, 100*time.Second, 0)
	for reopens, d := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		assert.True(t, b.ready(d+100*time.Millisecond, reopens, nil))
		assert.False(t, b.ready(d-100*time.Millisecond, reopens, nil))
		assert.Equal(t, d, b.Delay(reopens))
	}
	capped := Backoff(10*time.Second, 2, 30*time.Second, 0)
	assert.Equal(t, 10*time.Second, capped.Delay(0))
	assert.Equal(t, 20*time.Second, capped.Delay(1))
	for _, reopens := range []int{2, 10, 10000} {
		assert.True(t, capped.ready(30100*time.Millisecond, reopens, nil))
		assert.False(t, capped.ready(29900*time.Millisecond, reopens, nil))
		assert.Equal(t, 30*time.Second, capped.Delay(reopens), "no overflow at %d reopens", reopens)
	}
}

func TestBackoffJitter(t *testing.T) {
	b := Backoff(5*time.Second, 2, time.Minute, 0.2)
	rnd := seeded()
	passed := 0
	for range 100 {
		if b.ready(5*time.Second, 0, rnd) {
			passed++
		}
	}
	assert.Greater(t, passed, 20)
	assert.Less(t, passed, 80)
}

func TestRetryFunc(t *testing.T) {
	var gotFor time.Duration
	var gotReopens int
	r := RetryFunc(func(openFor time.Duration, reopens int) bool { gotFor, gotReopens = openFor, reopens; return true })
	assert.True(t, r.ready(3*time.Second, 2, nil))
	assert.Equal(t, 3*time.Second, gotFor)
	assert.Equal(t, 2, gotReopens)
	assert.Equal(t, time.Duration(-1), r.Delay(0))
}

func TestPermitValidation(t *testing.T) {
	for _, tc := range []struct {
		permit Permit
		msg    string
	}{
		{Random(-0.1), "Random(-0.1): ratio must be between 0.0 and 1.0"},
		{Random(1.5), "Random(1.5): ratio must be between 0.0 and 1.0"},
		{RampUp(-0.1, 1, time.Second), "RampUp(-0.1, 1, 1s): initial must be > 0.0 and <= final, and final must be <= 1.0"},
		{RampUp(0.1, 1.5, time.Second), "RampUp(0.1, 1.5, 1s): initial must be > 0.0 and <= final, and final must be <= 1.0"},
		{RampUp(0.5, 0.4, time.Second), "RampUp(0.5, 0.4, 1s): initial must be > 0.0 and <= final, and final must be <= 1.0"},
		{RampUp(0, 1, 60*time.Second), "RampUp(0, 1, 1m0s): initial must be > 0.0 and <= final, and final must be <= 1.0"},
		{RampUp(0.1, 1, 0), "RampUp(0.1, 1, 0s): duration must be greater than zero"},
		{PermitFunc(nil), "PermitFunc: func must not be nil"},
		{Permit{}, "permit is unset: use All, Random, RampUp or PermitFunc"},
	} {
		assert.EqualError(t, tc.permit.validate(), tc.msg)
	}
	assert.NoError(t, Random(0).validate())
	assert.NoError(t, Random(1).validate())
}

func countAdmitted(p Permit, halfOpenFor time.Duration, n int) int {
	rnd := seeded()
	c := 0
	for range n {
		if p.admit(halfOpenFor, rnd) {
			c++
		}
	}
	return c
}

func TestRandomPermit(t *testing.T) {
	passed := countAdmitted(Random(0.5), 0, 1000)
	assert.True(t, passed >= 450 && passed <= 550, "passed %d", passed)
	assert.Equal(t, 0, countAdmitted(Random(0), 0, 1000))
	assert.Equal(t, 1000, countAdmitted(Random(1), 0, 1000))
	assert.False(t, Random(0).admit(0, fixed(0)), "random() < 0 is never true")
	assert.True(t, Random(1).admit(0, fixed(0.9999999)))
}

func TestRampUpPermit(t *testing.T) {
	for _, tc := range []struct {
		permit   Permit
		at       time.Duration
		min, max int
	}{
		{RampUp(0.1, 0.8, 10*time.Second), 0, 50, 150},
		{RampUp(0.01, 1.0, 10*time.Second), 5 * time.Second, 400, 600},
		{RampUp(0.1, 0.9, 10*time.Second), 15 * time.Second, 850, 950},
	} {
		passed := countAdmitted(tc.permit, tc.at, 1000)
		assert.True(t, passed >= tc.min && passed <= tc.max, "%s at %s: %d", tc.permit, tc.at, passed)
	}
	p := RampUp(0.1, 0.8, 60*time.Second)
	for at, want := range map[time.Duration]float64{0: 0.1, 15 * time.Second: 0.275, 30 * time.Second: 0.45, 60 * time.Second: 0.8, time.Hour: 0.8, -time.Second: 0.1} {
		assert.InDelta(t, want, p.Ratio(at), 1e-12, "at %s", at)
	}
	assert.Equal(t, 1.0, All().Ratio(0))
	assert.True(t, All().admit(0, nil))
}

func TestPermitFunc(t *testing.T) {
	p := PermitFunc(func(halfOpenFor time.Duration) bool { return halfOpenFor > time.Second })
	assert.False(t, p.admit(time.Second, nil))
	assert.True(t, p.admit(2*time.Second, nil))
	assert.Equal(t, -1.0, p.Ratio(0))
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "Cooldown(1m0s, 0)", Cooldown(time.Minute, 0).String())
	assert.Equal(t, "Backoff(10s, 2, 5m0s, 0.1)", Backoff(10*time.Second, 2, 5*time.Minute, 0.1).String())
	assert.Equal(t, "RampUp(0.1, 1, 1m0s)", RampUp(0.1, 1, time.Minute).String())
	assert.Equal(t, "Random(0.3)", Random(0.3).String())
	assert.Equal(t, "All()", All().String())
	assert.Equal(t, "Retry(unset)", Retry{}.String())
	assert.Equal(t, "Permit(unset)", Permit{}.String())
	assert.Equal(t, "CountWindow(100)", CountWindow(100).String())
	assert.Equal(t, "TimeWindow(1m0s)", TimeWindow(time.Minute).String())
	assert.Equal(t, "Window(unset)", Window{}.String())
}

// Before the lower edge of the jitter band no draw can let a call through,
// so minDelay is that edge: the breaker then refuses without its lock and
// without a draw, as it does without jitter.
func TestMinDelayIsTheJitterBandsLowerEdge(t *testing.T) {
	for _, tc := range []struct {
		retry   Retry
		reopens int
		want    time.Duration
	}{
		{Cooldown(time.Hour, 0), 0, time.Hour},
		{Cooldown(time.Hour, 0.1), 0, 54 * time.Minute},
		{Cooldown(10*time.Second, 0.5), 3, 5 * time.Second},
		{Backoff(10*time.Second, 2, time.Minute, 0.25), 0, 7500 * time.Millisecond},
		{Backoff(10*time.Second, 2, time.Minute, 0.25), 1, 15 * time.Second},
		{Backoff(10*time.Second, 2, time.Minute, 0.25), 9, 45 * time.Second}, // capped at max first
		{Backoff(time.Second, 3, 1000*time.Hour, 0.5), 1000, 500 * time.Hour},
		{Never(), 0, math.MaxInt64},
		{Always(), 0, 0},
		{RetryFunc(func(time.Duration, int) bool { return false }), 0, 0},
	} {
		assert.Equal(t, tc.want, tc.retry.minDelay(tc.reopens), "%s after %d reopens", tc.retry, tc.reopens)
	}
}

// The bound is exact: one nanosecond before it no draw admits, at it the
// smallest draw (0) does; checked over many delays, jitters and reopens,
// including Backoff's cap and delays beyond 2^53 ns.
func TestMinDelayIsExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	retries := []Retry{Cooldown(time.Hour, 0.1)}
	for range 2000 {
		d := time.Duration(1 + rnd.Int64N(int64(400*24*time.Hour)))
		j := rnd.Float64() * 0.999
		if rnd.IntN(2) == 0 {
			retries = append(retries, Cooldown(d, j))
		} else {
			retries = append(retries, Backoff(d, 1+rnd.Float64()*3, d+time.Duration(rnd.Int64N(int64(d)+1)), j))
		}
	}
	for _, r := range retries {
		for _, reopens := range []int{0, 1, 5, 40} {
			lo := r.minDelay(reopens)
			require.Positive(t, lo, "%s", r)
			for _, u := range []float64{0, 1e-12, 0.5, 0.999999} {
				assert.False(t, r.ready(lo-1, reopens, fixed(u)), "%s, %d reopens: %s is below the band (u=%v)", r, reopens, lo-1, u)
			}
			if lo < 1<<53 {
				assert.True(t, r.ready(lo, reopens, fixed(0)), "%s, %d reopens: %s is the band's lower edge", r, reopens, lo)
			}
		}
	}
}

// fluxgate computes a jittered delay as delay * (1 + (-jitter + 2*jitter*u))
// in float64 seconds; the same order decides ties the same way. The
// expectations are what Python computes; the first two cases decide the
// other way with delay * (1 + jitter*(2u-1)).
func TestJitterFloatOrderIsFluxgates(t *testing.T) {
	assert.False(t, Cooldown(10*time.Second, 0.1).ready(9200*time.Millisecond, 0, fixed(0.1)),
		"10 * (1 + (-0.1 + 0.2*0.1)) is 9.200000000000001 in Python")
	assert.True(t, Cooldown(10*time.Second, 0.3).ready(7108*time.Millisecond, 0, fixed(0.018)),
		"10 * (1 + (-0.3 + 0.6*0.018)) is 7.108 in Python")
	assert.True(t, Cooldown(43*time.Second, 0.3).ready(48676*time.Millisecond, 0, fixed(0.72)),
		"43 * (1 + (-0.3 + 0.6*0.72)) is 48.676 in Python")
	assert.True(t, Cooldown(10*time.Second, 0.3).ready(12448*time.Millisecond, 0, fixed(0.908)),
		"10 * (1 + (-0.3 + 0.6*0.908)) is 12.447999999999999 in Python")
	assert.True(t, Backoff(5*time.Second, 2, time.Minute, 0.3).ready(12448*time.Millisecond, 1, fixed(0.908)),
		"Backoff's jitter is the same formula")
}

// A breaker open with a jittered cooldown refuses calls before the band's
// lower edge without drawing a random number.
func TestJitteredCooldownRefusesWithoutDrawing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		draws := 0
		b, err := New("jitter",
			WithTripper(FailureStreak(1)),
			WithRetry(Cooldown(time.Hour, 0.1)),
			WithPermit(All()),
			WithRand(func() float64 { draws++; return 0 }),
		)
		require.NoError(t, err)
		boom := errors.New("boom")
		require.ErrorIs(t, b.Do(context.Background(), func(context.Context) error { return boom }), boom)
		require.Equal(t, sdk.StateOpen, b.State())
		for range 100 {
			require.ErrorIs(t, b.Do(context.Background(), func(context.Context) error { return nil }), ErrNotPermitted)
		}
		time.Sleep(54*time.Minute - time.Nanosecond)
		require.ErrorIs(t, b.Do(context.Background(), func(context.Context) error { return nil }), ErrNotPermitted)
		assert.Zero(t, draws, "no draw before 54 minutes")
		time.Sleep(time.Nanosecond)
		require.NoError(t, b.Do(context.Background(), func(context.Context) error { return nil }), "u = 0 admits at the band's edge")
		assert.Equal(t, 1, draws)
	})
}

// fluxgate computes RampUp's ratio as initial + (final - initial) *
// (elapsed / duration); the same order decides ties the same way. Both
// cases below decide the other way with ((final - initial) * elapsed) /
// duration.
func TestRampUpFloatOrderIsFluxgates(t *testing.T) {
	p := RampUp(0.3, 0.9, 40*time.Second)
	assert.Equal(t, 0.442965, p.Ratio(9531*time.Millisecond))
	assert.False(t, p.admit(9531*time.Millisecond, fixed(0.442965)), "random() < ratio is false at the ratio itself")
	q := RampUp(0.5, 0.9, 16*time.Second)
	assert.Equal(t, 0.849025, q.Ratio(13961*time.Millisecond))
	assert.True(t, q.admit(13961*time.Millisecond, fixed(0.8490249999999999)))
}

// The zero Window, Retry and Permit are reported by New (TestNewRejects);
// their exported methods work, and nothing dereferences nil.
func TestZeroComponentValues(t *testing.T) {
	assert.Equal(t, time.Duration(-1), Retry{}.Delay(0), "no estimate")
	assert.Zero(t, Retry{}.minDelay(0))
	assert.False(t, Retry{}.ready(time.Hour, 0, fixed(0)))
	assert.Equal(t, -1.0, Permit{}.Ratio(0))
	assert.False(t, Permit{}.admit(0, fixed(0)))
	assert.False(t, Permit{}.timed())
	assert.PanicsWithValue(t, "breaker: the zero Window has no storage: use CountWindow or TimeWindow (New reports it)",
		func() { Window{}.newWindow(nil, t0, false) })
	for _, w := range []Window{{}, CountWindow(1)} {
		_, err := New("zero", WithWindow(w), WithRetry(Retry{}), WithPermit(Permit{}))
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		assert.ErrorContains(t, err, "retry is unset: use Always, Never, Cooldown, Backoff or RetryFunc")
		assert.ErrorContains(t, err, "permit is unset: use All, Random, RampUp or PermitFunc")
	}
}

// fluxgate compares seconds: elapsed >= duration × (1 + U(−j, j)), in
// float64 seconds. 500ms × (1 + (−0.1 + 0.2×0.878)) is 0.5378000000000001
// s there, so a call at exactly 537.8ms is refused; the same product in
// nanoseconds rounds to exactly 537,800,000, which would admit it.
func TestJitterTieIsDecidedInSeconds(t *testing.T) {
	for _, r := range []Retry{Cooldown(500*time.Millisecond, 0.1), Backoff(500*time.Millisecond, 2, time.Minute, 0.1)} {
		assert.False(t, r.ready(537800*time.Microsecond, 0, fixed(0.878)), "%s: 0.5378 < 0.5378000000000001", r)
		assert.True(t, r.ready(537800*time.Microsecond+time.Nanosecond, 0, fixed(0.878)), "%s: one nanosecond later", r)
	}
	assert.False(t, Cooldown(500*time.Millisecond, 0.1).ready(456400*time.Microsecond, 0, fixed(0.064)),
		"0.4564 < 0.45640000000000003")
	assert.False(t, Backoff(250*time.Millisecond, 2, time.Minute, 0.1).ready(537800*time.Microsecond, 1, fixed(0.878)),
		"Backoff's delay after one re-opening is 0.5s, and the tie is decided the same way")
}

// A breaker open with Cooldown(500ms, 0.1) and the draw 0.878 refuses a call
// at exactly 537.8ms, as fluxgate does, and admits one a nanosecond later.
func TestJitterTieInABreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := New("tie",
			WithTripper(FailureStreak(1)),
			WithRetry(Cooldown(500*time.Millisecond, 0.1)),
			WithPermit(All()),
			WithRand(fixed(0.878)),
		)
		require.NoError(t, err)
		ok := func(context.Context) error { return nil }
		require.Error(t, b.Do(context.Background(), func(context.Context) error { return errors.New("boom") }))
		require.Equal(t, sdk.StateOpen, b.State())
		time.Sleep(537800 * time.Microsecond)
		require.ErrorIs(t, b.Do(context.Background(), ok), ErrNotPermitted, "at the tie")
		time.Sleep(time.Nanosecond)
		require.NoError(t, b.Do(context.Background(), ok), "a nanosecond later")
	})
}

// fluxgate's Backoff delay is min(initial × multiplier^reopens, max) in
// float64 seconds: 0.1 × 3 is 0.30000000000000004 there, so a call at
// exactly 300ms after one re-opening is refused, with or without jitter.
func TestBackoffTieIsDecidedInSeconds(t *testing.T) {
	r := Backoff(100*time.Millisecond, 3, time.Minute, 0)
	assert.False(t, r.ready(300*time.Millisecond, 1, fixed(0)), "0.3 < 0.30000000000000004")
	assert.True(t, r.ready(300*time.Millisecond+time.Nanosecond, 1, fixed(0)))
	assert.Equal(t, 300*time.Millisecond+time.Nanosecond, r.minDelay(1), "the lock-free bound agrees")
	assert.False(t, Backoff(100*time.Millisecond, 1.1, time.Minute, 0).ready(121*time.Millisecond, 2, fixed(0)),
		"0.121 < 0.12100000000000002")
	assert.True(t, Backoff(100*time.Millisecond, 3, 300*time.Millisecond, 0).ready(300*time.Millisecond, 1, fixed(0)),
		"capped at max, 0.3")
	assert.Equal(t, 300*time.Millisecond, r.Delay(1), "the nominal delay, for RetryAt, is unchanged")
}
