package breakerhttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// itemsAPI returns a mux whose item route fails for the item "broken",
// with its patterns under prefix.
func itemsAPI(prefix string) *http.ServeMux {
	api := http.NewServeMux()
	api.HandleFunc("GET "+prefix+"/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "broken" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "item")
	})
	api.HandleFunc("GET "+prefix+"/orders", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "orders") })
	api.HandleFunc(prefix+"/", http.NotFound) // the API's own catch-all
	return api
}

// TestRouteOfAMountedMux checks that each route of a ServeMux mounted
// under another one has a breaker of its own, whether the inner mux has
// the full paths or sits behind http.StripPrefix: Route must not take the
// outer mux's pattern (which it leaves in Request.Pattern) for the inner
// one's.
func TestRouteOfAMountedMux(t *testing.T) {
	g, e := newGroup(t, 2)
	root := http.NewServeMux()
	api := itemsAPI("/api")
	root.Handle("/api/", breakerhttp.GroupMiddleware(g, breakerhttp.Route(api))(api))
	v2 := itemsAPI("")
	root.Handle("/v2/", http.StripPrefix("/v2", breakerhttp.GroupMiddleware(g, breakerhttp.Route(v2))(v2)))
	srv := newServer(t, root)
	get := func(path string) int {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode
	}
	for _, prefix := range []string{"/api", "/v2"} {
		assert.Equal(t, 500, get(prefix+"/items/broken"))
		assert.Equal(t, 500, get(prefix+"/items/broken"))
		assert.Equal(t, http.StatusServiceUnavailable, get(prefix+"/items/1"), "the items route is open")
		assert.Equal(t, 200, get(prefix+"/orders"), "another route of the same mux is served")
		assert.Equal(t, 404, get(prefix+"/nowhere"))
	}
	keys := map[string]int{}
	for _, c := range e.all() {
		keys[c.Key]++
	}
	assert.Equal(t, map[string]int{
		"GET /api/items/{id}": 3, "GET /api/orders": 1, "GET /api/": 1,
		"GET /items/{id}": 3, "GET /orders": 1, "GET /": 1,
	}, keys)
}

// TestRouteKeysAreMuxPatterns sends 10,000 requests of distinct paths and
// methods, those for which ServeMux answers with a redirect of its own
// (CONNECT, paths to clean, paths without their trailing slash) included,
// and checks that every key is a pattern of the mux (with a method) or
// RouteUnmatched.
func TestRouteKeysAreMuxPatterns(t *testing.T) {
	mux := http.NewServeMux()
	patterns := []string{"GET /items/{id}", "/users/{name}/", "/files/{path...}", "POST /orders", "shop.example/cart"}
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	allowed := map[string]bool{breakerhttp.RouteUnmatched: true}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "_OTHER"}
	for _, p := range patterns {
		if p[0] != '/' && p[0] != 's' {
			allowed[p] = true
			continue
		}
		for _, m := range methods {
			allowed[m+" "+p] = true
		}
	}
	g, e := newGroup(t, 1<<20, breaker.WithMaxKeys(64))
	h := breakerhttp.GroupMiddleware(g, breakerhttp.Route(mux))(mux)
	const n = 10_000
	for i := range n {
		method := methods[i%len(methods)]
		if i%7 == 0 {
			method = fmt.Sprintf("M%d", i)
		}
		var target string
		switch i % 6 {
		case 0:
			target = fmt.Sprintf("/users/u%d", i) // redirected to /users/u%d/
		case 1:
			target = fmt.Sprintf("/./items/%d", i) // redirected to the clean path
		case 2:
			target = fmt.Sprintf("/files/%d/../x", i)
		case 3:
			target = fmt.Sprintf("/nowhere/%d", i)
		case 4:
			target = fmt.Sprintf("//users/%d", i)
		default:
			target = fmt.Sprintf("/items/%d", i)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method = method
		r.URL.Path = target
		r.RequestURI = target
		if i%11 == 0 {
			r.Host = "shop.example"
			r.URL.Path = "/cart"
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	got := e.all()
	require.Len(t, got, n)
	keys := map[string]int{}
	for _, c := range got {
		keys[c.Key]++
		assert.NotEqual(t, sdk.OutcomeRejected, c.Outcome, "no key is refused: %s", c.Key)
	}
	for k := range keys {
		assert.True(t, allowed[k], "%q is not a pattern of the mux", k)
	}
	assert.LessOrEqual(t, len(keys), len(allowed))
}
