package breakergrpc

import "context"

// Option configures an interceptor. The options are the With… functions of
// this package.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds what the options set.
type config struct {
	filter func(ctx context.Context, method string) bool
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithFilter makes the interceptor protect only the RPCs for which filter
// returns true; the others go straight to the next handler or invoker,
// and the breaker neither sees nor refuses them. It is given the RPC's
// context and its full method name ("/package.Service/Method"). A typical
// filter leaves out health checks:
//
//	breakergrpc.WithFilter(func(_ context.Context, method string) bool {
//		return !strings.HasPrefix(method, "/grpc.health.v1.Health/")
//	})
//
// filter must be safe for concurrent use. A nil filter protects every RPC,
// as without the option.
func WithFilter(filter func(ctx context.Context, method string) bool) Option {
	return optionFunc(func(c *config) { c.filter = filter })
}
