// Command httpserver sheds load with circuit breakers, one per route: when
// the checkout route's database fails, its breaker opens and the server
// answers 503 Service Unavailable with a Retry-After header (the seconds
// until the breaker lets a request through again, rounded up) without
// calling the handler, while the health route, which has a breaker of its
// own, is served as usual. Once the cooldown is over a probe request goes
// through, succeeds, and the breaker closes.
//
// The server is an httptest server on the loopback interface, and the
// program is its client.
//
//	go -C examples run ./httpserver
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/breakerhttp"
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
	flags := flag.NewFlagSet("httpserver", flag.ContinueOnError)
	flags.SetOutput(w)
	cooldown := flags.Duration("cooldown", 1500*time.Millisecond, "how long a route's breaker stays open")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *cooldown <= 0 {
		return fmt.Errorf("-cooldown must be positive, got %v", *cooldown)
	}
	return demo(ctx, *cooldown, &printer{w: w})
}

// printer serialises the lines of the client and of the breakers' hooks,
// which run in the server's goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", a...)
}

// shop is the server: GET /checkout needs the database, GET /health does
// not.
type shop struct {
	dbDown    atomic.Bool  // the database fails while set
	checkouts atomic.Int64 // calls of the checkout handler
}

func (s *shop) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, _ *http.Request) {
		s.checkouts.Add(1)
		if s.dbDown.Load() {
			http.Error(w, "database unavailable", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "order placed\n")
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

func demo(ctx context.Context, cooldown time.Duration, p *printer) error {
	g, err := breaker.NewGroup("shop",
		breaker.WithTracker(breakerhttp.DefaultTracker()), // 5xx count, 4xx do not
		breaker.WithTripper(breaker.FailureStreak(2)),
		breaker.WithRetry(breaker.Cooldown(cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(sdk.Hooks{StateChange: func(_ context.Context, t sdk.Transition) {
			p.printf("  breaker %q: %s -> %s (%s)", t.Key, t.From, t.To, t.Reason)
		}}),
	)
	if err != nil {
		return err
	}
	defer g.Close()

	s := &shop{}
	mux := s.mux()
	// The load shedding: every route has a breaker of its own.
	srv := httptest.NewServer(breakerhttp.GroupMiddleware(g, breakerhttp.Route(mux))(mux))
	defer srv.Close()
	client := srv.Client()

	get := func(path string) error {
		before := s.checkouts.Load()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		line := fmt.Sprintf("GET %-9s -> %s", path, resp.Status)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			line += ", Retry-After: " + ra
		}
		if path == "/checkout" && s.checkouts.Load() == before {
			line += " (handler not called)"
		}
		p.printf("%s", line)
		return nil
	}

	steps := []struct {
		say  string
		wait bool
		down bool
		path []string
	}{
		{say: "the database is up", path: []string{"/checkout"}},
		{say: "the database goes down", down: true, path: []string{"/checkout", "/checkout", "/checkout", "/health"}},
		{say: fmt.Sprintf("the database is back; waiting %v for the cooldown", cooldown), wait: true, path: []string{"/checkout", "/checkout"}},
	}
	for _, st := range steps {
		p.printf("... %s", st.say)
		s.dbDown.Store(st.down)
		if st.wait {
			select {
			case <-time.After(cooldown):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, path := range st.path {
			if err := get(path); err != nil {
				return err
			}
		}
	}
	return nil
}
