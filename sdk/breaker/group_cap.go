package breaker

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// DefaultMaxOpenFraction is the cap on open keys of a [Group] built
// without [WithMaxOpenFraction]: 1, no cap.
const DefaultMaxOpenFraction = 1.0

// WithMaxOpenFraction caps the share of a [Group]'s keys that may be open at
// once, in the spirit of Envoy's max_ejection_percent: at most
// max(1, ⌊f × keys⌋) keys are open, half-open or forced open at a time,
// where keys is the number of keys with a breaker of their own
// ([Group.Len]). A key whose tripper fires while the group is at the cap
// stays closed: its window keeps its failures, and it opens on a later
// outcome once another key has closed and made room (if its tripper still
// fires then). Each such refused trip is reported to the TripCapped hooks
// ([sdk.TripCapped]; otelbridge counts circuit_breaker.trips_capped and
// adds a circuit_breaker.trip_capped event to the span of the call whose
// outcome fired the tripper). f must be greater than 0 and at most 1.
//
// What counts: open and half-open keys (a half-open key has not recovered
// yet, and its re-opening is never capped), forced-open keys (the cap
// bounds how many keys are cut off; [Group.ForceOpen] itself is never
// capped, so forced-open keys may fill the cap), and the overflow breaker
// when it is open (it counts toward the open keys, not toward keys).
// Only the trip of a closed key (closed → open) is ever refused. Lowering
// the cap at run time ([Group.Reconfigure]) closes no key: trips are
// refused until enough keys have closed.
//
// Default: [DefaultMaxOpenFraction] (1, no cap). A Group is usually keyed
// by host, tenant or route, where a caller has nowhere else to send a
// key's calls: capping then keeps sending calls to a dependency that fails
// them, so the cap is opt-in. It fits where callers can fail over (a
// load balancer choosing among the keys) and a shared fault (a bad
// deploy of the caller, a network partition) must not cut off most of the
// keys at once: there Envoy's 10% is a reasonable start.
//
// WithMaxOpenFraction is an option of [NewGroup] (and of
// [Group.Reconfigure]) only: [New] reports it as an invalid configuration.
func WithMaxOpenFraction(f float64) Option {
	desc := fmt.Sprintf("WithMaxOpenFraction(%s)", fmtFloat(f))
	return groupOption{desc: desc, set: func(g *groupConfig) {
		if !(f > 0 && f <= 1) {
			g.errs = append(g.errs, fmt.Errorf("%s: must be greater than 0 and at most 1", desc))
			return
		}
		g.maxOpen = f
	}}
}

// openCap is a Group's count of open keys and its cap. Breakers update it
// under their own lock at every transition; the group sets keys under its
// lock. Nothing here is read on a call's hot path.
type openCap struct {
	fraction atomic.Uint64 // float64 bits of the WithMaxOpenFraction fraction
	keys     atomic.Int64  // keys with a breaker of their own
	open     atomic.Int64  // breakers in open, half_open or forced_open
	capped   atomic.Int64  // trips refused, ever
}

// countsOpen reports whether a breaker in st counts against the cap.
func countsOpen(st sdk.State) bool {
	return st == sdk.StateOpen || st == sdk.StateHalfOpen || st == sdk.StateForcedOpen
}

// limit is the number of keys that may be open at once.
func (c *openCap) limit() int64 {
	f := math.Float64frombits(c.fraction.Load())
	if f >= 1 {
		return math.MaxInt64
	}
	// The epsilon keeps 0.29 × 100 at 29.
	return max(1, int64(math.Floor(f*float64(c.keys.Load())+1e-9)))
}

// tryOpen reserves room for a closed breaker that trips. It fails when
// the group is at its cap.
func (c *openCap) tryOpen() bool {
	for {
		n := c.open.Load()
		if n >= c.limit() {
			c.capped.Add(1)
			return false
		}
		if c.open.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// moved counts a transition; a trip's room was reserved by tryOpen.
func (c *openCap) moved(from, to sdk.State, reason sdk.Reason) {
	switch was, is := countsOpen(from), countsOpen(to); {
	case was && !is:
		c.open.Add(-1)
	case !was && is && reason != sdk.ReasonTripped:
		c.open.Add(1)
	}
}

// leaveCap forgets a breaker the group no longer holds (evicted, or the
// group closed); b.mu is not held.
func (b *Breaker) leaveCap() {
	b.mu.Lock()
	if c := b.cap; c != nil {
		if countsOpen(b.state()) {
			c.open.Add(-1)
		}
		b.cap = nil
	}
	b.mu.Unlock()
}

// cappedLocked reports a trip the cap refused, for the call t whose
// outcome fired the tripper (c: its window); b.mu is held. The TripCapped
// hooks run when the call ends (see Breaker.tripCapped).
func (b *Breaker) cappedLocked(t *ticket, c *CallContext, now time.Time) {
	if len(b.conf().hooks.tripCapped) == 0 {
		return
	}
	if now.IsZero() {
		now = time.Now()
	}
	t.capped = &sdk.TripCapped{Name: b.name, Key: b.key, Open: int(b.cap.open.Load()), Limit: int(min(b.cap.limit(), math.MaxInt)),
		Window: sdk.WindowCounts{Calls: c.Metric.TotalCount, Failures: c.Metric.FailureCount}, At: now}
}

// tripCapped runs the TripCapped hooks of the call t, if its outcome fired
// a trip the cap refused. It inlines to one nil check on every call's end.
func (b *Breaker) tripCapped(cctx context.Context, t *ticket) {
	if t.capped != nil {
		b.reportCapped(cctx, t)
	}
}

// reportCapped is tripCapped's slow path: it hands the capped trip to the hooks once.
func (b *Breaker) reportCapped(cctx context.Context, t *ticket) {
	info := *t.capped
	t.capped = nil
	b.conf().hooks.capped(cctx, info)
}

// TripsCapped returns how many trips of the group's keys its cap
// ([WithMaxOpenFraction]) refused since the group was built.
func (g *Group) TripsCapped() int64 { return g.cap.capped.Load() }

// OpenKeys returns how many of the group's breakers count against its cap
// now: those open, half-open or forced open.
func (g *Group) OpenKeys() int { return int(g.cap.open.Load()) }

// MaxOpenFraction returns the group's cap on open keys as a share of its
// keys ([WithMaxOpenFraction]): 1 ([DefaultMaxOpenFraction]) means no cap.
// It reflects the last [Group.Reconfigure].
func (g *Group) MaxOpenFraction() float64 { return math.Float64frombits(g.cap.fraction.Load()) }

// MaxOpenKeys returns how many of the group's breakers may count against
// its cap at once now, max(1, ⌊f × keys⌋) for the fraction f of
// [Group.MaxOpenFraction] and keys the keys with a breaker of their own,
// and true; or 0 and false when the group has no cap (f is 1). The number
// changes as keys are built and evicted; [Group.OpenKeys] may exceed it
// after the cap was lowered or keys were forced open.
func (g *Group) MaxOpenKeys() (n int, capped bool) {
	l := g.cap.limit()
	if l == math.MaxInt64 {
		return 0, false
	}
	return int(min(l, math.MaxInt)), true
}
