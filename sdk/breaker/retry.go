package breaker

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Retry decides when an open breaker lets a call through to half-open. It
// is evaluated lazily, on each call that arrives while the breaker is open:
// there is no timer, so [Breaker.State] reports [sdk.StateOpen] until a
// call arrives after the delay. Build one with [Always], [Never],
// [Cooldown], [Backoff] or [RetryFunc] and pass it to [WithRetry]; the zero
// Retry is invalid, and [New] reports it.
//
// Jitter is re-sampled on every evaluation, as in fluxgate: inside the
// jitter band, the more calls arrive, the sooner one gets through. A
// jittered or Backoff delay is computed and compared as fluxgate does, in
// float64 seconds (see [Cooldown] and [Backoff]), so that a call that
// arrives exactly on it is decided the same way. Before
// the band's lower edge, delay × (1 − jitter), no draw can let a call
// through, so the breaker refuses those calls without asking the policy
// (and without its lock), as it does before an unjittered delay.
type Retry struct {
	kind    retryKind
	initial time.Duration
	max     time.Duration
	mult    float64
	jitter  float64
	fn      func(openFor time.Duration, reopens int) bool
	desc    string
	err     error
}

type retryKind uint8

const (
	retryUnset retryKind = iota
	retryAlways
	retryNever
	retryCooldown
	retryBackoff
	retryFunc
)

// Always lets the first call after opening through. It invites a
// thundering herd; prefer [Cooldown] or [Backoff].
func Always() Retry { return Retry{kind: retryAlways, desc: "Always()"} }

// Never keeps the breaker open until a manual command ([Breaker.Reset],
// ...).
func Never() Retry { return Retry{kind: retryNever, desc: "Never()"} }

// Cooldown lets a call through once the breaker has been open for d,
// scaled by a random factor in [1-jitter, 1+jitter] drawn from the
// breaker's random source ([WithRand]), computed and compared as fluxgate
// does: elapsed >= d × (1 + (−jitter + 2·jitter·u)), where elapsed and d
// are float64 seconds (for durations under 2^53 ns, about 104 days, the
// float64 nearest to their exact value in seconds). Without jitter the
// comparison is that of the two durations. d must be greater than zero and
// jitter in [0, 1). The breaker's default retry is Cooldown(60*time.Second,
// 0).
func Cooldown(d time.Duration, jitter float64) Retry {
	r := Retry{kind: retryCooldown, initial: d, max: d, jitter: jitter, desc: fmt.Sprintf("Cooldown(%s, %s)", d, fmtFloat(jitter))}
	var errs []error
	if d <= 0 {
		errs = append(errs, errors.New(r.desc+": duration must be greater than zero"))
	}
	errs = append(errs, checkJitter(r.desc, jitter))
	r.err = errors.Join(errs...)
	return r
}

// Backoff waits initial×multiplier^reopens, at most max, where reopens is
// the number of half-open→open transitions since the breaker last closed
// ([Info].Reopens); the wait is scaled by a random factor in
// [1-jitter, 1+jitter], as for [Cooldown]. As in fluxgate, the wait is
// computed and compared in float64 seconds, min(initial ×
// multiplier^reopens, max), so that a call that arrives exactly on it is
// decided the same way (100ms × 3 is 0.30000000000000004 s there: a call
// after exactly 300ms is refused). For
// example Backoff(10*time.Second, 2, 5*time.Minute, 0.1) waits about 10s,
// 20s, 40s, 80s, 160s, then 300s. initial must be greater than zero,
// multiplier greater than 1, max at least initial, jitter in [0, 1).
func Backoff(initial time.Duration, multiplier float64, max time.Duration, jitter float64) Retry {
	r := Retry{kind: retryBackoff, initial: initial, mult: multiplier, max: max, jitter: jitter,
		desc: fmt.Sprintf("Backoff(%s, %s, %s, %s)", initial, fmtFloat(multiplier), max, fmtFloat(jitter))}
	var errs []error
	if initial <= 0 {
		errs = append(errs, errors.New(r.desc+": initial duration must be greater than zero"))
	}
	if !(multiplier > 1) {
		errs = append(errs, errors.New(r.desc+": multiplier must be greater than 1.0"))
	}
	if max < initial {
		errs = append(errs, errors.New(r.desc+": max duration must be >= initial duration"))
	}
	errs = append(errs, checkJitter(r.desc, jitter))
	r.err = errors.Join(errs...)
	return r
}

// RetryFunc makes a Retry of fn, which receives how long the breaker has
// been open and the number of re-openings since it last closed
// ([Info].Reopens). fn is called under the breaker's lock, on every call
// that arrives while the breaker is open, and must not call the breaker.
func RetryFunc(fn func(openFor time.Duration, reopens int) bool) Retry {
	r := Retry{kind: retryFunc, fn: fn, desc: "RetryFunc"}
	if fn == nil {
		r.err = errors.New("RetryFunc: func must not be nil")
	}
	return r
}

func checkJitter(desc string, j float64) error {
	if !(j >= 0 && j < 1) {
		return errors.New(desc + ": jitter ratio must be between 0.0 and 1.0")
	}
	return nil
}

// String describes the retry, e.g. "Cooldown(1m0s, 0)".
func (r Retry) String() string {
	if r.kind == retryUnset {
		return "Retry(unset)"
	}
	return r.desc
}

func (r Retry) validate() error {
	if r.kind == retryUnset {
		return errors.New("retry is unset: use Always, Never, Cooldown, Backoff or RetryFunc")
	}
	return r.err
}

// Delay returns the nominal wait before the breaker, open after reopens
// re-openings, lets a call through, without jitter: 0 for [Always], -1 for
// [Never] and [RetryFunc] (no estimate). It is what
// [NotPermittedError.RetryAt] is computed from.
func (r Retry) Delay(reopens int) time.Duration {
	switch r.kind {
	case retryAlways:
		return 0
	case retryCooldown:
		return r.initial
	case retryBackoff:
		d := float64(r.initial) * math.Pow(r.mult, float64(reopens))
		if d >= float64(r.max) || math.IsInf(d, 0) || math.IsNaN(d) {
			return r.max
		}
		return time.Duration(d)
	}
	return -1
}

// minDelay returns how long a breaker open after reopens re-openings
// certainly stays open: ready is false for any openFor shorter than that,
// whatever the random source returns, so the breaker refuses those calls
// without its lock and without a draw. It is the delay itself without
// jitter, and the lower edge of the jitter band, delay × (1 − jitter),
// with it (Backoff's delay is capped at max first, as ready caps it); 0
// when there is no such bound without asking the policy (Always,
// RetryFunc), and math.MaxInt64 for Never.
func (r Retry) minDelay(reopens int) time.Duration {
	switch r.kind {
	case retryNever:
		return math.MaxInt64
	case retryCooldown:
		if r.jitter == 0 {
			return r.initial
		}
		return lowerBound(jittered(r.delaySeconds(reopens), r.jitter, 0))
	case retryBackoff:
		t := r.delaySeconds(reopens)
		if r.jitter > 0 {
			t = jittered(t, r.jitter, 0)
		}
		return lowerBound(t)
	}
	return 0
}

// delaySeconds is the delay fluxgate compares the time open with, before
// jitter, in float64 seconds: d for Cooldown, and for Backoff
// min(initial × multiplier^reopens, max), in fluxgate's order. An
// overflowing power is capped at max (Python raises OverflowError).
func (r Retry) delaySeconds(reopens int) float64 {
	if r.kind != retryBackoff {
		return seconds(r.initial)
	}
	d := seconds(r.initial) * math.Pow(r.mult, float64(reopens))
	if m := seconds(r.max); !(d < m) { // also Inf and NaN
		return m
	}
	return d
}

// seconds is d in float64 seconds, as fluxgate holds durations and
// elapsed times: d / 1e9 rounds once, so for durations under 2^53 ns it is
// the float64 nearest to d's exact value in seconds, the value a fluxgate
// user's literal (0.5, 60.0, 0.5378) has. It never decreases as d grows.
func seconds(d time.Duration) float64 { return float64(d) / 1e9 }

// jittered is fluxgate's jittered delay, d × (1 + (−jitter + 2·jitter·u)),
// for a delay d in seconds (see delaySeconds), computed in fluxgate's
// order (Python's random.uniform(−j, j) is −j + 2j·u) and in fluxgate's
// unit, float64 seconds, so that ties decide the same way: the same
// product in nanoseconds rounds differently (500ms × (1 + (−0.1 +
// 0.2×0.878)) is 0.5378000000000001 s but exactly 537,800,000 ns). The
// conversions keep the compiler from fusing a multiply and an add, which
// would round differently. It grows with u: u = 0 gives the band's lower
// edge.
func jittered(d, jitter, u float64) float64 {
	f := float64(-jitter + float64(2*jitter*u))
	return d * float64(1+f)
}

// lowerBound returns the smallest duration L with seconds(L) >= t, a
// threshold in seconds, or math.MaxInt64 if there is none: every duration
// shorter than L compares below t. seconds never decreases, so a binary
// search over all durations finds it (63 steps, once per opening).
func lowerBound(t float64) time.Duration {
	if !(t > 0) {
		return 0
	}
	lo, hi := time.Duration(0), time.Duration(math.MaxInt64) // seconds(lo) < t
	if seconds(hi) < t {
		return hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if seconds(mid) >= t {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// ready reports whether a breaker open for openFor, after reopens
// re-openings, lets a call through. rnd returns values in [0, 1).
func (r Retry) ready(openFor time.Duration, reopens int, rnd func() float64) bool {
	switch r.kind {
	case retryAlways:
		return true
	case retryCooldown, retryBackoff:
		if r.jitter == 0 && r.kind == retryCooldown {
			return openFor >= r.initial // as in seconds for any delay under 2^53 ns, without the conversions
		}
		t := r.delaySeconds(reopens)
		if r.jitter > 0 {
			t = jittered(t, r.jitter, rnd())
		}
		return seconds(openFor) >= t
	case retryFunc:
		return r.fn(openFor, reopens)
	}
	return false
}
