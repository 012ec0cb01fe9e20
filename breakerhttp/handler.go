package breakerhttp

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// NewHandler returns a handler that sheds load: it serves each request
// with h under b, and answers 503 Service Unavailable without calling h
// when b refuses the request.
//
// The answer to a refused request carries a Retry-After header with the
// seconds until b's retry policy expects to admit calls again, rounded up
// (1 for an 800 ms wait, never 0), when b knows that time
// ([breaker.NotPermittedError.RetryAfterSeconds]); otherwise there is no
// Retry-After header.
//
// An admitted request is served under the context of b's call (the one
// holding otelbridge's span). Its outcome is the status h wrote: a
// [*StatusError] for 400 and more, which b's tracker classifies (the
// [DefaultTracker] counts 5xx), and success below. A handler that writes
// nothing answers 200, which is a success; informational 1xx headers are
// not the status; a hijacked connection is a success. If h panics, the
// call is recorded as a counted failure and the panic goes on, except for
// [http.ErrAbortHandler], the handler's deliberate way to abort a response
// (httputil.ReverseProxy uses it when the upstream fails mid-body): it is
// reported as an error for the tracker to classify, and then goes on too.
// [NetworkErrors] (and so [DefaultTracker]) counts it: the response was cut
// off; b ignores it when the client went away, since the request's context
// is then canceled.
//
// The ResponseWriter that h gets has exactly the optional interfaces of
// the server's, so that a handler that detects a feature by a type
// assertion is not misled: it is an [http.Flusher], an [http.Hijacker],
// an [io.ReaderFrom], an [http.Pusher] or an http.CloseNotifier when, and
// only when, the server's is (over HTTP/1.1, net/http's is no Pusher;
// over HTTP/2, no Hijacker and no ReaderFrom). Its Unwrap method lets an
// [http.ResponseController] reach every other feature (deadlines, full
// duplex). It is never an [io.StringWriter], a shortcut rather than a
// feature: [io.WriteString] writes through Write instead.
//
// NewHandler panics if h or b is nil.
func NewHandler(h http.Handler, b *breaker.Breaker) http.Handler {
	if b == nil {
		panic("breakerhttp: NewHandler called with a nil *breaker.Breaker")
	}
	return newHandler("NewHandler", h, func(*http.Request) (*breaker.Breaker, error) { return b, nil })
}

// Middleware returns a function that wraps a handler with [NewHandler]
// under b, for routers that take middleware:
//
//	mux.Handle("GET /items", breakerhttp.Middleware(b)(items))
//
// Middleware panics if b is nil, and the function it returns panics if
// its handler is nil.
func Middleware(b *breaker.Breaker) func(http.Handler) http.Handler {
	if b == nil {
		panic("breakerhttp: Middleware called with a nil *breaker.Breaker")
	}
	return func(h http.Handler) http.Handler { return NewHandler(h, b) }
}

func newHandler(fn string, h http.Handler, pick func(*http.Request) (*breaker.Breaker, error)) http.Handler {
	if h == nil {
		panic("breakerhttp: " + fn + " called with a nil http.Handler")
	}
	return &handler{h: h, pick: pick}
}

// handler is the http.Handler NewHandler returns.
type handler struct {
	h    http.Handler
	pick func(*http.Request) (*breaker.Breaker, error)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := h.pick(r)
	if err != nil {
		refuse(w, err)
		return
	}
	ctx := r.Context()
	c, err := b.Allow(ctx)
	if err != nil {
		refuse(w, err)
		return
	}
	if cctx := c.Context(); cctx != ctx {
		r = r.WithContext(cctx)
	}
	rw, ww := wrapWriter(w)
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		if v == http.ErrAbortHandler {
			c.Done(http.ErrAbortHandler)
		} else {
			c.Panicked(v)
		}
		if v != nil {
			panic(v)
		}
	}()
	h.h.ServeHTTP(ww, r)
	returned = true
	c.Done(rw.outcome())
}

// refuse answers 503 to a request that err refused, with a Retry-After
// header when err tells when to retry.
func refuse(w http.ResponseWriter, err error) {
	var npe breaker.NotPermittedError
	if errors.As(err, &npe) {
		if s := npe.RetryAfterSeconds(); s > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
		}
	}
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
}
