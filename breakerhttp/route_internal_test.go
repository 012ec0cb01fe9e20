package breakerhttp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRouteCacheIsBounded checks that Route's cache holds only keys of the
// mux's patterns, however many distinct requests it sees.
func TestRouteCacheIsBounded(t *testing.T) {
	mux := http.NewServeMux()
	patterns := []string{"/users/{name}/", "/files/{path...}", "/static/", "GET /items/{id}"}
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	rk := &routeKeys{mux: mux}
	for i := range 10_000 {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method = []string{"GET", "CONNECT", "PUT", fmt.Sprintf("X%d", i)}[i%4]
		r.URL.Path = []string{"/users/u%d", "/files/%d", "/./static/%d", "/items/%d", "/static/%d/"}[i%5]
		r.URL.Path = fmt.Sprintf(r.URL.Path, i)
		rk.route(r)
	}
	var n int
	rk.keys.Range(func(k, _ any) bool {
		n++
		if p := k.(routeKey).pattern; p != "/files/{path...}" && p != "/static/" && p != "/users/{name}/" {
			t.Errorf("cached a key for %q, not a pattern of the mux", p)
		}
		return true
	})
	if n > 3*(len(methods)+1) {
		t.Errorf("the cache holds %d keys, more than 10 per pattern without a method", n)
	}
}
