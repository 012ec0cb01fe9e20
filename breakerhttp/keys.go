package breakerhttp

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Host is a key func for [NewGroupTransport] and [NewGroupHandler]: the
// host (and port, if any) of the request, so that each upstream host, or
// each virtual host a server serves, has a breaker of its own. On a client
// request it is URL.Host (where the request is sent); on a server request,
// whose URL has no host, it is the Host header, which the client chooses:
// the Group's key limit ([breaker.WithMaxKeys]) then bounds what clients
// can make the server hold.
func Host(r *http.Request) string {
	if r.URL != nil && r.URL.Host != "" {
		return r.URL.Host
	}
	return r.Host
}

// RouteUnmatched is the key [Route] gives a request that no pattern of its
// ServeMux matches.
const RouteUnmatched = "unmatched"

// Route returns a key func for [NewGroupHandler] and [GroupMiddleware]: the
// request's method and the mux pattern that serves it, such as
// "GET /items/{id}", so that each route has a breaker of its own while a
// route's path values (item IDs) do not make new keys. A pattern that names
// a method is the key as it is; other patterns are preceded by the
// request's method and a space ("POST /upload"), where methods other than
// the nine of RFC 9110 and RFC 5789 are "_OTHER", as in otelhttp, so that a
// client cannot make keys at will. A request that no pattern matches has
// the key [RouteUnmatched].
//
// The pattern is Request.Pattern when the ServeMux has routed the request
// already (the handler is registered on mux), and mux's Handler method
// finds it otherwise (the handler wraps mux). Each key is built once: the
// func allocates nothing for a route it has seen.
//
// Route panics if mux is nil.
func Route(mux *http.ServeMux) func(*http.Request) string {
	if mux == nil {
		panic("breakerhttp: Route called with a nil *http.ServeMux")
	}
	rk := &routeKeys{}
	rk.m.Store(&map[routeKey]string{})
	return func(r *http.Request) string {
		p := r.Pattern
		if p == "" {
			_, p = mux.Handler(r)
		}
		return rk.key(r.Method, p)
	}
}

// methods are the methods that Route keeps as they are; the index of
// "_OTHER" is len(methods).
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

const otherMethod = "_OTHER"

func methodIndex(m string) uint8 {
	if m == "" { // a client request's GET
		return 0
	}
	for i, k := range methods {
		if m == k {
			return uint8(i)
		}
	}
	return uint8(len(methods))
}

// routeKey is a method (by index) and a pattern without a method.
type routeKey struct {
	method  uint8
	pattern string
}

// routeKeys holds the keys Route has built: a copy-on-write map, read
// without a lock.
type routeKeys struct {
	m  atomic.Pointer[map[routeKey]string]
	mu sync.Mutex // serialises the writers of m
}

func (rk *routeKeys) key(method, pattern string) string {
	if pattern == "" {
		return RouteUnmatched
	}
	if hasMethod(pattern) {
		return pattern
	}
	k := routeKey{methodIndex(method), pattern}
	if s, ok := (*rk.m.Load())[k]; ok {
		return s
	}
	rk.mu.Lock()
	defer rk.mu.Unlock()
	old := *rk.m.Load()
	if s, ok := old[k]; ok {
		return s
	}
	m := otherMethod
	if int(k.method) < len(methods) {
		m = methods[k.method]
	}
	s := m + " " + pattern
	next := make(map[routeKey]string, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[k] = s
	rk.m.Store(&next)
	return s
}

// hasMethod reports whether a ServeMux pattern starts with a method, as in
// "GET /items" (a pattern without one starts with "/" or a host).
func hasMethod(pattern string) bool {
	i := strings.IndexAny(pattern, " \t")
	if i < 0 {
		return false
	}
	return !strings.ContainsAny(pattern[:i], "/.")
}
