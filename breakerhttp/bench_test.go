package breakerhttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// benchBreaker is a breaker without hooks that never trips.
func benchBreaker(b *testing.B, opts ...breaker.Option) *breaker.Breaker {
	br, err := breaker.New("bench", append([]breaker.Option{
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(1 << 30))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return br
}

// BenchmarkLoopback compares a GET to a loopback httptest server (the body
// read to EOF and closed) through a bare *http.Transport and through
// NewTransport around the same kind of transport.
func BenchmarkLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello, breaker")
	}))
	defer srv.Close()
	for _, bc := range []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"bare", func(rt http.RoundTripper) http.RoundTripper { return rt }},
		{"breaker", func(rt http.RoundTripper) http.RoundTripper { return breakerhttp.NewTransport(rt, benchBreaker(b)) }},
	} {
		for _, parallel := range []bool{false, true} {
			name := bc.name
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				tr := &http.Transport{MaxIdleConnsPerHost: 64}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: bc.wrap(tr)}
				get := func(buf []byte) {
					resp, err := client.Get(srv.URL)
					if err != nil {
						b.Error(err)
						return
					}
					for {
						if _, err := resp.Body.Read(buf); err != nil {
							break
						}
					}
					_ = resp.Body.Close()
				}
				b.ReportAllocs()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						buf := make([]byte, 512)
						for pb.Next() {
							get(buf)
						}
					})
					return
				}
				buf := make([]byte, 512)
				for b.Loop() {
					get(buf)
				}
			})
		}
	}
}

// BenchmarkOverhead measures what NewTransport adds to a round trip, on an
// in-memory RoundTripper that answers at once and allocates nothing, so
// that nothing but the breaker and the body wrapper is measured.
func BenchmarkOverhead(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64)
	run := func(rt http.RoundTripper) {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		_ = resp.Body.Close()
	}
	b.Run("breaker-alone", func(b *testing.B) {
		// The breaker's own two-step call, for comparison: Allow and Done
		// around the bare round trip.
		br := benchBreaker(b)
		rt := newCanned(200, "hello, breaker")
		b.ReportAllocs()
		for b.Loop() {
			c, err := br.Allow(req.Context())
			if err != nil {
				b.Fatal(err)
			}
			run(rt)
			c.Done(nil)
		}
	})
	for _, bc := range []struct {
		name   string
		status int
		wrap   bool
		opts   []breaker.Option
	}{
		{"bare", 200, false, nil},
		{"breaker/200", 200, true, nil},
		{"breaker/503", 503, true, nil},
		// otelbridge on the global providers, which are no-ops when
		// OpenTelemetry is not configured: the call gets a context of its
		// own, so the request is copied once (Request.WithContext).
		{"breaker+otelbridge-noop/200", 200, true, []breaker.Option{breaker.WithHooks(otelbridge.Hooks())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rt http.RoundTripper = newCanned(bc.status, "hello, breaker")
			if bc.wrap {
				rt = breakerhttp.NewTransport(rt, benchBreaker(b, bc.opts...))
			}
			b.ReportAllocs()
			for b.Loop() {
				run(rt)
			}
		})
	}
}

// BenchmarkHandlerOverhead measures what NewHandler adds to serving a
// request, with a handler that writes a short body to a ResponseWriter
// that discards it.
func BenchmarkHandlerOverhead(b *testing.B) {
	body := []byte("hello, breaker")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", h},
		{"breaker", breakerhttp.NewHandler(h, benchBreaker(b))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := discardWriter{http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w discardWriter) WriteHeader(int)             {}
