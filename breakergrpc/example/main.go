// Command example protects a gRPC client with a circuit breaker in one
// line and shows, for every RPC, the breaker's span with its decision and
// otelgrpc's client span as its child.
//
// The server is the standard gRPC health service on 127.0.0.1, behind a
// breaker of its own that sheds load. The client asks it about a known
// service (SERVING), about an unknown one (NotFound: the caller's problem,
// ignored by the breaker), and then, while the server sheds load, gets
// Unavailable three times: the client's breaker opens, and the next RPC is
// refused without being sent (there is no RPC span under its breaker
// span).
//
//	go run ./example
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run runs the demo and writes what happens to w.
func run(ctx context.Context, w io.Writer) error {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	// The server: the health service, on a free loopback port, shedding
	// load with its own breaker.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	shed, err := breaker.New("health-server", breaker.WithTracker(breakergrpc.Tracker()))
	if err != nil {
		return err
	}
	defer shed.Close()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(breakergrpc.UnaryServerInterceptor(shed)))
	hs := health.NewServer()
	hs.SetServingStatus("inventory", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	defer srv.Stop()

	// The breaker: classified by status code, open after three counted
	// failures in a row, telemetry through otelbridge.
	b, err := breaker.New("inventory",
		breaker.WithTracker(breakergrpc.Tracker()),
		breaker.WithTripper(breaker.FailureStreak(3)),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tp)), sdk.Hooks{
			StateChange: func(_ context.Context, t sdk.Transition) {
				fmt.Fprintf(w, "  breaker %s: %s -> %s (%s)\n", t.Name, t.From, t.To, t.Reason)
			},
		}),
	)
	if err != nil {
		return err
	}
	defer b.Close()

	// The client, protected in one line.
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tp))),
		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)),
	)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	printed := 0
	check := func(service string) {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		switch {
		case errors.Is(err, breaker.ErrNotPermitted):
			fmt.Fprintf(w, "check %-9s -> %s, not sent: %s\n", service, status.Code(err), status.Convert(err).Message())
		case err != nil:
			fmt.Fprintf(w, "check %-9s -> %s: %s (breaker %s)\n", service, status.Code(err), status.Convert(err).Message(), b.State())
		default:
			fmt.Fprintf(w, "check %-9s -> %s (breaker %s)\n", service, resp.GetStatus(), b.State())
		}
		spans := rec.Ended()
		printTree(w, spans[printed:])
		printed = len(spans)
	}

	check("inventory")
	check("catalog")
	fmt.Fprintln(w, "-- the server sheds load (its breaker is forced open)")
	shed.ForceOpen(ctx)
	for range 3 {
		check("inventory")
	}
	check("inventory")

	srv.Stop()
	return <-served
}

// printTree writes spans as trees, children under their parent, with the
// attributes that tell what the breaker and gRPC made of the call.
func printTree(w io.Writer, spans []sdktrace.ReadOnlySpan) {
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if p := s.Parent().SpanID(); ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var walk func(s sdktrace.ReadOnlySpan, indent string)
	walk = func(s sdktrace.ReadOnlySpan, indent string) {
		fmt.Fprintf(w, "%s%s [%s]\n", indent, s.Name(), shown(s.Attributes()))
		for _, c := range children[s.SpanContext().SpanID()] {
			walk(c, indent+"  └─ ")
		}
	}
	for _, r := range roots {
		walk(r, "  ")
	}
}

// shownKeys are the attributes printTree shows, in this order.
var shownKeys = []attribute.Key{
	otelbridge.OutcomeKey, otelbridge.DecisionKey, otelbridge.RuleKey, otelbridge.ErrorTypeKey,
	"rpc.response.status_code",
}

func shown(attrs []attribute.KeyValue) string {
	var parts []string
	for _, k := range shownKeys {
		if i := slices.IndexFunc(attrs, func(kv attribute.KeyValue) bool { return kv.Key == k }); i >= 0 {
			parts = append(parts, string(k)+"="+attrs[i].Value.String())
		}
	}
	return strings.Join(parts, " ")
}
