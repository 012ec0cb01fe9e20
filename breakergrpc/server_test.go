package breakergrpc_test

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestUnaryServerClassifiesByCode(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, svc := startServer(t, grpc.UnaryInterceptor(breakergrpc.UnaryServerInterceptor(b)))
	client := dial(t, addr)

	for _, tc := range codeCases {
		t.Run(tc.code.String(), func(t *testing.T) {
			_, err := client.UnaryCall(t.Context(), statusReq(tc.code))

			// gRPC sends the handler's own status.
			assert.Equal(t, tc.code, status.Code(err))
			if tc.code != codes.OK {
				assert.Equal(t, "asked for "+tc.code.String(), status.Convert(err).Message())
			}
			got := rec.take()
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, verdictOf(t, got[0]))
		})
	}
	assert.EqualValues(t, len(codeCases), svc.hits.Load())
}

func TestUnaryServerRefusal(t *testing.T) {
	b := openBreaker(t)
	addr, svc := startServer(t, grpc.UnaryInterceptor(breakergrpc.UnaryServerInterceptor(b)))
	client := dial(t, addr)

	_, err := client.UnaryCall(t.Context(), statusReq(codes.Internal))
	require.Equal(t, codes.Internal, status.Code(err))
	require.Equal(t, sdk.StateOpen, b.State())

	var trailer metadata.MD
	_, err = client.UnaryCall(t.Context(), statusReq(codes.OK), grpc.Trailer(&trailer))
	assert.EqualValues(t, 1, svc.hits.Load(), "the handler is not called while the breaker is open")
	checkRefusalStatus(t, err, "CIRCUIT_BREAKER_OPEN", true)
	assert.Equal(t, "circuit breaker is open", status.Convert(err).Message())
	checkPushback(t, trailer)

	b.ForceOpen(t.Context())
	trailer = nil
	_, err = client.UnaryCall(t.Context(), statusReq(codes.OK), grpc.Trailer(&trailer))
	checkRefusalStatus(t, err, "CIRCUIT_BREAKER_FORCED_OPEN", false)
	assert.Empty(t, trailer.Get(breakergrpc.PushbackTrailer), "no pushback without an estimate")
	assert.EqualValues(t, 1, svc.hits.Load())
}

// checkPushback checks that trailer tells the client to wait at most the
// breaker's minute.
func checkPushback(t *testing.T, trailer metadata.MD) {
	t.Helper()
	v := trailer.Get(breakergrpc.PushbackTrailer)
	require.Len(t, v, 1, "pushback trailer")
	ms, err := strconv.ParseInt(v[0], 10, 64)
	require.NoError(t, err)
	assert.Positive(t, ms)
	assert.LessOrEqual(t, ms, time.Minute.Milliseconds())
}

// recoverUnary turns a handler's panic into an Internal status, as a
// recovery interceptor does.
func recoverUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (reply any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = status.Errorf(codes.Internal, "recovered: %v", v)
		}
	}()
	return handler(ctx, req)
}

func recoverStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = status.Errorf(codes.Internal, "recovered: %v", v)
		}
	}()
	return handler(srv, ss)
}

func TestServerPanic(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t,
		grpc.ChainUnaryInterceptor(recoverUnary, breakergrpc.UnaryServerInterceptor(b)),
		grpc.ChainStreamInterceptor(recoverStream, breakergrpc.StreamServerInterceptor(b)))
	client := dial(t, addr)
	panicking := &testgrpc.EchoStatus{Code: int32(codes.Unknown), Message: panicMessage}

	t.Run("unary", func(t *testing.T) {
		_, err := client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{ResponseStatus: panicking})
		// The panic went on to the recovery interceptor.
		assert.Equal(t, codes.Internal, status.Code(err))
		assert.Equal(t, "recovered: test service asked to panic", status.Convert(err).Message())
		checkPanicked(t, rec.take())
	})
	t.Run("stream", func(t *testing.T) {
		s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{ResponseStatus: panicking})
		require.NoError(t, err)
		_, err = s.Recv()
		assert.Equal(t, codes.Internal, status.Code(err))
		checkPanicked(t, rec.take())
	})
}

func checkPanicked(t *testing.T, got []sdk.CallEnd) {
	t.Helper()
	require.Len(t, got, 1)
	assert.True(t, got[0].Panicked)
	assert.Equal(t, "test service asked to panic", got[0].PanicValue)
	assert.Equal(t, sdk.DecisionCounted, got[0].Decision)
	assert.Equal(t, breaker.RulePanic, got[0].Rule)
}

func TestStreamServer(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t, grpc.StreamInterceptor(breakergrpc.StreamServerInterceptor(b)))
	client := dial(t, addr)

	for _, tc := range codeCases {
		t.Run(tc.code.String(), func(t *testing.T) {
			s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{
				ResponseParameters: make([]*testgrpc.ResponseParameters, 2),
				ResponseStatus:     &testgrpc.EchoStatus{Code: int32(tc.code), Message: "asked"}})
			require.NoError(t, err)
			n, err := drainErr(s.Recv)
			require.Equal(t, 2, n)
			if tc.code == codes.OK {
				assert.ErrorIs(t, err, io.EOF)
			} else {
				assert.Equal(t, tc.code, status.Code(err))
			}
			got := rec.take()
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, verdictOf(t, got[0]))
		})
	}
}

func TestStreamServerRefusal(t *testing.T) {
	b := openBreaker(t)
	addr, svc := startServer(t, grpc.StreamInterceptor(breakergrpc.StreamServerInterceptor(b)))
	client := dial(t, addr)

	s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{
		ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.Unavailable)}})
	require.NoError(t, err)
	require.Equal(t, 0, drain(s.Recv))
	require.Equal(t, sdk.StateOpen, b.State())

	s, err = client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	_, err = s.Recv()
	checkRefusalStatus(t, err, "CIRCUIT_BREAKER_OPEN", true)
	checkPushback(t, s.Trailer())
	assert.EqualValues(t, 1, svc.hits.Load(), "the handler is not called while the breaker is open")
}
