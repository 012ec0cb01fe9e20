package breaker

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
