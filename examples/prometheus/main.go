// Command prometheus runs a small payment service whose circuit breaker is
// observed through OpenTelemetry metrics, exposed for Prometheus on
// /metrics by the OpenTelemetry Prometheus exporter, with exemplars that
// link latency buckets to the breaker's spans.
//
//	go -C examples run ./prometheus   # listens on 127.0.0.1:9464
//	curl -s localhost:9464/charge     # one call through the breaker
//	curl -s localhost:9464/metrics | grep circuit_breaker
//	curl -s -H 'Accept: application/openmetrics-text' localhost:9464/metrics |
//		grep 'call_duration_seconds_bucket.*trace_id'  # the exemplars
//
// Every call runs in a sampled span of an OpenTelemetry tracer provider,
// so the duration histogram records the span's trace and span IDs as an
// exemplar of the bucket the call fell into (the metric SDK's default
// exemplar filter keeps measurements made in sampled spans). /metrics
// serves the OpenMetrics format, the one that carries exemplars, to a
// scraper that asks for it: a Prometheus started with
// --enable-feature=exemplar-storage does, and Grafana then shows each
// exemplar as a dot on a latency panel that opens the trace. This example
// exports no spans; a real service adds an exporter (OTLP to Tempo or
// Jaeger, say) to the tracer provider so that the trace can be opened.
//
// A built-in load generator calls a flaky provider every -load interval, so
// the metrics move on their own; -load=0 turns it off.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

// ProviderError is an error of the payment provider; ErrorType gives its
// class for the error.type label.
type ProviderError struct{ Code, Message string }

// Error returns the message.
func (e *ProviderError) Error() string { return e.Message }

// ErrorType returns the error's class.
func (e *ProviderError) ErrorType() string { return e.Code }

var (
	errUnavailable = &ProviderError{Code: "provider_unavailable", Message: "payment provider unavailable"}
	errDeclined    = &ProviderError{Code: "card_declined", Message: "card declined"}
)

// provider is the flaky dependency: it answers from a script that cycles.
type provider struct {
	mu    sync.Mutex // guards calls
	calls int
}

var script = []error{nil, errDeclined, errUnavailable, nil, errUnavailable, errUnavailable, nil, nil}

func (p *provider) charge(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := script[p.calls%len(script)]
	p.calls++
	return err
}

func run(ctx context.Context, w io.Writer, args []string) error {
	flags := flag.NewFlagSet("prometheus", flag.ContinueOnError)
	flags.SetOutput(w)
	listen := flags.String("listen", "127.0.0.1:9464", "address to serve /metrics and /charge on")
	load := flags.Duration("load", 200*time.Millisecond, "interval of the built-in load generator (0: off)")
	cooldown := flags.Duration("cooldown", 5*time.Second, "how long the breaker stays open")
	if err := flags.Parse(args); err != nil {
		return err
	}

	// OpenTelemetry metrics, read by the Prometheus exporter into a registry
	// of our own.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	// Spans for every call: their IDs become the histogram's exemplars.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	b, err := breaker.New("payments",
		breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithTracker(tracker.Named("provider_down", tracker.Is(errUnavailable))),
		breaker.WithTripper(breaker.MinRequests(5).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Cooldown(*cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithMeterProvider(mp), otelbridge.WithTracerProvider(tp))),
	)
	if err != nil {
		return err
	}
	defer b.Close()
	p := &provider{}
	charge := func(ctx context.Context) error {
		return b.Do(ctx, p.charge)
	}

	mux := http.NewServeMux()
	// EnableOpenMetrics: the format with exemplars, for scrapers that ask
	// for it; others still get the classic text format.
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/charge", func(w http.ResponseWriter, r *http.Request) {
		err := charge(r.Context())
		var npe breaker.NotPermittedError
		switch {
		case err == nil:
			_, _ = io.WriteString(w, "charged\n")
		case errors.As(err, &npe):
			w.Header().Set("Retry-After", strconv.FormatInt(npe.RetryAfterSeconds(), 10))
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case errors.Is(err, errDeclined):
			http.Error(w, err.Error(), http.StatusPaymentRequired)
		default:
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(w, "serving http://%s/metrics and http://%s/charge\n", ln.Addr(), ln.Addr())

	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		wg.Wait()
	}()
	if *load > 0 {
		wg.Go(func() {
			t := time.NewTicker(*load)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_ = charge(ctx)
				}
			}
		})
	}
	wg.Go(func() {
		<-ctx.Done()
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(shutdown)
	})
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
