package breakergrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// A client protected in one line. The server at the address drops every
// connection, so every RPC fails with Unavailable; after three in a row the
// breaker opens and refuses RPCs without sending them.
func ExampleUnaryClientInterceptor() {
	b, err := breaker.New("inventory",
		breaker.WithTracker(breakergrpc.Tracker()),
		breaker.WithTripper(breaker.FailureStreak(3)),
		breaker.WithRetry(breaker.Cooldown(30*time.Second, 0)),
	)
	if err != nil {
		panic(err)
	}
	addr, stop := droppingServer()
	defer stop()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b))) // the one line
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	client := healthpb.NewHealthClient(conn)
	for i := 1; i <= 4; i++ {
		_, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Printf("call %d: %s, refused by the breaker: %t\n", i, status.Code(err), errors.Is(err, breaker.ErrNotPermitted))
	}
	var npe breaker.NotPermittedError
	_, err = client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if errors.As(err, &npe) {
		fmt.Println(npe.State(), "for about", npe.RetryAfter().Round(time.Minute/2))
	}
	// Output:
	// call 1: Unavailable, refused by the breaker: false
	// call 2: Unavailable, refused by the breaker: false
	// call 3: Unavailable, refused by the breaker: false
	// call 4: Unavailable, refused by the breaker: true
	// open for about 30s
}

// droppingServer listens on 127.0.0.1 and closes every connection at
// once, until stop is called.
func droppingServer() (addr string, stop func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return // closed by stop
			}
			conn.Close()
		}
	}()
	return lis.Addr().String(), func() { lis.Close() }
}

// A server sheds load: while its breaker refuses, RPCs get Unavailable and
// the handler does not run.
func ExampleUnaryServerInterceptor() {
	b, err := breaker.New("health-server", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(breakergrpc.UnaryServerInterceptor(b)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Println(resp.GetStatus(), err)

	b.ForceOpen(context.Background()) // as a tripped breaker would
	_, err = client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Println(status.Code(err), status.Convert(err).Message())
	// Output:
	// SERVING <nil>
	// Unavailable circuit breaker is forced open
}

// The ready rule counts failures of the server and ignores errors of the
// request; the breaker's telemetry names each by its code. A counted error
// names the rule that matched it; an ignored one names none, since no rule
// matched it.
func ExampleTracker() {
	rule := breakergrpc.Tracker()
	for _, err := range []error{
		status.Error(codes.Unavailable, "connection refused"),
		status.Error(codes.DeadlineExceeded, "too slow"),
		status.Error(codes.NotFound, "no such item"),
		status.Error(codes.Canceled, "caller left"),
	} {
		v := rule.Track(context.Background(), err)
		fmt.Println(strings.TrimSpace(fmt.Sprint(status.Code(err), " ", v.Decision, " ", v.Rule)))
	}
	// Output:
	// Unavailable counted grpc_failure
	// DeadlineExceeded counted grpc_failure
	// NotFound ignored
	// Canceled ignored
}

// Rules compose: count Aborted too, except for one method.
func ExampleCodes() {
	type methodKey struct{}
	isAudit := tracker.Named("audit", tracker.Custom(func(ctx context.Context, _ error) bool {
		return ctx.Value(methodKey{}) == "/shop.Audit/Log"
	}))
	rule := breakergrpc.Tracker().Or(breakergrpc.Codes(codes.Aborted)).And(tracker.Not(isAudit))
	fmt.Println(rule)

	aborted := status.Error(codes.Aborted, "conflict")
	audit := context.WithValue(context.Background(), methodKey{}, "/shop.Audit/Log")
	fmt.Println(rule.Track(context.Background(), aborted).Decision, rule.Track(audit, aborted).Decision)
	// Output:
	// (grpc_failure | grpc_code) & !audit
	// counted ignored
}

// A stream is one call of the breaker, from its opening to its end.
func ExampleStreamClientInterceptor() {
	b, err := breaker.New("inventory", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		panic(err)
	}
	conn, err := grpc.NewClient("127.0.0.1:50051", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)),
		grpc.WithChainStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	// Use conn: RecvMsg's io.EOF ends a stream's call as a success, its
	// first other error as that error.
}

// A server with a breaker per tenant: one tenant's breaker sheds that
// tenant's load only.
func ExampleGroupUnaryServerInterceptor() {
	g, err := breaker.NewGroup("tenants", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		panic(err)
	}
	defer g.Close()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(
		breakergrpc.GroupUnaryServerInterceptor(g, breakergrpc.ByIncomingMetadata("x-tenant"))))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	if err := g.ForceOpen(context.Background(), "acme"); err != nil { // as acme's failures would
		panic(err)
	}
	for _, tenant := range []string{"acme", "globex"} {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-tenant", tenant)
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		fmt.Println(tenant, status.Code(err))
	}
	// Output:
	// acme Unavailable
	// globex OK
}
