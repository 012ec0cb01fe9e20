// Command statuspage serves fluxgate's status page for a small service:
// three breakers ("payments", "inventory", and "recommendations" in
// shadow mode) and a per-host group ("warehouses", which lets at most a
// quarter of its keys be open) in front of flaky dependencies, local HTTP
// servers on 127.0.0.1, with a load of calls running through them. Open the URL it
// prints to watch the breakers, their windows and their transitions, and
// to command them.
//
//	go -C examples run ./statuspage                 # a token is made up and printed
//	go -C examples run ./statuspage -token=s3cret   # or STATUSPAGE_TOKEN=s3cret
//	go -C examples run ./statuspage -read-only      # a page that takes no commands
//
// Commands need the token: type it in the page's Token field (the page
// sends it as Authorization: Bearer). The payments dependency fails for a
// while every -flap (20s by default). The recommendations dependency is
// down for good: its breaker opens but, in shadow mode, refuses nothing.
// Warehouse us-east is down for good, and ap-south goes down once
// us-east's breaker has opened: the group's cap (one key of four) keeps
// ap-south's breaker closed, and the page counts its capped trips.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// config is what the flags set.
type config struct {
	addr     string
	token    string
	readOnly bool
	refresh  time.Duration
	flap     time.Duration
	cooldown time.Duration
}

func run(ctx context.Context, w io.Writer, args []string) error {
	flags := flag.NewFlagSet("statuspage", flag.ContinueOnError)
	flags.SetOutput(w)
	var cfg config
	flags.StringVar(&cfg.addr, "addr", "127.0.0.1:8090", "where to serve the page (keep it on loopback)")
	flags.StringVar(&cfg.token, "token", os.Getenv("STATUSPAGE_TOKEN"), "the token that authorises commands (default $STATUSPAGE_TOKEN, or one made up and printed)")
	flags.BoolVar(&cfg.readOnly, "read-only", false, "serve a page that takes no commands")
	flags.DurationVar(&cfg.refresh, "refresh", 2*time.Second, "how often the page refreshes itself")
	flags.DurationVar(&cfg.flap, "flap", 20*time.Second, "the payments dependency fails for a third of every such period (0: never)")
	flags.DurationVar(&cfg.cooldown, "cooldown", 5*time.Second, "how long an open breaker waits before a probe")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if cfg.flap < 0 || cfg.cooldown <= 0 {
		return fmt.Errorf("-flap must not be negative and -cooldown must be positive")
	}
	if cfg.token == "" && !cfg.readOnly {
		var b [12]byte
		_, _ = rand.Read(b[:])
		cfg.token = hex.EncodeToString(b[:])
	}
	a, err := newApp(cfg, slog.New(slog.NewTextHandler(w, nil)))
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "status page: http://%s/debug/breakers\n", ln.Addr())
	if cfg.readOnly {
		fmt.Fprintln(w, "read-only: the page takes no commands")
	} else {
		fmt.Fprintf(w, "commands need the token %s (type it in the page's Token field)\n", cfg.token)
	}
	return a.serve(ctx, ln)
}

// dependency is a flaky upstream: a local HTTP server that answers 503
// while it is down.
type dependency struct {
	srv  *httptest.Server
	down atomic.Bool
}

func newDependency() *dependency {
	d := &dependency{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if d.down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	}))
	return d
}

// app is the service: its dependencies, the breakers in front of them,
// the registry and the status page.
type app struct {
	cfg       config
	deps      map[string]*dependency // payments, inventory, and the warehouses by name
	breakers  map[string]*breaker.Breaker
	group     *breaker.Group
	clients   map[string]*http.Client // by dependency
	reg       *breakerstatus.Registry
	handler   http.Handler
	stopCalls context.CancelFunc
	wg        sync.WaitGroup
}

var warehouses = []string{"eu-west", "eu-north", "us-east", "ap-south"}

// The breaker in shadow mode, and the group's cap on open keys.
const (
	shadowBreaker   = "recommendations"
	maxOpenFraction = 0.25
)

func newApp(cfg config, logger *slog.Logger) (*app, error) {
	reg, err := breakerstatus.NewRegistry()
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, reg: reg, deps: map[string]*dependency{}, breakers: map[string]*breaker.Breaker{}, clients: map[string]*http.Client{}}
	opts := []breaker.Option{
		breaker.WithHooks(reg.Hooks()),
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithTripper(breaker.MinRequests(5).And(breaker.FailureRate(0.5))),
		breaker.WithRetry(breaker.Cooldown(cfg.cooldown, 0)),
		breaker.WithPermit(breaker.All()),
	}
	for _, name := range []string{"payments", "inventory", shadowBreaker} {
		bopts := opts
		if name == shadowBreaker {
			// Shadow mode: it trips and reports what it would refuse, and
			// refuses nothing, as while a new breaker is being tried out.
			bopts = append(bopts[:len(bopts):len(bopts)], breaker.WithEnforcement(0))
		}
		b, err := breaker.New(name, bopts...)
		if err != nil {
			return nil, err
		}
		if err := reg.Add(b); err != nil {
			return nil, err
		}
		d := newDependency()
		a.deps[name], a.breakers[name] = d, b
		a.clients[name] = &http.Client{Transport: breakerhttp.NewTransport(http.DefaultTransport, b), Timeout: time.Second}
	}
	hosts := map[string]string{} // host:port -> warehouse
	for _, name := range warehouses {
		d := newDependency()
		a.deps[name] = d
		hosts[d.srv.Listener.Addr().String()] = name
	}
	a.deps["us-east"].down.Store(true)     // down for good
	a.deps[shadowBreaker].down.Store(true) // down for good
	a.group, err = breaker.NewGroup("warehouses", append(opts[:len(opts):len(opts)], breaker.WithMaxOpenFraction(maxOpenFraction))...)
	if err != nil {
		return nil, err
	}
	if err := reg.AddGroup(a.group); err != nil {
		return nil, err
	}
	warehouseClient := &http.Client{Timeout: time.Second,
		Transport: breakerhttp.NewGroupTransport(http.DefaultTransport, a.group, func(r *http.Request) string { return hosts[r.URL.Host] })}
	for _, name := range warehouses {
		a.clients[name] = warehouseClient
	}

	var hopts []breakerstatus.HandlerOption
	hopts = append(hopts, breakerstatus.WithLogger(logger), breakerstatus.WithRefresh(cfg.refresh))
	if !cfg.readOnly {
		want := []byte("Bearer " + cfg.token)
		hopts = append(hopts, breakerstatus.WithAuthorize(func(r *http.Request) (string, bool) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				return "", false
			}
			return "token holder", true
		}))
	}
	h, err := breakerstatus.NewHandler(reg, hopts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/breakers", h)
	mux.Handle("/", http.RedirectHandler("/debug/breakers", http.StatusFound))
	a.handler = mux
	return a, nil
}

// serve serves the page on ln, and makes calls through the breakers, until
// ctx ends.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	ctx, a.stopCalls = context.WithCancel(ctx)
	for name := range a.deps {
		a.wg.Go(func() { a.call(ctx, name) })
	}
	if a.cfg.flap > 0 {
		a.wg.Go(func() { a.flapPayments(ctx) })
	}
	a.wg.Go(func() { a.secondOutage(ctx) })
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		a.stopCalls()
		a.wg.Wait()
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shut)
	a.wg.Wait()
	if err != nil {
		return err
	}
	return ctx.Err()
}

// call calls a dependency ten times a second until ctx ends.
func (a *app) call(ctx context.Context, name string) {
	d, client := a.deps[name], a.clients[name]
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.srv.URL, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
}

// flapPayments takes the payments dependency down for the last third of
// every flap period.
func (a *app) flapPayments(ctx context.Context) {
	d := a.deps["payments"]
	for {
		for _, phase := range []struct {
			down bool
			d    time.Duration
		}{{false, a.cfg.flap * 2 / 3}, {true, a.cfg.flap / 3}} {
			d.down.Store(phase.down)
			select {
			case <-ctx.Done():
				return
			case <-time.After(phase.d):
			}
		}
	}
}

// secondOutage takes warehouse ap-south down once a key of the group is
// open: at the group's cap, its breaker stays closed.
func (a *app) secondOutage(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for a.group.OpenKeys() == 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	a.deps["ap-south"].down.Store(true)
}

func (a *app) close() {
	if a.stopCalls != nil {
		a.stopCalls()
	}
	a.wg.Wait()
	for _, d := range a.deps {
		d.srv.Close()
	}
	for _, b := range a.breakers {
		b.Close()
	}
	a.group.Close()
}
