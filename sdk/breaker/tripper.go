package breaker

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// CallContext is what a tripper sees: the window's metric, the state the
// breaker is in (StateClosed or StateHalfOpen) and the number of counted
// failures in a row.
//
// Metric shares the window's storage and is valid only during the Trip
// call; copy the fields you need to keep.
type CallContext struct {
	// Metric is the window's metric, including the outcome just recorded.
	Metric Metric
	// State is the state the outcome was recorded in: StateClosed or
	// StateHalfOpen.
	State sdk.State
	// ConsecutiveFailures is the current streak of counted failures.
	ConsecutiveFailures int
}

// Tripper decides when a breaker opens (in the closed state) and whether it
// stays half-open or re-opens (in the half-open state): true means "trip".
// Build one with Closed, HalfOpened, MinRequests, FailureRate, AvgLatency,
// SlowRate, FailureStreak or TripperFunc, and combine them with And and Or,
// which short-circuit left to right. The zero Tripper is invalid.
//
// A Tripper is immutable and may be shared by many breakers. Arguments are
// validated by New, which reports every invalid part.
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
	tripFunc
	tripAnd
	tripOr
)

type tripNode struct {
	kind  tripKind
	l, r  *tripNode
	count int
	ratio float64
	dur   time.Duration
	fn    func(CallContext) bool
	desc  string
	err   error
}

// Closed trips while the breaker is closed. Combined with And, it limits a
// rule to the closed state.
func Closed() Tripper { return Tripper{&tripNode{kind: tripClosed, desc: "Closed()"}} }

// HalfOpened trips while the breaker is half-open. Alone, it makes every
// counted probe failure re-open the breaker and keeps it half-open after
// successes.
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
// Failures are recorded with zero duration unless WithFailureDurations is
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

// FailureStreak trips after count counted failures in a row. The streak is
// reset by a recorded success and on entry into half-open or closed; an
// ignored error leaves it unchanged. count must be greater than zero.
func FailureStreak(count int) Tripper {
	n := &tripNode{kind: tripFailureStreak, count: count, desc: fmt.Sprintf("FailureStreak(%d)", count)}
	if count <= 0 {
		n.err = errors.New(n.desc + ": count must be greater than zero")
	}
	return Tripper{n}
}

// TripperFunc makes a Tripper of fn, which must be safe to call from the
// breaker's lock (it must not call the breaker). Its metric carries no slow
// counts unless the breaker also has a SlowRate tripper for that threshold.
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
// recorded outcome in the closed and half-open states.
func (t Tripper) Trip(c CallContext) bool { return t.n.trip(&c) }

func (n *tripNode) trip(c *CallContext) bool {
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
	case tripFunc:
		return n.fn(*c)
	case tripAnd:
		return n.l.trip(c) && n.r.trip(c)
	case tripOr:
		return n.l.trip(c) || n.r.trip(c)
	}
	return false
}

// walk calls f for every leaf, depth first, left to right.
func (n *tripNode) walk(f func(*tripNode)) {
	if n == nil {
		return
	}
	if n.kind == tripAnd || n.kind == tripOr {
		n.l.walk(f)
		n.r.walk(f)
		return
	}
	f(n)
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
			errs = append(errs, errors.New("tripper: And/Or operand is unset"))
		case n.kind == tripAnd || n.kind == tripOr:
			check(n.l)
			check(n.r)
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
