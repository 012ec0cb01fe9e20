// Command quickstart is fluxgate's demo: a breaker with a composed tracker
// protects a flaky payment provider, and every call's span is printed with
// the OpenTelemetry stdout exporter. The spans show errors the tracker
// counted and errors it ignored, the breaker opening (a
// circuit_breaker.state_change event on the call that tripped it), a call
// it rejected, and its recovery.
//
//	go -C examples run ./quickstart            # pretty-printed spans
//	go -C examples run ./quickstart -compact   # one JSON line per span
//
// It needs no network and finishes in about a second.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
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

// The provider's errors: an outage, which should count against the
// breaker, and a declined card, which says nothing about the provider's
// health.
var (
	errUnavailable = &ProviderError{Code: "provider_unavailable", Message: "payment provider unavailable"}
	errDeclined    = &ProviderError{Code: "card_declined", Message: "card declined: insufficient funds"}
)

// ProviderError is an error of the payment provider.
type ProviderError struct{ Code, Message string }

// Error returns the message.
func (e *ProviderError) Error() string { return e.Message }

// ErrorType gives the error's class, which otelbridge reports as the
// error.type attribute (never the message).
func (e *ProviderError) ErrorType() string { return e.Code }

// provider is the flaky dependency: it answers from a script, one entry per
// call (nil is a success).
type provider struct {
	script []error
	calls  int
}

func (p *provider) charge(ctx context.Context, cents int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	time.Sleep(5 * time.Millisecond) // the network round trip
	err := p.script[p.calls%len(p.script)]
	p.calls++
	return err
}

func run(ctx context.Context, w io.Writer, args []string) error {
	flags := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	flags.SetOutput(w)
	cooldown := flags.Duration("cooldown", time.Second, "how long the breaker stays open before it lets a probe through")
	compact := flags.Bool("compact", false, "print one JSON line per span")
	if err := flags.Parse(args); err != nil {
		return err
	}

	// OpenTelemetry: spans go to w as soon as they end.
	opts := []stdouttrace.Option{stdouttrace.WithWriter(w)}
	if !*compact {
		opts = append(opts, stdouttrace.WithPrettyPrint())
	}
	exporter, err := stdouttrace.New(opts...)
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exporter),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()

	say := func(format string, a ...any) { fmt.Fprintf(w, "### "+format+"\n", a...) }

	// The breaker: outages and timeouts count, declined cards are ignored;
	// it opens once 4 calls were recorded and half of them failed.
	transient := tracker.Named("transient", tracker.Is(errUnavailable).Or(tracker.Is(context.DeadlineExceeded)))
	b, err := breaker.New("payments",
		breaker.WithWindow(breaker.CountWindow(10)),
		breaker.WithTracker(transient),
		breaker.WithTripper(breaker.MinRequests(4).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Cooldown(*cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(
			otelbridge.Hooks(otelbridge.WithTracerProvider(tp)),
			// A line per decision and per transition, next to the span
			// attributes and events the bridge records.
			sdk.Hooks{
				CallEnd: func(_ context.Context, c sdk.CallEnd) {
					if c.Outcome == sdk.OutcomeError {
						rule := "rule " + c.Rule
						if c.Rule == "" {
							rule = "no rule matched it"
						}
						say("tracker: %q is %s (%s)", c.Err, c.Decision, rule)
					}
				},
				StateChange: func(_ context.Context, t sdk.Transition) {
					say("transition: %s -> %s (%s; the window had %d calls, %d failures)", t.From, t.To, t.Reason, t.Window.Calls, t.Window.Failures)
				},
			},
		),
	)
	if err != nil {
		return err
	}
	defer b.Close()

	p := &provider{script: []error{
		nil,            // 1: charged
		errDeclined,    // 2: ignored
		nil,            // 3: charged
		errUnavailable, // 4: counted
		errUnavailable, // 5: counted: 2 of 4 failed, the breaker opens
		// 6: rejected, the provider is not called
		nil, // 7: after the cooldown, the probe succeeds and the breaker closes
		nil, // 8: charged
	}}
	for i := 1; i <= 8; i++ {
		if i == 7 {
			say("waiting %v for the breaker's cooldown", *cooldown)
			select {
			case <-time.After(*cooldown):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := b.Do(ctx, func(ctx context.Context) error { return p.charge(ctx, 4200) })
		var npe breaker.NotPermittedError
		switch {
		case err == nil:
			say("call %d: charged; breaker %s", i, b.State())
		case errors.As(err, &npe):
			say("call %d: rejected (%v), retry after %v; breaker %s", i, err, npe.RetryAfter().Round(time.Millisecond), b.State())
		default:
			say("call %d: %v; breaker %s", i, err, b.State())
		}
	}
	return nil
}
