package breakergrpc

import (
	"context"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// interceptor is what every interceptor of this package runs on: how to
// pick the breaker of an RPC, and which RPCs to protect.
type interceptor struct {
	pick   func(ctx context.Context, method string) (*breaker.Breaker, error)
	filter func(ctx context.Context, method string) bool
}

// newInterceptor returns an interceptor that protects every RPC with b. It
// panics, naming fn, if b is nil.
func newInterceptor(fn string, b *breaker.Breaker, opts []Option) *interceptor {
	if b == nil {
		panic("breakergrpc: " + fn + " requires a non-nil *breaker.Breaker")
	}
	cfg := newConfig(opts)
	return &interceptor{
		pick:   func(context.Context, string) (*breaker.Breaker, error) { return b, nil },
		filter: cfg.filter,
	}
}

// skip reports whether the RPC goes around the breaker.
func (ic *interceptor) skip(ctx context.Context, method string) bool {
	return ic.filter != nil && !ic.filter(ctx, method)
}

// endPanic is deferred right after a Call is admitted, with done set once
// the protected work returned. If it did not (it panicked, or called
// runtime.Goexit), endPanic records the panic as a counted failure and
// lets it go on, as grpc-go does: gRPC recovers no panic of a handler or
// an interceptor.
func endPanic(c *breaker.Call, done *bool) {
	if *done {
		return
	}
	v := recover()
	c.Panicked(v)
	if v != nil {
		panic(v)
	}
}
