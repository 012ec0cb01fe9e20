package breaker

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// enforceAll is the enforcement of a breaker that refuses every call it
// would refuse: 1, as float64 bits (math.Float64bits(1)); a constant, so
// the refusal path compares with an immediate.
const enforceAll uint64 = 0x3ff0000000000000

// WithEnforcement sets the fraction of the calls the breaker would refuse
// that it does refuse, from 0 to 1. The rest run as if the breaker were
// closed, but contribute nothing to its state (see [Breaker.SetEnforcement]).
// 0 is shadow mode: the breaker runs its whole state machine and reports
// what it would refuse, and refuses nothing. An operator's [Breaker.ForceOpen]
// is always enforced. Default: 1, every would-be refusal is enforced.
//
// For a [Group], the enforcement applies to every key; [Group.SetEnforcement]
// changes it for every key at once.
func WithEnforcement(f float64) Option {
	return optionFunc(func(c *config) { c.enforcement = f })
}

// Enforcement returns the fraction of would-be refusals the breaker
// enforces (see [WithEnforcement]).
func (b *Breaker) Enforcement() float64 {
	b.mustBeBuilt()
	return math.Float64frombits(b.enforcement.Load())
}

// SetEnforcement changes, at run time, the fraction of the calls the
// breaker would refuse that it does refuse: 1 refuses them all (the
// default), 0 refuses none (shadow mode), and a fraction in between
// refuses each such call with that probability. f must be from 0 to 1; an
// invalid f changes nothing and gets a [*ConfigError].
//
// A call the breaker would refuse (open and its retry policy says not yet,
// half-open beyond [WithMaxHalfOpenCalls] or refused by the [Permit]) and
// lets through runs as usual but contributes nothing to the breaker's
// state: its outcome is not recorded, it holds no half-open slot and it
// makes no transition. So a breaker in shadow mode makes exactly the
// transitions an enforcing breaker makes when fed the same recorded
// outcomes. Its hooks see it ([sdk.CallEnd.WouldReject]; otelbridge marks
// its span and its circuit_breaker.calls measurement with
// circuit_breaker.would_reject). A call that would wait for a half-open
// slot and is let through does not wait. Calls refused in forced_open
// (an operator's command) are always refused.
//
// With enforcement 1 the refusal path is what it is without this feature:
// one more atomic load, no lock, no random draw. Below 1, each would-be
// refusal draws one random number (the WithRand source under the lock, if
// one was given; math/rand/v2 otherwise).
//
// SetEnforcement is safe for concurrent use; it is reported to the
// Reconfigured hooks like [Breaker.Reconfigure].
func (b *Breaker) SetEnforcement(f float64) error {
	return b.Reconfigure(context.Background(), WithEnforcement(f))
}

// drawn is what the enforcement drew for one call.
type drawn uint8

const (
	notDrawn    drawn = iota // no draw yet
	drawRefused              // drawn: the would-be refusal is enforced
	drawLetOn                // drawn: the call the breaker would refuse runs (WouldReject)
)

// enforced reports whether the enforcement was drawn for the call.
func (t *ticket) enforced() bool { return t.drawn != notDrawn }

// wouldReject reports whether the call runs although the breaker would
// have refused it.
func (t *ticket) wouldReject() bool { return t.drawn == drawLetOn }

// shadow decides whether the call t, which the breaker refuses with err,
// is refused: it returns err, or nil when the enforcement lets the call
// through (t.wouldReject() then reports it).
func (b *Breaker) shadow(t *ticket, err error) error {
	np, ok := err.(NotPermittedError)
	if !ok || np.r == nil || np.r.cause != nil {
		return err // not a refusal the enforcement applies to (a caller that gave up waiting)
	}
	if b.enforce(t) {
		return err
	}
	return nil
}

// enforce draws, once per call, whether a would-be refusal of the call t
// is enforced, and marks t. b.mu is not held.
func (b *Breaker) enforce(t *ticket) bool {
	t.drawn = drawRefused
	f := math.Float64frombits(b.enforcement.Load())
	switch {
	case f >= 1:
		return true
	case f > 0 && b.draw() < f:
		return true
	}
	t.drawn, t.record, t.slot, t.slotLater = drawLetOn, false, false, false
	return false
}

// draw returns a uniform random number in [0, 1): from the WithRand source,
// under the lock, when the breaker has one.
func (b *Breaker) draw() float64 {
	s := b.conf()
	if !s.cfgRand {
		return rand.Float64()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conf().rand()
}

// validEnforcement reports a problem with an enforcement f.
func validEnforcement(f float64) error {
	if !(f >= 0 && f <= 1) {
		return fmt.Errorf("WithEnforcement(%s): must be from 0 to 1", fmtFloat(f))
	}
	return nil
}
