package breakerhttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func newGroup(t *testing.T, streak int, opts ...breaker.Option) (*breaker.Group, *ends) {
	t.Helper()
	var e ends
	opts = append([]breaker.Option{
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(streak)),
		breaker.WithRetry(breaker.Cooldown(time.Minute, 0)),
		breaker.WithHooks(e.hooks()),
	}, opts...)
	g, err := breaker.NewGroup("upstreams", opts...)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	return g, &e
}

func TestGroupTransportOneBreakerPerHost(t *testing.T) {
	failing := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	healthy := newServer(t, http.HandlerFunc(statusHandler))
	g, e := newGroup(t, 2)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: breakerhttp.NewGroupTransport(tr, g, breakerhttp.Host)}
	get := func(srv *server) error {
		resp, err := c.Get(srv.URL)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return err
	}

	for range 2 {
		require.NoError(t, get(failing))
		require.NoError(t, get(healthy))
	}
	err := get(failing)
	require.ErrorIs(t, err, breaker.ErrNotPermitted)
	var npe breaker.NotPermittedError
	require.ErrorAs(t, err, &npe)
	failingHost := failing.Listener.Addr().String()
	assert.Equal(t, failingHost, npe.Key(), "the refusal names the host's breaker")
	assert.EqualValues(t, 2, failing.hits.Load(), "no request to the open host")

	require.NoError(t, get(healthy), "another host's breaker is closed")
	assert.EqualValues(t, 3, healthy.hits.Load())
	fb, err := g.Get(failingHost)
	require.NoError(t, err)
	assert.Equal(t, sdk.StateOpen, fb.State())
	hb, err := g.Get(healthy.Listener.Addr().String())
	require.NoError(t, err)
	assert.Equal(t, sdk.StateClosed, hb.State())
	for _, c := range e.all() {
		assert.Contains(t, []string{failingHost, healthy.Listener.Addr().String()}, c.Key)
	}
}

func TestGroupTransportGetErrorSendsNothing(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(statusHandler))
	g, _ := newGroup(t, 2)
	g.Close()
	c := &http.Client{Transport: breakerhttp.NewGroupTransport(http.DefaultTransport, g, breakerhttp.Host)}
	_, err := c.Get(srv.URL)
	require.ErrorIs(t, err, breaker.ErrGroupClosed)
	assert.Zero(t, srv.hits.Load())
}

func TestGroupMiddlewareOneBreakerPerRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "broken" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	g, e := newGroup(t, 2)
	srv := newServer(t, breakerhttp.GroupMiddleware(g, breakerhttp.Route(mux))(mux))
	get := func(path string) *http.Response {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		return resp
	}

	assert.Equal(t, 500, get("/items/broken").StatusCode)
	assert.Equal(t, 500, get("/items/broken").StatusCode)
	resp := get("/items/1")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "every item shares the route's breaker")
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Equal(t, 200, get("/health").StatusCode, "another route is served")
	assert.Equal(t, 404, get("/nowhere").StatusCode)

	keys := map[string]int{}
	for _, c := range e.all() {
		keys[c.Key]++
	}
	assert.Equal(t, map[string]int{"GET /items/{id}": 3, "GET /health": 1, breakerhttp.RouteUnmatched: 1}, keys)
}

func TestGroupHandlerGetError(t *testing.T) {
	g, _ := newGroup(t, 2)
	g.Close()
	var served bool
	h := breakerhttp.NewGroupHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }), g, breakerhttp.Host)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Header().Get("Retry-After"))
	assert.False(t, served)
}

func TestHost(t *testing.T) {
	client, err := http.NewRequest(http.MethodGet, "http://api.example:8080/x", nil)
	require.NoError(t, err)
	client.Host = "virtual.example" // the Host header; the request still goes to api.example:8080
	server := httptest.NewRequest(http.MethodGet, "/x", nil)
	server.Host = "shop.example"
	noURL := &http.Request{Host: "h.example"}
	tests := []struct {
		r    *http.Request
		want string
	}{
		{client, "api.example:8080"},
		{server, "shop.example"},
		{noURL, "h.example"},
		{&http.Request{URL: &url.URL{}}, ""},
	}
	for i, tt := range tests {
		assert.Equal(t, tt.want, breakerhttp.Host(tt.r), strconv.Itoa(i))
	}
}

func TestRoute(t *testing.T) {
	mux := http.NewServeMux()
	for _, p := range []string{"GET /items/{id}", "/upload", "POST /orders", "shop.example/cart"} {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	key := breakerhttp.Route(mux)
	tests := []struct {
		method, target, host, pattern string
		want                          string
	}{
		{"GET", "/items/7", "", "", "GET /items/{id}"},
		{"HEAD", "/items/7", "", "", "GET /items/{id}"}, // GET patterns match HEAD
		{"PUT", "/upload", "", "", "PUT /upload"},
		{"BREW", "/upload", "", "", "_OTHER /upload"},
		{"POST", "/orders", "", "", "POST /orders"},
		{"DELETE", "/orders", "", "", breakerhttp.RouteUnmatched}, // 405
		{"GET", "/nowhere", "", "", breakerhttp.RouteUnmatched},
		{"GET", "/cart", "shop.example", "", "GET shop.example/cart"},
		// Request.Pattern is another mux's: Route asks its own.
		{"GET", "/anything", "", "GET /set/by/another/mux", breakerhttp.RouteUnmatched},
		{"PATCH", "/upload", "", "/set/by/another/mux", "PATCH /upload"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			r.Pattern = tt.pattern
			assert.Equal(t, tt.want, key(r))
			assert.Equal(t, tt.want, key(r), "the second time, from the cache")
		})
	}

	empty := httptest.NewRequest(http.MethodGet, "/upload", nil)
	empty.Method = "" // a client request's way to say GET
	assert.Equal(t, "GET /upload", key(empty))

	for _, target := range []string{"/upload", "/items/7"} {
		r := httptest.NewRequest(http.MethodPut, target, nil)
		r.Host = "127.0.0.1:8080"
		key(r)
		lookup := testing.AllocsPerRun(100, func() { mux.Handler(r) })
		assert.Equal(t, lookup, testing.AllocsPerRun(100, func() { key(r) }),
			"%s: a known route allocates nothing beyond the mux's lookup", target)
	}
}

func TestGroupConstructorsPanicOnNil(t *testing.T) {
	g, _ := newGroup(t, 1)
	h := http.NotFoundHandler()
	for _, tt := range []struct {
		want string
		f    func()
	}{
		{"breakerhttp: NewGroupTransport called with a nil next http.RoundTripper", func() { breakerhttp.NewGroupTransport(nil, g, breakerhttp.Host) }},
		{"breakerhttp: NewGroupTransport called with a nil *breaker.Group", func() { breakerhttp.NewGroupTransport(http.DefaultTransport, nil, breakerhttp.Host) }},
		{"breakerhttp: NewGroupTransport called with a nil key func", func() { breakerhttp.NewGroupTransport(http.DefaultTransport, g, nil) }},
		{"breakerhttp: NewGroupHandler called with a nil http.Handler", func() { breakerhttp.NewGroupHandler(nil, g, breakerhttp.Host) }},
		{"breakerhttp: NewGroupHandler called with a nil *breaker.Group", func() { breakerhttp.NewGroupHandler(h, nil, breakerhttp.Host) }},
		{"breakerhttp: NewGroupHandler called with a nil key func", func() { breakerhttp.NewGroupHandler(h, g, nil) }},
		{"breakerhttp: GroupMiddleware called with a nil *breaker.Group", func() { breakerhttp.GroupMiddleware(nil, breakerhttp.Host) }},
		{"breakerhttp: GroupMiddleware called with a nil key func", func() { breakerhttp.GroupMiddleware(g, nil) }},
		{"breakerhttp: NewGroupHandler called with a nil http.Handler", func() { breakerhttp.GroupMiddleware(g, breakerhttp.Host)(nil) }},
		{"breakerhttp: Route called with a nil *http.ServeMux", func() { breakerhttp.Route(nil) }},
	} {
		assert.PanicsWithValue(t, tt.want, tt.f)
	}
}
