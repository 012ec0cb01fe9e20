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
// original value.
//
// Execute panics if b or fn is nil.
func Execute[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (v T, err error) {
	if fn == nil {
		panic("breaker: Execute called with a nil func")
	}
	var t ticket
	cctx, err := b.begin(ctx, &t)
	if err != nil {
		return v, err
	}
	var start time.Time
	if b.needDur {
		start = time.Now()
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
	if b == nil {
		panic("breaker: call through a nil *Breaker")
	}
	if ctx == nil {
		panic("breaker: nil context")
	}
	err := b.acquire(ctx, t)
	if b.countCalls && err == nil {
		b.inFlight.Add(1)
		t.counted = true
	}
	if !t.tr.ok && !b.hooks.calls() {
		return ctx, err
	}
	cctx := b.hooks.start(ctx, sdk.CallStart{Name: b.name, Key: b.key, State: t.state, Rejected: err != nil})
	if t.tr.ok {
		for _, tr := range t.earlier {
			b.hooks.transition(cctx, tr)
		}
		b.hooks.transition(cctx, t.tr.t)
	}
	if err != nil {
		b.hooks.end(cctx, sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeRejected, Err: err})
	}
	return cctx, err
}

// end classifies and records the outcome of a call that returned, releases
// its half-open slot and runs the hooks.
func (b *Breaker) end(ctx, cctx context.Context, t *ticket, start time.Time, err error) {
	var dur time.Duration
	if b.needDur {
		dur = time.Since(start)
	}
	info := sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Err: err, Duration: dur}
	if err != nil {
		info.Outcome = sdk.OutcomeError
		if ctx.Err() == context.Canceled {
			info.Decision, info.Rule = sdk.DecisionIgnored, RuleContextCanceled
		} else {
			v := b.tracker.Track(cctx, err)
			info.Decision, info.Rule = v.Decision, v.Rule
			if info.Decision != sdk.DecisionCounted {
				info.Decision = sdk.DecisionIgnored
			}
		}
	}
	var p pending
	if t.record && info.Decision != sdk.DecisionIgnored {
		info.Stale = b.record(t, err == nil, dur, &p)
	}
	b.releaseSlotOf(t)
	if p.ok {
		b.hooks.transition(cctx, p.t)
	}
	if len(b.hooks.callEnd) > 0 {
		b.hooks.end(cctx, info)
	}
}

// panicked records a call whose fn (or tracker) panicked with r as a
// counted failure, releases its slot and runs the hooks; the caller
// re-panics. r is nil when fn called runtime.Goexit, which then goes on.
func (b *Breaker) panicked(cctx context.Context, t *ticket, start time.Time, r any) {
	var dur time.Duration
	if b.needDur {
		dur = time.Since(start)
	}
	info := sdk.CallEnd{Name: b.name, Key: b.key, State: t.state, Outcome: sdk.OutcomeError, Decision: sdk.DecisionCounted,
		Rule: RulePanic, Panicked: true, PanicValue: r, Duration: dur}
	var p pending
	defer b.releaseSlotOf(t) // also if the tripper panics in record
	if t.record {
		info.Stale = b.record(t, false, dur, &p)
	}
	b.releaseSlotOf(t)
	if p.ok {
		b.hooks.transition(cctx, p.t)
	}
	b.hooks.end(cctx, info)
}

// releaseSlotOf releases the half-open slot t holds, if any, and ends its
// in-flight count.
func (b *Breaker) releaseSlotOf(t *ticket) {
	if t.slot {
		t.slot = false
		b.releaseSlot()
	}
	if t.counted {
		t.counted = false
		b.inFlight.Add(-1)
	}
}
