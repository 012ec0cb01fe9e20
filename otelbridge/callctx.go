package otelbridge

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// callCtx is the context the bridge gives a call that has a span of its
// own, or that runs inside another call of this bridge (then span is nil).
// CallEnd and StateChange find it by the bridge as the key, so that other
// hooks that put spans in the context (another bridge, a user's) do not
// confuse the bridge.
type callCtx struct {
	context.Context // the tracer's context, holding span
	b               *bridge
	span            trace.Span // nil: no span of this bridge's
	tel             *breakerTel
}

// Value returns c for the key c.b, and asks the parent context otherwise.
func (c *callCtx) Value(key any) any {
	if k, ok := key.(*bridge); ok && k == c.b {
		return c
	}
	return c.Context.Value(key)
}

// own returns the callCtx of this bridge nearest to ctx, if any.
func (b *bridge) own(ctx context.Context) *callCtx {
	c, _ := ctx.Value(b).(*callCtx)
	return c
}

// noSpan returns the context of a call without a span of this bridge's:
// ctx itself, unless ctx belongs to another call of this bridge, whose span
// CallEnd must then leave alone.
func (b *bridge) noSpan(ctx context.Context) context.Context {
	if b.own(ctx) == nil {
		return ctx
	}
	return &callCtx{Context: ctx, b: b}
}
