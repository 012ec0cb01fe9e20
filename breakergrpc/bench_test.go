package breakergrpc_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// BenchmarkUnaryClient is a unary RPC (EmptyCall) to a server on 127.0.0.1,
// with no interceptor and with the breaker's.
func BenchmarkUnaryClient(b *testing.B) {
	addr, _ := startServer(b)
	cb, err := breaker.New("bench", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		b.Fatal(err)
	}
	clients := []struct {
		name string
		opts []grpc.DialOption
	}{
		{"none", nil},
		{"breaker", []grpc.DialOption{grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(cb))}},
	}
	for _, c := range clients {
		client := dial(b, addr, c.opts...)
		ctx := context.Background()
		if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil { // connect first
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkInterceptor is the interceptors' own cost, around an invoker or
// a handler that does nothing.
func BenchmarkInterceptor(b *testing.B) {
	ctx := context.Background()
	cb, err := breaker.New("bench", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		b.Fatal(err)
	}
	const method = "/grpc.testing.TestService/EmptyCall"
	b.Run("unary-client", func(b *testing.B) {
		ic := breakergrpc.UnaryClientInterceptor(cb)
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = ic(ctx, method, nil, nil, nil, invoker)
			}
		})
	})
	b.Run("unary-server", func(b *testing.B) {
		ic := breakergrpc.UnaryServerInterceptor(cb)
		info := &grpc.UnaryServerInfo{FullMethod: method}
		handler := func(context.Context, any) (any, error) { return nil, nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = ic(ctx, nil, info, handler)
			}
		})
	})
	b.Run("group-unary-client", func(b *testing.B) {
		g, err := breaker.NewGroup("bench", breaker.WithTracker(breakergrpc.Tracker()))
		if err != nil {
			b.Fatal(err)
		}
		ic := breakergrpc.GroupUnaryClientInterceptor(g, breakergrpc.ByMethod)
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = ic(ctx, method, nil, nil, nil, invoker)
			}
		})
	})
	b.Run("unary-client-refused", func(b *testing.B) {
		open, err := breaker.New("bench-open")
		if err != nil {
			b.Fatal(err)
		}
		open.ForceOpen(ctx)
		ic := breakergrpc.UnaryClientInterceptor(open)
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = ic(ctx, method, nil, nil, nil, invoker)
			}
		})
	})
}
