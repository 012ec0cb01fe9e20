package breaker

import (
	"context"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// Rule labels the breaker itself puts on a call's decision.
const (
	// RuleContextCanceled labels the decision for an error returned by a
	// call whose own context was canceled: ignored, without asking the
	// tracker.
	RuleContextCanceled = "context_canceled"
	// RulePanic labels the decision for a call that panicked: counted.
	RulePanic = "panic"
)

// Execute runs fn under b and returns its result and error untouched, or
// the zero T and a NotPermittedError (matching ErrNotPermitted) when b
// refuses the call.
//
// fn runs in the caller's goroutine with a context derived from ctx by the
// hooks (otelbridge puts the call's span in it). When fn returns an error,
// b's tracker decides whether it counts as a failure; an error returned
// while ctx itself is canceled is ignored without asking the tracker. If fn
// panics, the call is recorded as a counted failure, any half-open slot is
// released, the hooks see the panic, and the panic continues with its
// original value. If fn calls runtime.Goexit, the call is handled like a
// panic and Goexit goes on.
//
// Execute panics if b or fn is nil, or if b was not built by New.
func Execute[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (v T, err error) {
	if fn == nil {
		panic("breaker: Execute called with a nil func")
	}
	var t ticket
	cctx, err := b.begin(ctx, &t)
	if err != nil {
		return v, err
	}
	var start time.Duration // since b.epoch: 8 bytes where a time.Time takes 24
	if t.s.needDur {
		start = time.Since(b.epoch)
	}
	done := false
	defer func() {
		if !done {
			r := recover()
			b.panicked(cctx, &t, start, r)
			if r != nil {
				panic(r)
			}
		}
	}()
	v, err = fn(cctx)
	b.end(ctx, cctx, &t, start, err)
	done = true
	return v, err
}

// Do is Execute for functions that return only an error.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	if fn == nil {
		panic("breaker: Do called with a nil func")
	}
	_, err := Execute(ctx, b, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

// ExecuteWithFallback is Execute, except that when the call returns an
// error, rejections included, fallback is called with it (after the
// outcome was recorded) and its result is returned. fallback is not called
// when fn panics.
//
// ExecuteWithFallback panics if b, fn or fallback is nil.
func ExecuteWithFallback[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error), fallback func(context.Context, error) (T, error)) (T, error) {
	if fallback == nil {
		panic("breaker: ExecuteWithFallback called with a nil fallback")
	}
	v, err := Execute(ctx, b, fn)
	if err != nil {
		return fallback(ctx, err)
	}
	return v, nil
}

// begin admits or refuses a call and runs the CallStart hooks (and, for a
// refused call, CallEnd), filling in t. It returns the context fn runs
// under.
func (b *Breaker) begin(ctx context.Context, t *ticket) (context.Context, error) {
	b.mustBeBuilt()
	if ctx == nil {
		panic("breaker: nil context")
	}
	s := b.conf()
	t.s = s
	var err error
	if s.userCode {
		err = b.acquireGuarded(ctx, t)
	} else {
		err = b.acquire(ctx, t)
	}
	if err != nil && !t.enforced() && t.state != sdk.StateForcedOpen && b.enforcement.Load() != enforceAll {
		err = b.shadow(t, err)
	}
	if b.countCalls && err == nil {
		b.inFlight.Add(1)
		t.counted = true
	}
	if t.seq == 0 && !t.slotLater && !s.hooks.calls() {
		return ctx, err
	}
	return b.beginHooks(ctx, t, err)
}

// beginHooks runs the CallStart hooks of a call, then delivers the
// transition it made on admission, takes its half-open slot if it is the
// call that moved the breaker to half-open, and runs the CallEnd hooks of
// a refused call. If a hook ends the goroutine (runtime.Goexit), the
// deferred cleanup still delivers the transition, gives back what the call
// holds and reports its end: fn never runs.
func (b *Breaker) beginHooks(ctx context.Context, t *ticket, err error) (cctx context.Context, _ error) {
	cctx = ctx
	finished := false
	defer func() {
		if !finished {
			b.abandon(cctx, t, err, nil)
		}
	}()
	if b.conf().hooks.calls() {
		cctx = b.conf().hooks.start(ctx, sdk.CallStart{Name: b.name, Key: b.key, State: t.state, Rejected: err != nil, WouldReject: t.wouldReject()})
	}
	b.deliverAdmission(cctx, t)
	if err == nil && t.slotLater {
		if err = b.takeSlotLater(ctx, t); err != nil && !t.enforced() && b.enforcement.Load() != enforceAll {
			err = b.shadow(t, err)
		}
		if err != nil {
			b.releaseInFlight(t)
		}
	}
	if err != nil {
		b.callEnd(cctx, t, &sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeRejected, Err: err})
	}
	finished = true
	return cctx, err
}

// deliverAdmission marks the transition the call t made on admission ready
// with cctx and delivers it.
func (b *Breaker) deliverAdmission(cctx context.Context, t *ticket) {
	if t.seq == 0 {
		return
	}
	b.mu.Lock()
	b.queue.markReadyLocked(t.seq, cctx)
	b.deliverLocked()
}

// acquireGuarded is acquire for a breaker with user code under the lock
// (TripperFunc, RetryFunc, PermitFunc, WithRand). If that code panics (the
// guard has released the lock), the call is still reported: its CallStart,
// the transition it may have made (open→half-open, before a PermitFunc
// panicked), and a CallEnd with the panic, before the panic goes on. fn
// never runs and nothing is recorded.
func (b *Breaker) acquireGuarded(ctx context.Context, t *ticket) (err error) {
	finished := false
	defer func() {
		if !finished {
			r := recover()
			cctx := ctx
			if b.conf().hooks.calls() {
				cctx = b.conf().hooks.start(ctx, sdk.CallStart{Name: b.name, Key: b.key, State: t.state})
			}
			b.abandon(cctx, t, nil, r)
			if r != nil {
				panic(r)
			}
		}
	}()
	err = b.acquire(ctx, t)
	finished = true
	return err
}

// abandon ends a call that will not run: admission panicked with r (nil
// for runtime.Goexit), or a hook ended the goroutine before fn ran. It
// delivers the call's admission transition, gives back its slot and
// in-flight count, and reports its end once (refused with err, or as an
// unrecorded panic).
func (b *Breaker) abandon(cctx context.Context, t *ticket, err error, r any) {
	b.deliverAdmission(cctx, t)
	if t.slotLater { // its slot was never taken
		t.slotLater, t.slot = false, false
	}
	b.settle(cctx, t, false, false, 0, nil)
	b.releaseInFlight(t)
	info := sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeRejected, Err: err}
	if err == nil {
		info = sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeError,
			Decision: sdk.DecisionIgnored, Rule: RulePanic, Panicked: true, PanicValue: r}
	}
	b.callEnd(cctx, t, &info)
}

// end classifies and records the outcome of a call that returned, releases
// its half-open slot and runs the hooks.
func (b *Breaker) end(ctx, cctx context.Context, t *ticket, start time.Duration, err error) {
	var dur time.Duration
	if t.s.needDur {
		dur = time.Since(b.epoch) - start
	}
	var outcome sdk.Outcome = sdk.OutcomeSuccess
	var decision sdk.Decision
	var rule string
	if err != nil {
		outcome = sdk.OutcomeError
		if ctx.Err() == context.Canceled {
			decision, rule = sdk.DecisionIgnored, RuleContextCanceled
		} else {
			v := b.conf().tracker.Track(cctx, err)
			decision, rule = v.Decision, v.Rule
			if decision != sdk.DecisionCounted {
				decision = sdk.DecisionIgnored
			}
		}
	}
	rec := t.record && decision != sdk.DecisionIgnored
	t.recorded = true // before settle: the tripper may panic after adding the outcome
	if len(t.s.hooks.callEnd) == 0 {
		// No hook reads the CallEnd (hooks never change at run time), so
		// it is not built: on the closed path that is most of end's cost.
		b.settle(cctx, t, rec, err == nil, dur, nil)
		b.releaseInFlight(t)
		b.tripCapped(cctx, t)
		if t.seq == 0 {
			t.ended = true
			return
		}
		b.callEnd(cctx, t, nil)
		return
	}
	info := sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: outcome, Decision: decision, Rule: rule,
		Err: err, Duration: dur, WouldReject: t.wouldReject()}
	info.Stale = b.settle(cctx, t, rec, err == nil, dur, &info)
	b.releaseInFlight(t)
	b.tripCapped(cctx, t)
	b.callEnd(cctx, t, &info)
}

// panicked records a call whose fn (or tracker) panicked with r as a
// counted failure, releases its slot and runs the hooks; the caller
// re-panics. r is nil when fn called runtime.Goexit, which then goes on.
// Parts of the call's end that already happened (a hook that ended the
// goroutine during end) are not done again.
func (b *Breaker) panicked(cctx context.Context, t *ticket, start time.Duration, r any) {
	if t.ended {
		return
	}
	var dur time.Duration
	if t.s.needDur {
		dur = time.Since(b.epoch) - start
	}
	info := sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted,
		Rule: RulePanic, Panicked: true, PanicValue: r, Duration: dur, WouldReject: t.wouldReject()}
	// Also if the tripper panics while recording: that panic then goes on,
	// but the call is reported first.
	defer func() {
		b.releaseInFlight(t)
		b.tripCapped(cctx, t)
		b.callEnd(cctx, t, &info)
	}()
	rec := t.record && !t.recorded
	t.recorded = true
	info.Stale = b.settle(cctx, t, rec, false, dur, &info)
}

// releaseInFlight ends the call's in-flight count.
func (b *Breaker) releaseInFlight(t *ticket) {
	if t.counted {
		t.counted = false
		b.inFlight.Add(-1)
	}
}
