package breakerhttp

import (
	"net/http"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// NewGroupTransport returns a [Transport] that sends each request under the
// breaker of g for the request's key, as key returns it: one breaker per
// upstream host with [Host], or per any other key a func can compute from
// the request. One key's failures never refuse another key's requests.
//
//	g, err := breaker.NewGroup("upstreams", breaker.WithTracker(breakerhttp.DefaultTracker()))
//	client := &http.Client{Transport: breakerhttp.NewGroupTransport(http.DefaultTransport, g, breakerhttp.Host)}
//
// key must return a small set of values (a Group bounds its keys, see
// [breaker.WithMaxKeys]). When g.Get fails (after g's Close, for one), the
// request is not sent and RoundTrip returns that error.
//
// NewGroupTransport panics if next, g or key is nil.
func NewGroupTransport(next http.RoundTripper, g *breaker.Group, key func(*http.Request) string) *Transport {
	return newTransport("NewGroupTransport", next, groupPick("NewGroupTransport", g, key))
}

// NewGroupHandler returns a handler like [NewHandler] that serves each
// request under the breaker of g for the request's key, as key returns it:
// one breaker per route with [Route]. A key whose breaker refuses gets 503
// with Retry-After while the other keys are served. When g.Get fails (after
// g's Close, for one), the request gets 503 without Retry-After.
//
// NewGroupHandler panics if h, g or key is nil.
func NewGroupHandler(h http.Handler, g *breaker.Group, key func(*http.Request) string) http.Handler {
	return newHandler("NewGroupHandler", h, groupPick("NewGroupHandler", g, key))
}

// GroupMiddleware returns a function that wraps a handler with
// [NewGroupHandler] under g and key, for example around a whole ServeMux,
// one breaker per route:
//
//	handler := breakerhttp.GroupMiddleware(g, breakerhttp.Route(mux))(mux)
//
// GroupMiddleware panics if g or key is nil, and the function it returns
// panics if its handler is nil.
func GroupMiddleware(g *breaker.Group, key func(*http.Request) string) func(http.Handler) http.Handler {
	pick := groupPick("GroupMiddleware", g, key)
	return func(h http.Handler) http.Handler { return newHandler("NewGroupHandler", h, pick) }
}

// groupPick returns the func that picks the breaker of a request in g.
func groupPick(fn string, g *breaker.Group, key func(*http.Request) string) func(*http.Request) (*breaker.Breaker, error) {
	if g == nil {
		panic("breakerhttp: " + fn + " called with a nil *breaker.Group")
	}
	if key == nil {
		panic("breakerhttp: " + fn + " called with a nil key func")
	}
	return func(r *http.Request) (*breaker.Breaker, error) { return g.Get(key(r)) }
}
