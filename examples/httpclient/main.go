// Command httpclient protects an HTTP client, instrumented with otelhttp,
// with a circuit breaker in one line: breakerhttp.NewTransport around
// otelhttp's transport. Each request runs inside the breaker's span, so
// otelhttp's client span is its child. breakerhttp.DefaultTracker counts
// 5xx answers, timeouts and network errors (a body cut short included)
// against the breaker and ignores 4xx answers, which are the caller's
// problem, not the server's; the caller gets every response untouched.
//
// The server is a local httptest server on the loopback interface that
// answers 200, 404 or 503, cuts a body short, or stalls, depending on the
// path.
//
//	go -C examples run ./httpclient
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

// config is what the flags set.
type config struct {
	cooldown time.Duration // the breaker's open period
	timeout  time.Duration // per-request timeout
	stall    time.Duration // how long /stall stalls
}

func run(ctx context.Context, w io.Writer, args []string) error {
	var cfg config
	flags := flag.NewFlagSet("httpclient", flag.ContinueOnError)
	flags.SetOutput(w)
	flags.DurationVar(&cfg.cooldown, "cooldown", 500*time.Millisecond, "how long the breaker stays open")
	flags.DurationVar(&cfg.timeout, "timeout", 100*time.Millisecond, "per-request timeout")
	flags.DurationVar(&cfg.stall, "stall", 2*time.Second, "how long the server's /stall endpoint stalls")
	if err := flags.Parse(args); err != nil {
		return err
	}

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	printed := 0
	report := func(format string, a ...any) {
		fmt.Fprintf(w, format+"\n", a...)
		spans := rec.Ended()
		printTrees(w, spans[printed:])
		printed = len(spans)
	}
	return demo(ctx, cfg, tp, report)
}

// newServer starts the local server: /ok answers 200, /missing 404,
// /unavailable 503, /truncated promises a body it does not send, and
// /stall answers 200 after stall (or when the client gives up).
func newServer(stall time.Duration) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "try later", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/truncated", func(w http.ResponseWriter, _ *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
		_ = rw.Flush()
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
		}
	})
	return httptest.NewServer(mux) // 127.0.0.1, a free port
}

// demo runs the requests; report is called after each one.
func demo(ctx context.Context, cfg config, tp trace.TracerProvider, report func(format string, a ...any)) error {
	srv := newServer(cfg.stall)
	defer srv.Close()

	b, err := breaker.New("inventory-api",
		breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.MinRequests(4).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Cooldown(cfg.cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tp))),
	)
	if err != nil {
		return err
	}
	defer b.Close()

	// The one line: every request through client goes through b.
	client := &http.Client{Transport: breakerhttp.NewTransport(otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp)), b)}
	defer client.CloseIdleConnections()

	// get returns the response's status, or the error of a request that
	// failed or was refused; the breaker's call ends when the body is read.
	get := func(ctx context.Context, path string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return "", fmt.Errorf("%s, then reading the body: %w", resp.Status, err)
		}
		return resp.Status, nil
	}

	for _, path := range []string{"/ok", "/missing", "/unavailable", "/truncated", "/stall", "/ok", "", "/ok", "/ok"} {
		if path == "" {
			report("... waiting %v for the breaker's cooldown", cfg.cooldown)
			select {
			case <-time.After(cfg.cooldown):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		result, err := get(ctx, path)
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err // without the method and URL
		}
		if err != nil {
			result = err.Error()
		}
		report("GET %-12s -> %s (breaker %s)", path, result, b.State())
	}
	return nil
}

// printTrees prints the breaker spans among spans, each with its children.
func printTrees(w io.Writer, spans []sdktrace.ReadOnlySpan) {
	for _, s := range spans {
		if s.InstrumentationScope().Name != otelbridge.ScopeName {
			continue
		}
		fmt.Fprintf(w, "  %s\n", describe(s))
		for _, e := range s.Events() {
			a := map[attribute.Key]string{}
			for _, kv := range e.Attributes {
				a[kv.Key] = kv.Value.String()
			}
			fmt.Fprintf(w, "     event %s: %s -> %s (%s)\n", e.Name,
				a[otelbridge.PreviousStateKey], a[otelbridge.StateKey], a[otelbridge.TransitionReasonKey])
		}
		for _, c := range spans {
			if c.Parent().SpanID() == s.SpanContext().SpanID() {
				fmt.Fprintf(w, "  └─ %s\n", describe(c))
			}
		}
	}
}

// shown are the attributes describe prints.
var shown = []attribute.Key{
	"circuit_breaker.state", "circuit_breaker.outcome", "circuit_breaker.decision", "circuit_breaker.rule",
	"http.request.method", "http.response.status_code", "error.type",
}

func describe(s sdktrace.ReadOnlySpan) string {
	var kvs []string
	for _, kv := range s.Attributes() {
		if slices.Contains(shown, kv.Key) {
			kvs = append(kvs, string(kv.Key)+"="+kv.Value.String())
		}
	}
	status := s.Status().Code.String()
	if d := s.Status().Description; d != "" {
		status += " " + strconv.Quote(d)
	}
	return fmt.Sprintf("%s [%s] status=%s", s.Name(), strings.Join(kvs, " "), status)
}
