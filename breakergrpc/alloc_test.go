package breakergrpc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The interceptors' own allocations, without gRPC's: the invoker and the
// handler are plain funcs.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	unavailable := status.Error(codes.Unavailable, "down")
	info := &grpc.UnaryServerInfo{FullMethod: "/grpc.testing.TestService/UnaryCall"}

	client := func(ret error) func(*breaker.Breaker) func() {
		return func(b *breaker.Breaker) func() {
			ic := breakergrpc.UnaryClientInterceptor(b)
			invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return ret }
			return func() { _ = ic(ctx, info.FullMethod, nil, nil, nil, invoker) }
		}
	}
	server := func(ret error) func(*breaker.Breaker) func() {
		return func(b *breaker.Breaker) func() {
			ic := breakergrpc.UnaryServerInterceptor(b)
			handler := func(context.Context, any) (any, error) { return nil, ret }
			return func() { _, _ = ic(ctx, nil, info, handler) }
		}
	}
	group := func(b *breaker.Breaker) func() { // b unused: the group's breaker serves
		g, err := breaker.NewGroup("grpc-test", breaker.WithTracker(breakergrpc.Tracker()))
		if err != nil {
			panic(err)
		}
		ic := breakergrpc.GroupUnaryClientInterceptor(g, breakergrpc.ByMethod)
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
		_ = ic(ctx, info.FullMethod, nil, nil, nil, invoker) // builds the key's breaker
		return func() { _ = ic(ctx, info.FullMethod, nil, nil, nil, invoker) }
	}
	tests := []struct {
		name   string
		open   bool
		call   func(*breaker.Breaker) func()
		allocs float64
	}{
		{"unary client success", false, client(nil), 0},
		{"unary client refusal", true, client(nil), 0},
		{"unary client error", false, client(unavailable), 1}, // the StatusError
		{"unary server success", false, server(nil), 0},
		{"group unary client success", false, group, 0},
		{"unary server error", false, server(unavailable), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips)
			if tc.open {
				b.ForceOpen(ctx)
			}
			assert.Equal(t, tc.allocs, testing.AllocsPerRun(1000, tc.call(b)))
		})
	}
}
