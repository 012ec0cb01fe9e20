package breaker

import (
	"context"
	"time"
)

// Call is a call admitted by [Breaker.Allow], for code that cannot wrap the
// protected work in a func: middleware, streams, response bodies read after
// the round trip. Report its outcome exactly once with [Call.Done] (or
// [Call.Panicked]); until then it counts as in flight and, if it was
// admitted while half-open, holds its half-open slot.
//
// A Call is a small value meant to live in a variable or a struct field of
// the code that made it; its methods have pointer receivers so that the
// second report through the same Call is ignored. Do not copy a Call after
// Allow returned it: each copy would report on its own. A Call is not
// safe for concurrent use: report from one goroutine, or serialise the
// reports. The zero Call (the one Allow returns with an error) is already
// done: Done and Panicked do nothing, so callers may defer Done
// unconditionally.
//
// A Call that is never reported holds its half-open slot only until the
// breaker's next transition; its outcome, like every outcome of a call
// admitted before a transition, is then dropped.
type Call struct {
	b     *Breaker
	ctx   context.Context // the caller's context: cancellation is judged on it
	cctx  context.Context // the context derived by the CallStart hooks
	start time.Duration   // since b.epoch (monotonic), when durations are measured
	t     ticket
}

// Allow is the first step of a two-step call. It admits or refuses a call
// now, with the same rules as [Execute], and runs the CallStart hooks. On
// admission it returns a Call whose Context (derived from ctx by the hooks:
// otelbridge puts the call's span in it) the protected work should use, and
// whose Done reports the outcome. When b refuses the call, Allow returns the
// zero Call and the error Execute would return (matching ErrNotPermitted);
// the CallEnd hooks have then already run.
//
// The call's duration runs from Allow to Done.
//
// Allow panics if b or ctx is nil.
func (b *Breaker) Allow(ctx context.Context) (Call, error) {
	var c Call
	cctx, err := b.begin(ctx, &c.t)
	if err != nil {
		return Call{}, err
	}
	c.b, c.ctx, c.cctx = b, ctx, cctx
	if c.t.s.needDur {
		c.start = time.Since(b.epoch)
	}
	return c, nil
}

// Context returns the context the admitted work should run under: the
// context given to Allow as derived by the breaker's CallStart hooks. It
// returns context.Background() for the zero Call.
func (c *Call) Context() context.Context {
	if c.cctx == nil {
		return context.Background()
	}
	return c.cctx
}

// Done reports the call's outcome: nil for success, or the error the work
// ended with, which the breaker's tracker classifies exactly as for
// Execute (an error while the context given to Allow is canceled is
// ignored). Only the first report of a Call counts; later ones, and Done on
// the zero Call, do nothing.
func (c *Call) Done(err error) {
	b := c.b
	if b == nil {
		return
	}
	c.b = nil
	b.end(c.ctx, c.cctx, &c.t, c.start, err)
}

// Panicked reports that the work panicked with value v: the call is
// recorded as a counted failure and the CallEnd hooks see the panic, as
// with Execute. Panicked does not re-panic; the caller decides whether the
// panic goes on. Like Done, only the first report counts.
func (c *Call) Panicked(v any) {
	b := c.b
	if b == nil {
		return
	}
	c.b = nil
	b.panicked(c.cctx, &c.t, c.start, v)
}
