package breaker

import (
	"errors"
	"fmt"
	"time"
)

// Permit decides which calls a half-open breaker admits as probes. It is
// evaluated for every call that arrives while half-open and gets one of the
// breaker's half-open slots (see [WithMaxHalfOpenCalls]), including the
// call that finds the retry delay over and moves the breaker to half-open:
// under a plain permit that call runs only if the permit admits it, as in
// fluxgate, and is otherwise refused with the breaker left half-open.
// [AdmitFirst] makes a permit that always admits that call. A refused call
// gets a [NotPermittedError] and records nothing. Build one with [All],
// [Random], [RampUp], [PermitFunc] or [AdmitFirst] and pass it to
// [WithPermit]; the zero Permit is invalid, and [New] reports it.
type Permit struct {
	kind     permitKind
	first    bool // AdmitFirst: the call that moves the breaker to half-open is always admitted
	initial  float64
	final    float64
	duration time.Duration
	fn       func(halfOpenFor time.Duration) bool
	desc     string
	err      error
}

type permitKind uint8

const (
	permitUnset permitKind = iota
	permitAll
	permitRandom
	permitRampUp
	permitFunc
)

// All admits every probe (up to the half-open concurrency limit). fluxgate
// recommends it for tests; production services usually want [RampUp].
func All() Permit { return Permit{kind: permitAll, desc: "All()"} }

// Random admits each probe with probability ratio, in [0, 1]: 0 never
// admits, 1 always does. The draw comes from the breaker's random source
// ([WithRand]).
func Random(ratio float64) Permit {
	p := Permit{kind: permitRandom, final: ratio, desc: "Random(" + fmtFloat(ratio) + ")"}
	if !(ratio >= 0 && ratio <= 1) {
		p.err = errors.New(p.desc + ": ratio must be between 0.0 and 1.0")
	}
	return p
}

// RampUp admits each probe with a probability that grows linearly from
// initial, when the breaker becomes half-open, to final after d, and stays
// at final after that: initial + (final − initial) × (elapsed / d), in
// fluxgate's order (see [Permit.Ratio]). It needs 0 < initial <= final <= 1
// and d > 0. Plain RampUp is fluxgate's default permit: the call that ends
// the retry delay is admitted with probability initial. The breaker's
// default permit is AdmitFirst(RampUp(0.1, 1.0, 60*time.Second)) (see
// [AdmitFirst]).
func RampUp(initial, final float64, d time.Duration) Permit {
	p := Permit{kind: permitRampUp, initial: initial, final: final, duration: d,
		desc: fmt.Sprintf("RampUp(%s, %s, %s)", fmtFloat(initial), fmtFloat(final), d)}
	var errs []error
	if !(initial > 0 && initial <= final && final <= 1) {
		errs = append(errs, errors.New(p.desc+": initial must be > 0.0 and <= final, and final must be <= 1.0"))
	}
	if d <= 0 {
		errs = append(errs, errors.New(p.desc+": duration must be greater than zero"))
	}
	p.err = errors.Join(errs...)
	return p
}

// PermitFunc makes a Permit of fn, which receives how long the breaker has
// been half-open. fn is called under the breaker's lock and must not call
// the breaker.
func PermitFunc(fn func(halfOpenFor time.Duration) bool) Permit {
	p := Permit{kind: permitFunc, fn: fn, desc: "PermitFunc"}
	if fn == nil {
		p.err = errors.New("PermitFunc: func must not be nil")
	}
	return p
}

// AdmitFirst returns p, except that the call that finds the retry delay
// over, the one that moves the breaker to half-open, is always admitted as
// a probe, without asking p; p decides every later call of the half-open
// period. It is how the breaker's default permit,
// AdmitFirst(RampUp(0.1, 1.0, 60*time.Second)), makes sure that the first
// call after a cooldown tests the dependency, whereas a plain RampUp admits
// it only with probability 0.1. AdmitFirst(AdmitFirst(p)) is
// AdmitFirst(p).
func AdmitFirst(p Permit) Permit {
	if p.kind == permitUnset {
		return Permit{err: errors.New("AdmitFirst: permit is unset: use All, Random, RampUp or PermitFunc")}
	}
	if p.first {
		return p
	}
	p.first = true
	p.desc = "AdmitFirst(" + p.desc + ")"
	return p
}

// String describes the permit, e.g. "RampUp(0.1, 1, 1m0s)".
func (p Permit) String() string {
	if p.kind == permitUnset {
		return "Permit(unset)"
	}
	return p.desc
}

func (p Permit) validate() error {
	if p.kind == permitUnset && p.err == nil {
		return errors.New("permit is unset: use All, Random, RampUp or PermitFunc")
	}
	return p.err
}

// Ratio returns the probability with which the permit admits a probe after
// the breaker has been half-open for halfOpenFor; 1 for [All] and -1 for
// [PermitFunc] (unknown).
func (p Permit) Ratio(halfOpenFor time.Duration) float64 {
	switch p.kind {
	case permitAll:
		return 1
	case permitRandom:
		return p.final
	case permitRampUp:
		if halfOpenFor >= p.duration {
			return p.final
		}
		if halfOpenFor < 0 {
			halfOpenFor = 0
		}
		// fluxgate's order, initial + (final - initial) * (elapsed /
		// duration), so that ties decide the same way; the conversions
		// keep the compiler from fusing the multiply and the add.
		return float64(p.initial + float64((p.final-p.initial)*float64(float64(halfOpenFor)/float64(p.duration))))
	}
	return -1
}

// timed reports whether admit looks at halfOpenFor, so that the breaker
// reads the clock only then.
func (p Permit) timed() bool { return p.kind == permitRampUp || p.kind == permitFunc }

// admit reports whether a probe is admitted; rnd returns values in [0, 1).
func (p Permit) admit(halfOpenFor time.Duration, rnd func() float64) bool {
	switch p.kind {
	case permitAll:
		return true
	case permitFunc:
		return p.fn(halfOpenFor)
	case permitRandom, permitRampUp:
		return rnd() < p.Ratio(halfOpenFor)
	}
	return false
}
