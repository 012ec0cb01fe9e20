// Command slack posts a circuit breaker's state transitions to Slack, like
// fluxgate's SlackListener: the same templates and colours per transition,
// one thread per failure cycle, and the recovery broadcast to the channel.
//
//	SLACK_TOKEN=xoxb-... go -C examples run ./slack -channel '#alerts'
//
// Without a token it posts to a local stand-in for Slack, which prints
// the messages, so that it runs without a network:
//
//	go -C examples run ./slack
//
// The token is read from the environment only, and never printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync"
	"time"

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
	flags := flag.NewFlagSet("slack", flag.ContinueOnError)
	flags.SetOutput(w)
	url := flags.String("url", "https://slack.com/api/chat.postMessage", "Slack's chat.postMessage endpoint")
	channel := flags.String("channel", "#alerts", "channel to post to")
	tokenEnv := flags.String("token-env", "SLACK_TOKEN", "environment variable that holds the bot token")
	cooldown := flags.Duration("cooldown", 200*time.Millisecond, "how long the breaker stays open")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(w, nil))

	token := os.Getenv(*tokenEnv)
	if token == "" {
		stand := newStandIn(w)
		defer stand.Close()
		*url = stand.URL
		fmt.Fprintf(w, "%s is not set: posting to a local stand-in for Slack at %s\n", *tokenEnv, *url)
	}

	notifier := NewNotifier(*url, token, *channel, logger)
	b, err := breaker.New("payments",
		breaker.WithTripper(breaker.MinRequests(2).And(breaker.FailureRate(0.5)).
			Or(breaker.HalfOpened().And(breaker.FailureRate(0.5)))),
		breaker.WithRetry(breaker.Cooldown(*cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(notifier.Hooks()),
	)
	if err != nil {
		notifier.Close()
		return err
	}
	err = cycle(ctx, b, *cooldown)
	b.Close()
	notifier.Close() // post what is queued
	return err
}

var errDown = errors.New("dependency down")

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
	_ = b.Do(ctx, fail) // closed → open: a thread starts
	if err := wait(); err != nil {
		return err
	}
	_ = b.Do(ctx, fail) // open → half_open → open: in the thread
	if err := wait(); err != nil {
		return err
	}
	_ = b.Do(ctx, succeed) // open → half_open → closed: the thread ends
	b.ForceOpen(ctx)       // closed → forced_open: no thread
	b.Reset(ctx)           // forced_open → closed
	return nil
}

// newStandIn starts a local server that answers like chat.postMessage and
// prints what it receives.
func newStandIn(w io.Writer) *httptest.Server {
	var mu sync.Mutex // guards n and w
	n := 0
	return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg message
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), n)
		fmt.Fprintf(w, "POST to %s (ts %s", msg.Channel, ts)
		if msg.ThreadTS != "" {
			fmt.Fprintf(w, ", in thread %s", msg.ThreadTS)
		}
		if msg.ReplyBroadcast {
			fmt.Fprint(w, ", broadcast")
		}
		fmt.Fprintf(w, ") %s\n", msg.Attachments[0].Color)
		fmt.Fprintf(w, "  %s\n", msg.Attachments[0].Blocks[0].Text.Text)
		for _, f := range msg.Attachments[0].Blocks[1].Fields {
			fmt.Fprintf(w, "  %q\n", f.Text)
		}
		mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"ok": true, "channel": msg.Channel, "ts": ts})
	}))
}
