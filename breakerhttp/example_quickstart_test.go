package breakerhttp_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The README's Quickstart: an http.Client with a breaker per host, with the
// breaker's defaults. internal/repotest checks that the README shows exactly
// this code, as package main.
func Example_quickstart() {
	// A dependency to call (in your program, a real one): /down answers 503.
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer dep.Close()

	// One breaker per host, built on first use with the defaults of breaker.New.
	hosts, err := breaker.NewGroup("http-client",
		breaker.WithTracker(breakerhttp.DefaultTracker()), // 5xx, timeouts and network errors count; 4xx are ignored
		breaker.WithHooks(otelbridge.Hooks()),             // spans and metrics through the global OpenTelemetry providers
	)
	if err != nil {
		log.Fatal(err) // names every invalid option
	}
	defer hosts.Close()
	client := &http.Client{
		Transport: breakerhttp.NewGroupTransport(http.DefaultTransport, hosts, breakerhttp.Host),
		Timeout:   10 * time.Second, // a timeout counts against the host's breaker
	}

	for _, path := range []string{"/", "/down"} {
		resp, err := client.Get(dep.URL + path)
		if errors.Is(err, breaker.ErrNotPermitted) {
			fmt.Println(path, "not sent: the host's breaker is open")
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close() // ends the breaker's call
		fmt.Println(path, resp.Status)
	}
	// Output:
	// / 200 OK
	// /down 503 Service Unavailable
}
