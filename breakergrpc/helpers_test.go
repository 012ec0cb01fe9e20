package breakergrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// panicMessage in a request's ResponseStatus makes the test service panic.
const panicMessage = "panic"

// testService is the interop TestService: every RPC counts one hit, and
// ends with the status its request asks for (ResponseStatus), after
// sending one message per ResponseParameters entry on streams.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	hits atomic.Int64
}

// requested returns the error a request's ResponseStatus asks for.
func requested(es *testgrpc.EchoStatus) error {
	if es == nil || es.GetCode() == 0 {
		return nil
	}
	if es.GetMessage() == panicMessage {
		panic("test service asked to panic")
	}
	return status.Error(codes.Code(es.GetCode()), es.GetMessage())
}

func (s *testService) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	s.hits.Add(1)
	return &testgrpc.Empty{}, nil
}

func (s *testService) UnaryCall(_ context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	s.hits.Add(1)
	if err := requested(req.GetResponseStatus()); err != nil {
		return nil, err
	}
	return &testgrpc.SimpleResponse{}, nil
}

func (s *testService) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.hits.Add(1)
	for range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
			return err
		}
	}
	return requested(req.GetResponseStatus())
}

func (s *testService) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	s.hits.Add(1)
	n := 0
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
		}
		if err != nil {
			return err
		}
		n++
	}
}

// FullDuplexCall answers every request with its ResponseParameters, and
// ends with the first ResponseStatus that is an error, or when the client
// closes its side.
func (s *testService) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	s.hits.Add(1)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := requested(req.GetResponseStatus()); err != nil {
			return err
		}
		for range req.GetResponseParameters() {
			if err := stream.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
				return err
			}
		}
	}
}

// startServer serves a testService on 127.0.0.1 until the test ends.
func startServer(t testing.TB, opts ...grpc.ServerOption) (addr string, svc *testService) {
	t.Helper()
	addr, svc, _ = serve(t, opts...)
	return addr, svc
}

// serve is startServer that also returns the server.
func serve(t testing.TB, opts ...grpc.ServerOption) (addr string, svc *testService, srv *grpc.Server) {
	t.Helper()
	svc = &testService{}
	addr, srv = serveService(t, svc, opts...)
	return addr, svc, srv
}

// serveService serves impl on 127.0.0.1 until the test ends.
func serveService(t testing.TB, impl testgrpc.TestServiceServer, opts ...grpc.ServerOption) (addr string, srv *grpc.Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv = grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, impl)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return lis.Addr().String(), srv
}

// dial returns a client of the test service at addr, closed when the test
// ends.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) testgrpc.TestServiceClient {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return testgrpc.NewTestServiceClient(conn)
}

// statusReq returns a unary request that asks for the status c.
func statusReq(c codes.Code) *testgrpc.SimpleRequest {
	return &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(c), Message: "asked for " + c.String()}}
}

// ends records the CallEnd events of a breaker.
type ends struct {
	mu  sync.Mutex
	got []sdk.CallEnd
	ch  chan sdk.CallEnd // when not nil, also gets every event
}

func (e *ends) hooks() sdk.Hooks {
	return sdk.Hooks{CallEnd: func(_ context.Context, info sdk.CallEnd) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.got = append(e.got, info)
		if e.ch != nil {
			e.ch <- info
		}
	}}
}

// take returns the events recorded since the last take.
func (e *ends) take() []sdk.CallEnd {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

// newBreaker returns a breaker for the tests, closed when the test ends.
func newBreaker(t testing.TB, opts ...breaker.Option) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New("grpc-test", opts...)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}
