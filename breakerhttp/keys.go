package breakerhttp

import (
	"net/http"
	"reflect"
	"strings"
	"sync"
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
// ServeMux serves: the one key a client can reach that is not a route.
const RouteUnmatched = "unmatched"

// Route returns a key func for [NewGroupHandler] and [GroupMiddleware]: the
// request's method and the pattern of mux that serves it, such as
// "GET /items/{id}", so that each route has a breaker of its own while a
// route's path values (item IDs) do not make new keys. A pattern that names
// a method is the key as it is; other patterns are preceded by the
// request's method and a space ("POST /upload"), where methods other than
// the nine of RFC 9110 and RFC 5789 are "_OTHER", as in otelhttp.
//
// Route asks mux, through its Handler method, which pattern serves each
// request; it does not trust Request.Pattern, which holds the pattern of
// whichever ServeMux routed the request last: an outer mux's, when mux is
// mounted under another (root.Handle("/api/", GroupMiddleware(g,
// Route(api))(api)), with or without [http.StripPrefix]). So Route works
// the same around mux and around a handler registered on mux.
//
// No request a client can send makes a key that is not a pattern of mux:
// a request that mux answers itself has the key [RouteUnmatched], whether
// the answer is 404 Not Found, 405 Method Not Allowed or a redirect (to a
// cleaned path, to the path with a trailing slash, or the redirect of a
// CONNECT request, for which ServeMux reports the path as the pattern). A
// route whose handler is an [http.RedirectHandler] has that key too: Route
// cannot tell it from the mux's own redirects. So a Group under Route has
// at most ten keys per pattern of mux, plus RouteUnmatched.
//
// Each key is built once and kept: Route holds at most as many keys as
// there can be, and allocates nothing for a route it has seen beyond what
// mux's Handler method allocates.
//
// Route panics if mux is nil.
func Route(mux *http.ServeMux) func(*http.Request) string {
	if mux == nil {
		panic("breakerhttp: Route called with a nil *http.ServeMux")
	}
	rk := &routeKeys{mux: mux}
	return rk.route
}

// redirectType is the type of the handlers with which ServeMux redirects.
var redirectType = reflect.TypeOf(http.RedirectHandler("/", http.StatusTemporaryRedirect))

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

// routeKeys holds the keys Route has built, in a sync.Map read without a
// lock or an allocation; only patterns of the mux (at most ten keys each)
// ever enter it.
type routeKeys struct {
	mux  *http.ServeMux
	keys sync.Map // routeKey → string
}

func (rk *routeKeys) route(r *http.Request) string {
	h, p := rk.mux.Handler(r)
	if p == "" || reflect.TypeOf(h) == redirectType {
		return RouteUnmatched
	}
	return rk.key(r.Method, p)
}

func (rk *routeKeys) key(method, pattern string) string {
	if hasMethod(pattern) {
		return pattern
	}
	k := routeKey{methodIndex(method), pattern}
	if s, ok := rk.keys.Load(k); ok {
		return s.(string)
	}
	m := otherMethod
	if int(k.method) < len(methods) {
		m = methods[k.method]
	}
	s, _ := rk.keys.LoadOrStore(k, m+" "+pattern)
	return s.(string)
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
