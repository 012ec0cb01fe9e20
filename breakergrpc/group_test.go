package breakergrpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// openGroup returns a group whose breakers open at the first counted
// failure and stay open for a minute.
func openGroup(t *testing.T, opts ...breaker.Option) *breaker.Group {
	t.Helper()
	g, err := breaker.NewGroup("grpc-test", append([]breaker.Option{
		breaker.WithTracker(breakergrpc.Tracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Minute, 0)),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	return g
}

const (
	unaryMethod = "/grpc.testing.TestService/UnaryCall"
	emptyMethod = "/grpc.testing.TestService/EmptyCall"
)

func TestGroupClientByMethod(t *testing.T) {
	g := openGroup(t)
	addr, svc := startServer(t)
	client := dial(t, addr,
		grpc.WithUnaryInterceptor(breakergrpc.GroupUnaryClientInterceptor(g, breakergrpc.ByMethod)),
		grpc.WithStreamInterceptor(breakergrpc.GroupStreamClientInterceptor(g, breakergrpc.ByMethod)))

	_, err := client.UnaryCall(t.Context(), statusReq(codes.Unavailable))
	require.Equal(t, codes.Unavailable, status.Code(err))
	ub, err := g.Get(unaryMethod)
	require.NoError(t, err)
	require.Equal(t, sdk.StateOpen, ub.State())

	// UnaryCall's breaker is open; EmptyCall's and the stream's are not.
	_, err = client.UnaryCall(t.Context(), statusReq(codes.OK))
	checkRefusal(t, err, "CIRCUIT_BREAKER_OPEN", true)
	assert.Equal(t, unaryMethod, refusalKey(t, err))
	_, err = client.EmptyCall(t.Context(), &testgrpc.Empty{})
	require.NoError(t, err)
	s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	require.Equal(t, 0, drain(s.Recv))
	assert.EqualValues(t, 3, svc.hits.Load())
	assert.Equal(t, 3, g.Len())
}

// refusalKey returns the key in a refusal's ErrorInfo.
func refusalKey(t *testing.T, err error) string {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetMetadata()["key"]
		}
	}
	t.Fatal("no ErrorInfo")
	return ""
}

func TestGroupServerByTenant(t *testing.T) {
	g := openGroup(t)
	tenant := breakergrpc.ByIncomingMetadata("X-Tenant")
	addr, svc := startServer(t,
		grpc.UnaryInterceptor(breakergrpc.GroupUnaryServerInterceptor(g, tenant)),
		grpc.StreamInterceptor(breakergrpc.GroupStreamServerInterceptor(g, tenant)))
	client := dial(t, addr)
	as := func(ctx context.Context, name string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "x-tenant", name)
	}

	_, err := client.UnaryCall(as(t.Context(), "a"), statusReq(codes.Internal))
	require.Equal(t, codes.Internal, status.Code(err))

	// Tenant a's breaker sheds a's load, unary and streams; b is served.
	_, err = client.UnaryCall(as(t.Context(), "a"), statusReq(codes.OK))
	checkRefusalStatus(t, err, "CIRCUIT_BREAKER_OPEN", true)
	assert.Equal(t, "a", refusalKey(t, err))
	s, err := client.StreamingOutputCall(as(t.Context(), "a"), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	_, err = s.Recv()
	checkRefusalStatus(t, err, "CIRCUIT_BREAKER_OPEN", true)
	assert.EqualValues(t, 1, svc.hits.Load())

	_, err = client.UnaryCall(as(t.Context(), "b"), statusReq(codes.OK))
	require.NoError(t, err)
	_, err = client.EmptyCall(t.Context(), &testgrpc.Empty{}) // no tenant: key ""
	require.NoError(t, err)
	assert.EqualValues(t, 3, svc.hits.Load())
	info := g.Info()
	assert.Equal(t, sdk.StateOpen, info["a"].State)
	assert.Equal(t, sdk.StateClosed, info["b"].State)
	assert.Contains(t, info, "")
}

func TestGroupGetFails(t *testing.T) {
	g := openGroup(t, breaker.WithKeyOptions(func(key string) []breaker.Option {
		if key == emptyMethod {
			return []breaker.Option{breaker.WithMaxHalfOpenCalls(-1)}
		}
		return nil
	}))
	addr, svc := startServer(t)
	client := dial(t, addr, grpc.WithUnaryInterceptor(breakergrpc.GroupUnaryClientInterceptor(g, breakergrpc.ByMethod)))

	_, err := client.EmptyCall(t.Context(), &testgrpc.Empty{})
	assert.Equal(t, codes.Internal, status.Code(err))
	var ce *breaker.ConfigError
	assert.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), `breakergrpc: no breaker for key "/grpc.testing.TestService/EmptyCall": `)

	g.Close()
	_, err = client.UnaryCall(t.Context(), statusReq(codes.OK))
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, breaker.ErrGroupClosed)
	assert.Zero(t, svc.hits.Load(), "no RPC is sent without a breaker")
}

func TestKeyFuncs(t *testing.T) {
	ctx := t.Context()
	assert.Equal(t, unaryMethod, breakergrpc.ByMethod(ctx, unaryMethod))
	assert.Equal(t, "/grpc.testing.TestService", breakergrpc.ByService(ctx, unaryMethod))
	assert.Equal(t, "odd", breakergrpc.ByService(ctx, "odd"))

	tenant := breakergrpc.ByIncomingMetadata("Tenant")
	assert.Equal(t, "", tenant(ctx, unaryMethod))
	in := metadata.NewIncomingContext(ctx, metadata.Pairs("tenant", "t1", "tenant", "t2"))
	assert.Equal(t, "t1", tenant(in, unaryMethod))
	assert.PanicsWithValue(t, "breakergrpc: ByIncomingMetadata requires a metadata name", func() { breakergrpc.ByIncomingMetadata("") })
}

func TestGroupBadInput(t *testing.T) {
	g := openGroup(t)
	constructors := map[string]func(*breaker.Group, breakergrpc.KeyFunc){
		"GroupUnaryClientInterceptor":  func(g *breaker.Group, k breakergrpc.KeyFunc) { breakergrpc.GroupUnaryClientInterceptor(g, k) },
		"GroupStreamClientInterceptor": func(g *breaker.Group, k breakergrpc.KeyFunc) { breakergrpc.GroupStreamClientInterceptor(g, k) },
		"GroupUnaryServerInterceptor":  func(g *breaker.Group, k breakergrpc.KeyFunc) { breakergrpc.GroupUnaryServerInterceptor(g, k) },
		"GroupStreamServerInterceptor": func(g *breaker.Group, k breakergrpc.KeyFunc) { breakergrpc.GroupStreamServerInterceptor(g, k) },
	}
	for name, construct := range constructors {
		t.Run(name, func(t *testing.T) {
			assert.PanicsWithValue(t, "breakergrpc: "+name+" requires a non-nil *breaker.Group", func() { construct(nil, breakergrpc.ByMethod) })
			assert.PanicsWithValue(t, "breakergrpc: "+name+" requires a non-nil KeyFunc", func() { construct(g, nil) })
		})
	}
}
