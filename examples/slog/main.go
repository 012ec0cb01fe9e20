// Command slog logs a circuit breaker's state transitions with log/slog,
// through breaker.LogHooks: fluxgate's LogListener for Go. Transitions to
// open are logged at WARN, the others at INFO; here a levels map raises
// forced_open to ERROR.
//
//	go -C examples run ./slog          # text records
//	go -C examples run ./slog -json    # JSON records
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, args []string) error {
	flags := flag.NewFlagSet("slog", flag.ContinueOnError)
	flags.SetOutput(w)
	asJSON := flags.Bool("json", false, "log JSON records")
	cooldown := flags.Duration("cooldown", 200*time.Millisecond, "how long the breaker stays open")
	if err := flags.Parse(args); err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(w, nil)
	if *asJSON {
		handler = slog.NewJSONHandler(w, nil)
	}
	logger := slog.New(handler)

	b, err := newBreaker(*cooldown, breaker.LogHooks(logger, map[sdk.State]slog.Level{
		sdk.StateForcedOpen: slog.LevelError,
	}))
	if err != nil {
		return err
	}
	defer b.Close()
	return cycle(ctx, b, *cooldown)
}

var errDown = errors.New("dependency down")

// newBreaker builds a breaker that opens when half of at least two calls
// failed, and re-opens on a failed half-open probe.
func newBreaker(cooldown time.Duration, hooks sdk.Hooks) (*breaker.Breaker, error) {
	return breaker.New("payments",
		breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5)).
			Or(breaker.HalfOpened().And(breaker.FailureRate(0.5)))),
		breaker.WithRetry(breaker.Cooldown(cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(hooks),
	)
}

// cycle drives b through a failure cycle: it opens, a probe fails and it
// re-opens, a probe succeeds and it closes; then an operator forces it open
// and resets it.
func cycle(ctx context.Context, b *breaker.Breaker, cooldown time.Duration) error {
	fail := func(context.Context) error { return errDown }
	succeed := func(context.Context) error { return nil }
	wait := func() error {
		select {
		case <-time.After(cooldown):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	_ = b.Do(ctx, fail)
	_ = b.Do(ctx, fail) // closed → open
	_ = b.Do(ctx, succeed)
	if err := wait(); err != nil {
		return err
	}
	_ = b.Do(ctx, fail) // open → half_open → open
	if err := wait(); err != nil {
		return err
	}
	_ = b.Do(ctx, succeed) // open → half_open → closed
	b.ForceOpen(ctx)       // closed → forced_open
	b.Reset(ctx)           // forced_open → closed
	return nil
}
