package breaker

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// CallContext is what a tripper sees: the window's metric, the state the
// breaker is in ([sdk.StateClosed] or [sdk.StateHalfOpen]) and the current
// streak of counted failures or of recorded successes.
//
// Metric shares the window's storage and is valid only during the Trip
// call; copy the fields you need to keep.
type CallContext struct {
	// Metric is the window's metric, including the outcome just recorded.
	Metric Metric
	// State is the state the outcome was recorded in: StateClosed or
	// StateHalfOpen.
	State sdk.State
	// ConsecutiveFailures is the current streak of counted failures: a
	// recorded success ends it, an ignored error leaves it unchanged, and
	// it starts at 0 on entry into half-open or closed.
	ConsecutiveFailures int
	// ConsecutiveSuccesses is the current streak of recorded successes,
	// including the outcome just recorded: a counted failure ends it, an
	// ignored error leaves it unchanged, and it starts at 0 on entry into
	// half-open or closed. At most one of the two streaks is non-zero.
	ConsecutiveSuccesses int
}

// Tripper decides when a breaker opens (in the closed state) and whether it
// stays half-open or re-opens (in the half-open state): true means "trip".
// After a recorded outcome in the closed state, true opens the breaker;
// in the half-open state, a success after which the tripper is false
// closes it, and a counted failure after which it is true re-opens it.
//
// Build one with [Closed], [HalfOpened], [MinRequests], [FailureRate],
// [AvgLatency], [SlowRate], [FailureStreak], [SuccessesToClose] or
// [TripperFunc], and combine them with [Tripper.And] and [Tripper.Or],
// which short-circuit left to right, and [Tripper.Not].
//
// The zero Tripper is unset: [New] reports it (and any And, Or or Not
// operand that is unset) as a configuration error, and calling Trip on it
// panics with a message that says so.
//
// A Tripper is immutable and may be shared by many breakers. Arguments are
// validated by [New], which reports every invalid part.
type Tripper struct {
	n *tripNode
}

type tripKind uint8

const (
	tripClosed tripKind = iota + 1
	tripHalfOpened
	tripMinRequests
	tripFailureRate
	tripAvgLatency
	tripSlowRate
	tripFailureStreak
	tripSuccessesToClose
	tripFunc
	tripAnd
	tripOr
	tripNot
)

type tripNode struct {
	kind  tripKind
	l, r  *tripNode // operands of And and Or; l is that of Not
	count int
	ratio float64
	dur   time.Duration
	fn    func(CallContext) bool
	desc  string
	err   error
}

// Closed trips while the breaker is closed. Combined with [Tripper.And], it
// limits a rule to the closed state, so that another rule decides in
// half-open (see [SuccessesToClose]).
func Closed() Tripper { return Tripper{&tripNode{kind: tripClosed, desc: "Closed()"}} }

// HalfOpened trips while the breaker is half-open. Alone, it makes every
// counted probe failure re-open the breaker and keeps it half-open after
// successes; [SuccessesToClose] is the rule that also closes it.
func HalfOpened() Tripper { return Tripper{&tripNode{kind: tripHalfOpened, desc: "HalfOpened()"}} }

// MinRequests trips once the window holds at least count calls. It is
// usually combined with a rate: MinRequests(20).And(FailureRate(0.5)).
// count must be greater than zero.
func MinRequests(count int) Tripper {
	n := &tripNode{kind: tripMinRequests, count: count, desc: fmt.Sprintf("MinRequests(%d)", count)}
	if count <= 0 {
		n.err = errors.New(n.desc + ": count must be greater than zero")
	}
	return Tripper{n}
}

// FailureRate trips when at least ratio of the window's calls failed.
// ratio must be in (0, 1].
func FailureRate(ratio float64) Tripper {
	n := &tripNode{kind: tripFailureRate, ratio: ratio, desc: "FailureRate(" + fmtFloat(ratio) + ")"}
	if !(ratio > 0 && ratio <= 1) {
		n.err = errors.New(n.desc + ": ratio must be between 0 and 1")
	}
	return Tripper{n}
}

// AvgLatency trips when the window's average duration reaches threshold.
// Failures are recorded with zero duration unless [WithFailureDurations] is
// set. threshold must be greater than zero.
func AvgLatency(threshold time.Duration) Tripper {
	n := &tripNode{kind: tripAvgLatency, dur: threshold, desc: fmt.Sprintf("AvgLatency(%s)", threshold)}
	if threshold <= 0 {
		n.err = errors.New(n.desc + ": threshold must be greater than zero")
	}
	return Tripper{n}
}

// SlowRate trips when at least ratio of the window's calls took threshold
// or longer. ratio must be in (0, 1] and threshold greater than zero.
func SlowRate(ratio float64, threshold time.Duration) Tripper {
	n := &tripNode{kind: tripSlowRate, ratio: ratio, dur: threshold, desc: fmt.Sprintf("SlowRate(%s, %s)", fmtFloat(ratio), threshold)}
	var errs []error
	if !(ratio > 0 && ratio <= 1) {
		errs = append(errs, errors.New(n.desc+": ratio must be between 0 and 1"))
	}
	if threshold <= 0 {
		errs = append(errs, errors.New(n.desc+": threshold must be greater than zero"))
	}
	n.err = errors.Join(errs...)
	return Tripper{n}
}

// FailureStreak trips after count counted failures in a row
// ([CallContext.ConsecutiveFailures]). The streak is reset by a recorded
// success and on entry into half-open or closed; an ignored error leaves
// it unchanged. count must be greater than zero. fluxgate recommends it,
// combined with [Tripper.Or], for cold starts and total outages.
func FailureStreak(count int) Tripper {
	n := &tripNode{kind: tripFailureStreak, count: count, desc: fmt.Sprintf("FailureStreak(%d)", count)}
	if count <= 0 {
		n.err = errors.New(n.desc + ": count must be greater than zero")
	}
	return Tripper{n}
}

// SuccessesToClose is the half-open rule "close after n successes in a row,
// re-open on the first counted failure": it trips while the breaker is
// half-open and fewer than n consecutive successes have been recorded, and
// never while closed. n must be at least 1.
//
// It is the way out of the half-open trap of fluxgate's default tripper,
// MinRequests(100).And(FailureRate(0.5)): evaluated on the half-open
// window, which the transition to half-open emptied, it is false until 100
// probes were recorded, so one success closes the breaker even after 30
// failed probes, and re-opening it takes 100 failed probes in a row. Limit
// the closed-state rule with [Closed] and let SuccessesToClose decide in
// half-open:
//
//	breaker.Closed().And(breaker.MinRequests(20).And(breaker.FailureRate(0.5))).
//		Or(breaker.SuccessesToClose(5))
//
// The streak is [CallContext.ConsecutiveSuccesses]; it starts at 0 on
// entry into half-open and an ignored error leaves it unchanged.
func SuccessesToClose(n int) Tripper {
	t := &tripNode{kind: tripSuccessesToClose, count: n, desc: fmt.Sprintf("SuccessesToClose(%d)", n)}
	if n < 1 {
		t.err = errors.New(t.desc + ": count must be greater than zero")
	}
	return Tripper{t}
}

// TripperFunc makes a Tripper of fn, which must be safe to call from the
// breaker's lock (it must not call the breaker). Its metric carries no slow
// counts unless the breaker also has a [SlowRate] tripper for that
// threshold. name appears in the Tripper's String.
func TripperFunc(name string, fn func(CallContext) bool) Tripper {
	n := &tripNode{kind: tripFunc, fn: fn, desc: "TripperFunc(" + strconv.Quote(name) + ")"}
	if fn == nil {
		n.err = errors.New(n.desc + ": func must not be nil")
	}
	return Tripper{n}
}

// And trips when both t and u trip; u is not evaluated when t is false.
func (t Tripper) And(u Tripper) Tripper { return combine(tripAnd, " & ", t, u) }

// Or trips when t or u trips; u is not evaluated when t is true.
func (t Tripper) Or(u Tripper) Tripper { return combine(tripOr, " | ", t, u) }

// Not trips when t does not, and the other way round. The negation of a
// negation is the original: t.Not().Not() is t. Its String is "~" followed
// by t's, as fluxgate writes it for trackers.
func (t Tripper) Not() Tripper {
	if t.n != nil && t.n.kind == tripNot {
		return Tripper{t.n.l}
	}
	return Tripper{&tripNode{kind: tripNot, l: t.n, desc: "~" + t.String()}}
}

func combine(kind tripKind, op string, t, u Tripper) Tripper {
	return Tripper{&tripNode{kind: kind, l: t.n, r: u.n, desc: "(" + t.String() + op + u.String() + ")"}}
}

// String describes the tripper, e.g. "(MinRequests(100) & FailureRate(0.5))".
func (t Tripper) String() string {
	if t.n == nil {
		return "Tripper(unset)"
	}
	return t.n.desc
}

// Trip evaluates the tripper. It is what the breaker calls after each
// recorded outcome in the closed and half-open states. It panics if t, or
// an operand of its And, Or or Not, is the zero Tripper.
func (t Tripper) Trip(c CallContext) bool { return t.n.trip(&c) }

// errZeroTripper is the panic of Trip on an unset tripper; New reports the
// same problem as a configuration error instead.
const errZeroTripper = "breaker: Trip on the zero Tripper (or an And, Or or Not operand that is the zero Tripper): " +
	"build trippers with MinRequests, FailureRate, ... or TripperFunc"

func (n *tripNode) trip(c *CallContext) bool {
	if n == nil {
		panic(errZeroTripper)
	}
	m := &c.Metric
	switch n.kind {
	case tripClosed:
		return c.State == sdk.StateClosed
	case tripHalfOpened:
		return c.State == sdk.StateHalfOpen
	case tripMinRequests:
		return m.TotalCount >= n.count
	case tripFailureRate:
		return m.TotalCount > 0 && float64(m.FailureCount)/float64(m.TotalCount) >= n.ratio
	case tripAvgLatency:
		// avg >= dur ⇔ floor(total/count) >= dur for an integer dur; the
		// division cannot overflow where dur×count could.
		return m.TotalCount > 0 && m.TotalDuration/time.Duration(m.TotalCount) >= n.dur
	case tripSlowRate:
		return m.TotalCount > 0 && float64(m.SlowCount(n.dur))/float64(m.TotalCount) >= n.ratio
	case tripFailureStreak:
		return c.ConsecutiveFailures >= n.count
	case tripSuccessesToClose:
		return c.State == sdk.StateHalfOpen && c.ConsecutiveSuccesses < n.count
	case tripFunc:
		if n.fn == nil {
			panic("breaker: Trip on " + n.desc + ", whose func is nil")
		}
		return n.fn(*c)
	case tripAnd:
		return n.l.trip(c) && n.r.trip(c)
	case tripOr:
		return n.l.trip(c) || n.r.trip(c)
	case tripNot:
		return !n.l.trip(c)
	}
	return false
}

// walk calls f for every leaf, depth first, left to right.
func (n *tripNode) walk(f func(*tripNode)) {
	if n == nil {
		return
	}
	switch n.kind {
	case tripAnd, tripOr:
		n.l.walk(f)
		n.r.walk(f)
	case tripNot:
		n.l.walk(f)
	default:
		f(n)
	}
}

// validate reports every invalid leaf and every unset operand.
func (t Tripper) validate() error {
	if t.n == nil {
		return errors.New("tripper is unset: use MinRequests, FailureRate, ... or TripperFunc")
	}
	var errs []error
	var check func(n *tripNode)
	check = func(n *tripNode) {
		switch {
		case n == nil:
			errs = append(errs, errors.New("tripper: an And, Or or Not operand is unset (the zero Tripper): build it with MinRequests, FailureRate, ... or TripperFunc"))
		case n.kind == tripAnd || n.kind == tripOr:
			check(n.l)
			check(n.r)
		case n.kind == tripNot:
			check(n.l)
		case n.err != nil:
			errs = append(errs, n.err)
		}
	}
	check(t.n)
	return errors.Join(errs...)
}

// slowThresholds returns the thresholds of every SlowRate leaf, deduplicated
// and ascending.
func (t Tripper) slowThresholds() []time.Duration {
	var out []time.Duration
	t.n.walk(func(n *tripNode) {
		if n.kind == tripSlowRate && n.dur > 0 {
			out = append(out, n.dur)
		}
	})
	return sortedUnique(out)
}

// hasFunc reports whether any leaf is a TripperFunc.
func (t Tripper) hasFunc() bool {
	has := false
	t.n.walk(func(n *tripNode) { has = has || n.kind == tripFunc })
	return has
}

// needsDurations reports whether any leaf reads durations.
func (t Tripper) needsDurations() bool {
	need := false
	t.n.walk(func(n *tripNode) {
		need = need || n.kind == tripAvgLatency || n.kind == tripSlowRate || n.kind == tripFunc
	})
	return need
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
