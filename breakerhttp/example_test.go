package breakerhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// A client whose requests go through a breaker: 4xx responses are ignored,
// 5xx responses counted, and no request is sent while the breaker is open.
func ExampleNewTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()

	b, err := breaker.New("inventory",
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(2)),
	)
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: breakerhttp.NewTransport(http.DefaultTransport, b)}

	for _, path := range []string{"/", "/missing", "/down", "/down", "/"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Printf("%-8s error: %v (breaker %s)\n", path, errors.Unwrap(err), b.State())
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close() // ends the breaker's call
		fmt.Printf("%-8s %d (breaker %s)\n", path, resp.StatusCode, b.State())
	}
	// Output:
	// /        200 (breaker closed)
	// /missing 404 (breaker closed)
	// /down    503 (breaker closed)
	// /down    503 (breaker open)
	// /        error: circuit breaker is open (breaker open)
}

// A server that sheds load: while its breaker is open it answers 503 with
// Retry-After, without calling the handler.
func ExampleNewHandler() {
	b, err := breaker.New("checkout",
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(30*time.Second, 0)),
	)
	if err != nil {
		panic(err)
	}
	checkout := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database unavailable", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(breakerhttp.NewHandler(checkout, b))
	defer srv.Close()

	for range 2 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		_ = resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// 500 Retry-After=""
	// 503 Retry-After="30"
}

// One breaker per upstream host: a failing host does not stop requests to
// the others.
func ExampleNewGroupTransport() {
	g, err := breaker.NewGroup("upstreams",
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
	)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	client := &http.Client{Transport: breakerhttp.NewGroupTransport(http.DefaultTransport, g, breakerhttp.Host)}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer down.Close()
	up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer up.Close()

	for _, srv := range []*httptest.Server{down, down, up} {
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Println(errors.Is(err, breaker.ErrNotPermitted))
			continue
		}
		_ = resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 502
	// true
	// 200
}

// DefaultTracker ignores 429; a client that should back off from a rate
// limited dependency as a whole adds TooManyRequests.
func ExampleTooManyRequests() {
	t := tracker.Or(breakerhttp.TooManyRequests(), breakerhttp.DefaultTracker())
	fmt.Println(t)
	// Output:
	// http_429 | http_5xx | timeout | network_error
}

// DefaultTracker counts timeouts and network errors, each under its own
// rule, as well as 5xx responses; it ignores the rest.
func ExampleDefaultTracker() {
	ctx := context.Background()
	for _, err := range []error{context.DeadlineExceeded, io.ErrUnexpectedEOF} {
		v := breakerhttp.DefaultTracker().Track(ctx, err)
		fmt.Println(v.Decision, v.Rule)
	}
	fmt.Println(breakerhttp.DefaultTracker().Track(ctx, errors.New("unsupported protocol scheme")).Decision)
	// Output:
	// counted timeout
	// counted network_error
	// ignored
}

// One breaker per route: the failing route sheds load while the others are
// served.
func ExampleGroupMiddleware() {
	g, err := breaker.NewGroup("shop",
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(10*time.Second, 0)),
	)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database unavailable", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(breakerhttp.GroupMiddleware(g, breakerhttp.Route(mux))(mux))
	defer srv.Close()

	for _, path := range []string{"/orders/1", "/orders/2", "/health"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		_ = resp.Body.Close()
		fmt.Printf("%-9s %d Retry-After=%q\n", path, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// /orders/1 500 Retry-After=""
	// /orders/2 503 Retry-After="10"
	// /health   200 Retry-After=""
}

// Route keys each route of its own mux, here one mounted under another
// behind http.StripPrefix; every request the mux answers itself (404, 405,
// a redirect) has the one key RouteUnmatched.
func ExampleRoute() {
	api := http.NewServeMux()
	api.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.PathValue("id")) })
	api.HandleFunc("/orders", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "orders") })
	g, err := breaker.NewGroup("api", breaker.WithTracker(breakerhttp.DefaultTracker()))
	if err != nil {
		panic(err)
	}
	defer g.Close()
	route := breakerhttp.Route(api)
	key := func(r *http.Request) string {
		k := route(r)
		fmt.Printf("%s %s: %s\n", r.Method, r.URL.Path, k)
		return k
	}
	root := http.NewServeMux()
	root.Handle("/api/", http.StripPrefix("/api", breakerhttp.GroupMiddleware(g, key)(api)))

	for _, req := range [][2]string{
		{"GET", "/api/items/7"}, {"GET", "/api/items/8"}, {"POST", "/api/orders"},
		{"DELETE", "/api/items/7"}, {"GET", "/api/nowhere"},
	} {
		root.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req[0], req[1], nil))
	}
	// Output:
	// GET /items/7: GET /items/{id}
	// GET /items/8: GET /items/{id}
	// POST /orders: POST /orders
	// DELETE /items/7: unmatched
	// GET /nowhere: unmatched
}
