package breakergrpc_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

const (
	breakerSpan = "circuit_breaker grpc-test"
	rpcSpan     = "grpc.testing.TestService/UnaryCall"
)

// telemetry is a real OTel SDK pipeline: a span recorder and a manual
// metric reader.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *metric.ManualReader
	mp     *metric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: metric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = metric.NewMeterProvider(metric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(t.Context())
		_ = tel.mp.Shutdown(t.Context())
	})
	return tel
}

// breaker returns a breaker whose otelbridge hooks report to tel.
func (tel *telemetry) breaker(t *testing.T) *breaker.Breaker {
	return newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips,
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tel.tp), otelbridge.WithMeterProvider(tel.mp))))
}

// ended returns the ended spans named name.
func (tel *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var got []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name {
			got = append(got, s)
		}
	}
	return got
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// TestClientSpans shows otelgrpc's client span as a child of the
// breaker's span, which classifies the RPC by its status code.
func TestClientSpans(t *testing.T) {
	tel := newTelemetry(t)
	b := tel.breaker(t)
	addr, _ := startServer(t)
	client := dial(t, addr,
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tel.tp))),
		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)))

	// An ignored error names a rule only when a rule matched it: the
	// counted Unavailable names Tracker's rule, the ignored NotFound none,
	// as an ignored HTTP 404 names none through breakerhttp.
	tests := []struct {
		code     codes.Code
		decision string
		rule     string // "": no circuit_breaker.rule attribute
	}{
		{codes.Unavailable, "counted", breakergrpc.RuleFailure},
		{codes.NotFound, "ignored", ""},
	}
	for i, tc := range tests {
		t.Run(tc.code.String(), func(t *testing.T) {
			_, err := client.UnaryCall(t.Context(), statusReq(tc.code))
			require.Equal(t, tc.code, grpcstatus.Code(err))

			cbs, rpcs := tel.ended(breakerSpan), tel.ended(rpcSpan)
			require.Len(t, cbs, i+1)
			require.Len(t, rpcs, i+1)
			cb, rpc := cbs[i], rpcs[i]
			assert.Equal(t, trace.SpanKindClient, rpc.SpanKind())
			assert.Equal(t, cb.SpanContext().SpanID(), rpc.Parent().SpanID(), "otelgrpc's span is a child of the breaker's")
			assert.Equal(t, cb.SpanContext().TraceID(), rpc.SpanContext().TraceID())

			a := attrs(cb)
			assert.Equal(t, breakergrpc.CodeName(tc.code), a[otelbridge.ErrorTypeKey])
			assert.Equal(t, tc.decision, a[otelbridge.DecisionKey])
			rule, ok := a[otelbridge.RuleKey]
			assert.Equal(t, tc.rule != "", ok, "circuit_breaker.rule is set: %v", a)
			assert.Equal(t, tc.rule, rule)
			// The same name as otelgrpc gives the RPC's status.
			assert.Equal(t, breakergrpc.CodeName(tc.code), attrs(rpc)["rpc.response.status_code"])
		})
	}

	// The metrics count the same: one counted UNAVAILABLE, one ignored
	// NOT_FOUND.
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(t.Context(), &rm))
	calls := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != otelbridge.CallsMetric {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				et, _ := dp.Attributes.Value(otelbridge.ErrorTypeKey)
				d, _ := dp.Attributes.Value(otelbridge.DecisionKey)
				calls[et.AsString()+"/"+d.AsString()] += dp.Value
			}
		}
	}
	assert.Equal(t, map[string]int64{"UNAVAILABLE/counted": 1, "NOT_FOUND/ignored": 1}, calls)
}

// TestServerSpans shows the breaker's span as a child of otelgrpc's server
// span, and the handler running in the breaker's span, for unary and
// stream RPCs.
func TestServerSpans(t *testing.T) {
	tel := newTelemetry(t)
	b := tel.breaker(t)
	var handlerSpans sync.Map // full method -> the span context the handler ran in
	seeUnary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		handlerSpans.Store(info.FullMethod, trace.SpanContextFromContext(ctx))
		return handler(ctx, req)
	}
	seeStream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		handlerSpans.Store(info.FullMethod, trace.SpanContextFromContext(ss.Context()))
		return handler(srv, ss)
	}
	addr, _, srv := serve(t,
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tel.tp))),
		grpc.ChainUnaryInterceptor(breakergrpc.UnaryServerInterceptor(b), seeUnary),
		grpc.ChainStreamInterceptor(breakergrpc.StreamServerInterceptor(b), seeStream))
	client := dial(t, addr)

	_, err := client.UnaryCall(t.Context(), statusReq(codes.ResourceExhausted))
	require.Equal(t, codes.ResourceExhausted, grpcstatus.Code(err))
	s, err := client.StreamingOutputCall(t.Context(), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	require.Equal(t, 0, drain(s.Recv))
	// otelgrpc ends a server span after the status went out, so after the
	// client saw it: wait for the server to finish its RPCs.
	srv.GracefulStop()

	cbs := tel.ended(breakerSpan)
	require.Len(t, cbs, 2)
	for i, method := range []string{rpcSpan, "grpc.testing.TestService/StreamingOutputCall"} {
		rpcs := tel.ended(method)
		require.Len(t, rpcs, 1, method)
		assert.Equal(t, trace.SpanKindServer, rpcs[0].SpanKind())
		assert.Equal(t, rpcs[0].SpanContext().SpanID(), cbs[i].Parent().SpanID(), "the breaker's span is a child of otelgrpc's")
		seen, ok := handlerSpans.Load("/" + method)
		require.True(t, ok, method)
		assert.Equal(t, cbs[i].SpanContext(), seen, "the handler runs in the breaker's span")
	}
	a := attrs(cbs[0])
	assert.Equal(t, "RESOURCE_EXHAUSTED", a[otelbridge.ErrorTypeKey])
	assert.Equal(t, "counted", a[otelbridge.DecisionKey])
	assert.Equal(t, "success", attrs(cbs[1])[otelbridge.OutcomeKey])
}
