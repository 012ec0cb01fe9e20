package breakergrpc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
)

func TestNilBreakerPanics(t *testing.T) {
	tests := map[string]func(){
		"UnaryClientInterceptor":  func() { breakergrpc.UnaryClientInterceptor(nil) },
		"StreamClientInterceptor": func() { breakergrpc.StreamClientInterceptor(nil) },
		"UnaryServerInterceptor":  func() { breakergrpc.UnaryServerInterceptor(nil) },
		"StreamServerInterceptor": func() { breakergrpc.StreamServerInterceptor(nil) },
	}
	for name, construct := range tests {
		t.Run(name, func(t *testing.T) {
			assert.PanicsWithValue(t, "breakergrpc: "+name+" requires a non-nil *breaker.Breaker", construct)
		})
	}
}

func TestWithFilter(t *testing.T) {
	b := openBreaker(t)
	b.ForceOpen(t.Context())
	noEmpty := breakergrpc.WithFilter(func(_ context.Context, method string) bool {
		return !strings.HasSuffix(method, "/EmptyCall")
	})
	addr, svc := startServer(t,
		grpc.UnaryInterceptor(breakergrpc.UnaryServerInterceptor(b, noEmpty)),
		grpc.StreamInterceptor(breakergrpc.StreamServerInterceptor(b, noEmpty)))
	for name, client := range map[string]testgrpc.TestServiceClient{
		"client": dial(t, addr,
			grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b, noEmpty, nil)),
			grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b, noEmpty))),
		"server": dial(t, addr),
	} {
		t.Run(name, func(t *testing.T) {
			svc.hits.Store(0)
			_, err := client.EmptyCall(t.Context(), &testgrpc.Empty{})
			assert.NoError(t, err, "a method the filter leaves out goes around the breaker")
			_, err = client.UnaryCall(t.Context(), statusReq(codes.OK))
			assert.Equal(t, codes.Unavailable, status.Code(err))
			s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.EqualValues(t, 1, svc.hits.Load())
		})
	}
}

func TestNilFilterProtectsEverything(t *testing.T) {
	b := openBreaker(t)
	b.ForceOpen(t.Context())
	addr, svc := startServer(t)
	client := dial(t, addr, grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b, breakergrpc.WithFilter(nil))))
	_, err := client.EmptyCall(t.Context(), &testgrpc.Empty{})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Zero(t, svc.hits.Load())
}
