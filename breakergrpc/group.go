package breakergrpc

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// KeyFunc returns the key of an RPC's breaker in a [breaker.Group], from
// the RPC's context and its full method name ("/package.Service/Method").
// It must be safe for concurrent use and fast: it runs before every RPC.
// The key names the breaker in telemetry (circuit_breaker.key), so it
// should take few values: a method, a service, a tenant; never a request
// id.
type KeyFunc func(ctx context.Context, method string) string

// ByMethod is a [KeyFunc] that gives every method its own breaker: the key
// is the full method name, "/package.Service/Method".
func ByMethod(_ context.Context, method string) string { return method }

// ByService is a [KeyFunc] that gives every service its own breaker: the
// key is the full method name without the method, "/package.Service".
func ByService(_ context.Context, method string) string {
	if i := strings.LastIndexByte(method, '/'); i > 0 {
		return method[:i]
	}
	return method
}

// ByIncomingMetadata returns a [KeyFunc] for server interceptors that keys
// breakers by the first value of the request metadata name (a tenant
// header, say); a request without it gets the key "". name is matched as
// gRPC matches metadata keys, without regard to case.
//
// ByIncomingMetadata panics if name is empty.
func ByIncomingMetadata(name string) KeyFunc {
	if name == "" {
		panic("breakergrpc: ByIncomingMetadata requires a metadata name")
	}
	name = strings.ToLower(name)
	return func(ctx context.Context, _ string) string {
		if v := metadata.ValueFromIncomingContext(ctx, name); len(v) > 0 {
			return v[0]
		}
		return ""
	}
}

// GroupUnaryClientInterceptor is [UnaryClientInterceptor] with a breaker
// per key: each RPC goes through g's breaker for key(ctx, method).
//
//	g, err := breaker.NewGroup("backend", breaker.WithTracker(breakergrpc.Tracker()))
//	...
//	grpc.WithUnaryInterceptor(breakergrpc.GroupUnaryClientInterceptor(g, breakergrpc.ByMethod))
//
// One key's failures never open another key's breaker. When g cannot give
// a breaker ([breaker.Group.Get] fails: g is closed, or the key's
// options are invalid), the RPC is not sent; the error matches Get's with
// [errors.Is] and has code Unavailable for a closed group, Internal
// otherwise.
//
// GroupUnaryClientInterceptor panics if g or key is nil.
func GroupUnaryClientInterceptor(g *breaker.Group, key KeyFunc, opts ...Option) grpc.UnaryClientInterceptor {
	return newGroupInterceptor("GroupUnaryClientInterceptor", g, key, opts).unaryClient
}

// GroupStreamClientInterceptor is [StreamClientInterceptor] with a breaker
// per key, as [GroupUnaryClientInterceptor] picks them.
//
// GroupStreamClientInterceptor panics if g or key is nil.
func GroupStreamClientInterceptor(g *breaker.Group, key KeyFunc, opts ...Option) grpc.StreamClientInterceptor {
	return newGroupInterceptor("GroupStreamClientInterceptor", g, key, opts).streamClient
}

// GroupUnaryServerInterceptor is [UnaryServerInterceptor] with a breaker
// per key, as [GroupUnaryClientInterceptor] picks them: for example a
// breaker per tenant with [ByIncomingMetadata], so that one tenant's
// failing requests shed that tenant's load only.
//
// GroupUnaryServerInterceptor panics if g or key is nil.
func GroupUnaryServerInterceptor(g *breaker.Group, key KeyFunc, opts ...Option) grpc.UnaryServerInterceptor {
	return newGroupInterceptor("GroupUnaryServerInterceptor", g, key, opts).unaryServer
}

// GroupStreamServerInterceptor is [StreamServerInterceptor] with a breaker
// per key, as [GroupUnaryClientInterceptor] picks them.
//
// GroupStreamServerInterceptor panics if g or key is nil.
func GroupStreamServerInterceptor(g *breaker.Group, key KeyFunc, opts ...Option) grpc.StreamServerInterceptor {
	return newGroupInterceptor("GroupStreamServerInterceptor", g, key, opts).streamServer
}

// newGroupInterceptor returns an interceptor that protects every RPC with
// the breaker of its key in g. It panics, naming fn, if g or key is nil.
func newGroupInterceptor(fn string, g *breaker.Group, key KeyFunc, opts []Option) *interceptor {
	if g == nil {
		panic("breakergrpc: " + fn + " requires a non-nil *breaker.Group")
	}
	if key == nil {
		panic("breakergrpc: " + fn + " requires a non-nil KeyFunc")
	}
	cfg := newConfig(opts)
	return &interceptor{
		pick: func(ctx context.Context, method string) (*breaker.Breaker, error) {
			k := key(ctx, method)
			b, err := g.Get(k)
			if err != nil {
				return nil, &groupError{key: k, err: err}
			}
			return b, nil
		},
		filter: cfg.filter,
	}
}

// groupError is the error of an RPC for which a Group gave no breaker.
type groupError struct {
	key string
	err error
}

func (e *groupError) Error() string {
	return "breakergrpc: no breaker for key " + strconv.Quote(e.key) + ": " + e.err.Error()
}

// Unwrap returns Get's error.
func (e *groupError) Unwrap() error { return e.err }

// GRPCStatus returns Unavailable for a closed group, Internal otherwise.
func (e *groupError) GRPCStatus() *status.Status {
	if errors.Is(e.err, breaker.ErrGroupClosed) {
		return status.New(codes.Unavailable, e.Error())
	}
	return status.New(codes.Internal, e.Error())
}
