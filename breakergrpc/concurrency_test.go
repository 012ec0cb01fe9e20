package breakergrpc_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// balance counts the calls a breaker started and ended.
type balance struct {
	started, ended atomic.Int64
	changed        chan struct{} // gets a token when a call ends
}

func newBalance() *balance { return &balance{changed: make(chan struct{}, 1)} }

func (bal *balance) hooks() sdk.Hooks {
	return sdk.Hooks{
		CallStart: func(ctx context.Context, _ sdk.CallStart) context.Context {
			bal.started.Add(1)
			return ctx
		},
		CallEnd: func(context.Context, sdk.CallEnd) {
			bal.ended.Add(1)
			select {
			case bal.changed <- struct{}{}:
			default:
			}
		},
	}
}

// wait waits until every call started so far ended: the calls of
// abandoned streams end on their own goroutines, after the RPC returned.
func (bal *balance) wait(t *testing.T) {
	t.Helper()
	timeout := time.After(30 * time.Second) // a bound on a hang, not a timing
	for bal.started.Load() != bal.ended.Load() {
		select {
		case <-bal.changed:
		case <-timeout:
			t.Fatalf("%d calls never ended", bal.started.Load()-bal.ended.Load())
		}
	}
}

// flip forces one breaker open and resets the other.
func flip(clientOpen bool, cb, sb *breaker.Breaker) {
	if clientOpen {
		cb.ForceOpen(context.Background())
		sb.Reset(context.Background())
		return
	}
	cb.Reset(context.Background())
	sb.ForceOpen(context.Background())
}

// Many goroutines make unary and stream RPCs, some abandoned by a canceled
// context, through client and server interceptors while some of them
// force the breakers open and closed: every call ends exactly once.
func TestConcurrentRPCs(t *testing.T) {
	cbal, sbal := newBalance(), newBalance()
	cb := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), breaker.WithHooks(cbal.hooks()))
	sb, err := breaker.New("grpc-test-server", breaker.WithTracker(breakergrpc.Tracker()), breaker.WithHooks(sbal.hooks()))
	require.NoError(t, err)
	addr, _ := startServer(t,
		grpc.UnaryInterceptor(breakergrpc.UnaryServerInterceptor(sb)),
		grpc.StreamInterceptor(breakergrpc.StreamServerInterceptor(sb)))
	client := dial(t, addr,
		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(cb)),
		grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(cb)))

	const workers, calls = 16, 40
	var wg sync.WaitGroup
	var refused atomic.Int64
	codesToAsk := []codes.Code{codes.OK, codes.Unavailable, codes.NotFound, codes.Internal}
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				if w%4 == 0 && i%10 == 9 { // a few workers flip the breakers now and then
					flip(i/10%2 == 0, cb, sb)
				}
				var err error
				switch i % 3 {
				case 0:
					_, err = client.UnaryCall(t.Context(), statusReq(codesToAsk[(w+i)%len(codesToAsk)]))
				case 1:
					var s grpc.ServerStreamingClient[testgrpc.StreamingOutputCallResponse]
					s, err = client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{
						ResponseParameters: make([]*testgrpc.ResponseParameters, 2)})
					if err == nil {
						_, err = drainErr(s.Recv)
					}
				case 2: // abandoned after one message
					ctx, cancel := context.WithCancel(t.Context())
					var s grpc.BidiStreamingClient[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]
					s, err = client.FullDuplexCall(ctx)
					if err == nil {
						err = s.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: make([]*testgrpc.ResponseParameters, 1)})
						if err == nil {
							_, err = s.Recv()
						}
					}
					cancel()
				}
				if status.Code(err) == codes.Unavailable && status.Convert(err).Message() != "asked for Unavailable" {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()

	cbal.wait(t)
	sbal.wait(t)
	assert.EqualValues(t, workers*calls, cbal.started.Load(), "every RPC is one call of the client's breaker")
	t.Logf("client calls %d, server calls %d, refusals seen %d", cbal.started.Load(), sbal.started.Load(), refused.Load())
	sb.Close()
}
