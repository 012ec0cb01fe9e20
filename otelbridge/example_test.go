package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// printSpans prints each span's name, attributes and status.
func printSpans(rec *tracetest.SpanRecorder) {
	for _, s := range rec.Ended() {
		var kvs []string
		for _, kv := range s.Attributes() {
			kvs = append(kvs, fmt.Sprintf("%s=%s", kv.Key, kv.Value.String()))
		}
		slices.Sort(kvs)
		fmt.Printf("%s [%s] status=%s %q\n", s.Name(), strings.Join(kvs, " "), s.Status().Code, s.Status().Description)
		for _, e := range s.Events() {
			fmt.Println("  event", e.Name)
		}
	}
}

func ExampleHooks() {
	// In a program: otelbridge.Hooks() uses the global providers that the
	// OpenTelemetry SDK set-up installed. Here, a recorder shows the spans.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	errNotFound := errors.New("not found")
	b, err := breaker.New("payments",
		breaker.WithTracker(tracker.Named("not_404", tracker.Not(tracker.Is(errNotFound)))),
		breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5))),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tp))),
	)
	if err != nil {
		panic(err)
	}
	defer b.Close()

	ctx := context.Background()
	_ = b.Do(ctx, func(context.Context) error { return nil })
	// Ignored: not recorded in the window.
	_ = b.Do(ctx, func(context.Context) error { return errNotFound })
	// Counted: 1 failure in 2 calls trips the breaker.
	_ = b.Do(ctx, func(context.Context) error {
		return &fs.PathError{Op: "open", Path: "/ledger", Err: fs.ErrPermission}
	})
	// Rejected.
	_ = b.Do(ctx, func(context.Context) error { return nil })
	printSpans(rec)
	// Output:
	// circuit_breaker payments [circuit_breaker.name=payments circuit_breaker.outcome=success circuit_breaker.state=closed] status=Unset ""
	// circuit_breaker payments [circuit_breaker.decision=ignored circuit_breaker.name=payments circuit_breaker.outcome=error circuit_breaker.rule=not_404 circuit_breaker.state=closed error.type=_OTHER] status=Error "not found"
	// circuit_breaker payments [circuit_breaker.decision=counted circuit_breaker.name=payments circuit_breaker.outcome=error circuit_breaker.rule=not_404 circuit_breaker.state=closed error.type=*fs.PathError] status=Error "open /ledger: permission denied"
	//   event circuit_breaker.state_change
	// circuit_breaker payments [circuit_breaker.name=payments circuit_breaker.outcome=rejected circuit_breaker.state=open error.type=circuit_breaker_open] status=Error "circuit breaker is open"
}

func ExampleWithMeterProvider() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	b, err := breaker.New("inventory", breaker.WithHooks(otelbridge.Hooks(otelbridge.WithMeterProvider(mp))))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	_ = b.Do(context.Background(), func(context.Context) error { return nil })

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range sum.DataPoints {
				if dp.Value != 0 {
					fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
				}
			}
		}
	}
	// Unordered output:
	// circuit_breaker.calls circuit_breaker.name=inventory,circuit_breaker.outcome=success,circuit_breaker.state=closed 1
	// circuit_breaker.state circuit_breaker.name=inventory,circuit_breaker.state=closed 1
}

func ExampleWithSpanStatus() {
	// Leave the status of ignored errors Unset: the breaker ignored them, and
	// so should error-rate views built on span status.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	hooks := otelbridge.Hooks(
		otelbridge.WithTracerProvider(tp),
		otelbridge.WithSpanStatus(func(e sdk.CallEnd) (codes.Code, string) {
			if e.Decision == sdk.DecisionIgnored {
				return codes.Unset, ""
			}
			return otelbridge.DefaultSpanStatus(e)
		}),
	)
	b, err := breaker.New("search",
		breaker.WithTracker(tracker.Not(tracker.Is(context.Canceled))),
		breaker.WithHooks(hooks))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	_ = b.Do(context.Background(), func(context.Context) error { return fmt.Errorf("lookup: %w", context.Canceled) })
	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("index offline") })
	for _, s := range rec.Ended() {
		fmt.Printf("%s %q\n", s.Status().Code, s.Status().Description)
	}
	// Output:
	// Unset ""
	// Error "index offline"
}

func ExampleWithFilter() {
	// No spans for the health-check breaker; its metrics are still recorded.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	hooks := otelbridge.Hooks(
		otelbridge.WithTracerProvider(tp),
		otelbridge.WithFilter(func(_ context.Context, breakerName string) bool {
			return breakerName != "health"
		}),
	)
	health, _ := breaker.New("health", breaker.WithHooks(hooks))
	db, _ := breaker.New("db", breaker.WithHooks(hooks))
	_ = health.Do(context.Background(), func(context.Context) error { return nil })
	_ = db.Do(context.Background(), func(context.Context) error { return nil })
	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// circuit_breaker db
}

func ExampleWithErrorType() {
	// Classify the errors of a client library that have neither an
	// ErrorType method nor a useful Go type.
	errThrottled := errors.New("throttled")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	hooks := otelbridge.Hooks(
		otelbridge.WithTracerProvider(tp),
		otelbridge.WithErrorType(func(err error) string {
			if errors.Is(err, errThrottled) {
				return "throttled"
			}
			return "" // the default: the Go type name, or _OTHER
		}),
	)
	b, _ := breaker.New("s3", breaker.WithHooks(hooks))
	_ = b.Do(context.Background(), func(context.Context) error { return fmt.Errorf("put: %w", errThrottled) })
	_ = b.Do(context.Background(), func(context.Context) error { return &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist} })
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == otelbridge.ErrorTypeKey {
				fmt.Println(kv.Value.AsString())
			}
		}
	}
	// Output:
	// throttled
	// *fs.PathError
}

func ExampleWithSpanNameFormatter() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	hooks := otelbridge.Hooks(
		otelbridge.WithTracerProvider(tp),
		otelbridge.WithSpanNameFormatter(func(name string) string { return "breaker." + name }),
		otelbridge.WithSpanAttributes(attribute.String("peer.service", "payments-api")),
	)
	b, _ := breaker.New("payments", breaker.WithHooks(hooks))
	_ = b.Do(context.Background(), func(context.Context) error { return nil })
	s := rec.Ended()[0]
	fmt.Println(s.Name())
	for _, kv := range s.Attributes() {
		if kv.Key == "peer.service" {
			fmt.Println(kv.Value.AsString())
		}
	}
	// Output:
	// breaker.payments
	// payments-api
}

func ExampleWithRejectedSpanInterval() {
	// An open breaker refuses 1000 calls: by default one of them a second
	// gets a span; the calls metric counts all of them.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b, err := breaker.New("payments", breaker.WithHooks(otelbridge.Hooks(
		otelbridge.WithTracerProvider(tp),
		otelbridge.WithMeterProvider(mp),
		otelbridge.WithRejectedSpanInterval(time.Minute), // the default is otelbridge.DefaultRejectedSpanInterval
	)))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	ctx := context.Background()
	b.ForceOpen(ctx)
	for range 1000 {
		_ = b.Do(ctx, func(context.Context) error { return nil })
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == otelbridge.CallsMetric {
			fmt.Println("rejected calls counted:", m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
		}
	}
	fmt.Println("spans:", len(rec.Ended()))
	// Output:
	// rejected calls counted: 1000
	// spans: 1
}

func ExampleWithKeyOnMetrics() {
	// The breakers of a breaker.Group share its name and differ by key. For
	// a large key space, keep the key on spans only: the metrics then add up
	// over the keys. Here the hooks are driven by hand, as a group's
	// breakers would drive them.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	hooks := otelbridge.Hooks(otelbridge.WithMeterProvider(mp), otelbridge.WithKeyOnMetrics(false))
	for _, host := range []string{"a.example", "b.example", "c.example"} {
		ctx := hooks.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: host, State: sdk.StateClosed})
		hooks.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: host, State: sdk.StateClosed, Outcome: sdk.OutcomeSuccess})
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == otelbridge.CallsMetric {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				fmt.Println(dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Output:
	// circuit_breaker.name=hosts,circuit_breaker.outcome=success,circuit_breaker.state=closed 3
}

func ExampleWithMetricKeyLimit() {
	// A group whose keys come from clients (a Host header, a tenant) sees
	// new keys without end. The metrics give a key value of their own to
	// the first keys of a name only, for good, and report the others as
	// _OTHER; spans keep every key. Here the limit is 2 and the hooks are
	// driven by hand, as a group's breakers would drive them. (The first
	// key past the limit is reported once through otel.Handle.)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	hooks := otelbridge.Hooks(otelbridge.WithMeterProvider(mp), otelbridge.WithMetricKeyLimit(2))
	for _, host := range []string{"a.example", "b.example", "c.example", "d.example", "a.example"} {
		ctx := hooks.CallStart(context.Background(), sdk.CallStart{Name: "hosts", Key: host, State: sdk.StateClosed})
		hooks.CallEnd(ctx, sdk.CallEnd{Name: "hosts", Key: host, State: sdk.StateClosed, Outcome: sdk.OutcomeSuccess})
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == otelbridge.CallsMetric {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				key, _ := dp.Attributes.Value(otelbridge.KeyKey)
				lines = append(lines, fmt.Sprintf("%s %d", key.AsString(), dp.Value))
			}
		}
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// _OTHER 2
	// a.example 2
	// b.example 1
}

// A breaker in shadow mode (breaker.WithEnforcement(0)) refuses nothing;
// the calls it would have refused carry circuit_breaker.would_reject=true
// in circuit_breaker.calls, beside what the calls did.
func ExampleHooks_shadowMode() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b, err := breaker.New("payments",
		breaker.WithEnforcement(0),
		breaker.WithTripper(breaker.FailureStreak(2)),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithMeterProvider(mp))))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	for range 5 {
		_ = b.Do(context.Background(), func(context.Context) error { return errors.New("down") })
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == otelbridge.CallsMetric {
			for _, dp := range sum.DataPoints {
				fmt.Println(dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// circuit_breaker.decision=counted,circuit_breaker.name=payments,circuit_breaker.outcome=error,circuit_breaker.state=closed,error.type=_OTHER 2
	// circuit_breaker.decision=counted,circuit_breaker.name=payments,circuit_breaker.outcome=error,circuit_breaker.state=open,circuit_breaker.would_reject=true,error.type=_OTHER 3
}
