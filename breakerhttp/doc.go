// Package breakerhttp puts fluxgate's circuit breakers around net/http: a
// client [http.RoundTripper] that protects every request an http.Client
// sends, and a server [http.Handler] middleware that sheds load.
//
// # Client
//
// [NewTransport] wraps any RoundTripper (otelhttp's included) so that an
// http.Client is protected in one line:
//
//	client := &http.Client{Transport: breakerhttp.NewTransport(http.DefaultTransport, b)}
//
// A request the breaker refuses is never sent; the client returns an
// error that matches [breaker.ErrNotPermitted]. An admitted request's call
// ends when its response body is read to the end or closed, or when the
// round trip fails, so the latency the breaker sees is the whole exchange
// and an error while reading the body is an outcome like any other.
//
// # Classification
//
// Responses are classified by the breaker's ordinary tracker: a response
// with a status of 400 or more reaches the tracker as a [*StatusError]
// whose ErrorType is the code ("503", the error.type otelhttp uses), while
// the caller gets the response untouched with a nil error. Give the
// breaker a tracker that knows about them, such as [DefaultTracker], which
// counts 5xx responses, timeouts and network errors and ignores 4xx
// responses, 429 included (see DefaultTracker for why):
//
//	b, err := breaker.New("inventory", breaker.WithTracker(breakerhttp.DefaultTracker()))
//
// With DefaultTracker, a call is:
//
//   - counted as a timeout (rule "timeout"): the request's context deadline
//     passed, an [http.Client] Timeout passed (before the response's
//     headers or in the middle of the body, whichever way net/http cancels
//     the request), Transport.ResponseHeaderTimeout or
//     Transport.TLSHandshakeTimeout passed, or an I/O timeout;
//   - counted as a network error (rule "network_error"), on HTTP/1.1 and
//     HTTP/2 alike: a refused or reset connection, a failed DNS lookup or
//     TLS handshake, a connection closed before the response or its body
//     was complete (a panicking handler, a body shorter than its
//     Content-Length), an HTTP/2 stream reset (RST_STREAM), GOAWAY or lost
//     connection, and on a server a handler that aborts with
//     [http.ErrAbortHandler] (as httputil.ReverseProxy does when its
//     upstream fails mid-body);
//   - counted as a server error (rule "http_5xx"): a 5xx response;
//   - ignored when the caller gave up (its context canceled, before the
//     headers or mid-body, including the HTTP/2 reset that follows; rule
//     "context_canceled", the breaker's own), and for a 4xx response or
//     any other error, naming no rule since none matched.
//
// The Transport makes the first item hold: net/http ends a request whose
// Client.Timeout passes either through the request's context or through
// the deprecated Request.Cancel channel, racing, and the second makes the
// wrapped RoundTripper fail with "net/http: request canceled". So a
// failure of a request whose deadline has passed is reported to the
// breaker as an error that matches [context.DeadlineExceeded] (and wraps
// the original), and a failure after the caller closed Request.Cancel as
// one that matches [context.Canceled]; the caller still gets the error as
// the RoundTripper returned it.
//
// The failure matrix in the repository's docs (docs/failures.md) lists
// every such failure with its decision, rule and error.type, as a test
// against real HTTP/1.1 and HTTP/2 servers observes them.
//
// The ready rules [ServerErrors], [TooManyRequests], [NetworkErrors] and
// [Timeouts] are ordinary [tracker.Rule] values, each with its own label
// for telemetry, and compose with every tracker combinator:
//
//	t := tracker.Or(breakerhttp.ServerErrors(), breakerhttp.TooManyRequests(), breakerhttp.Timeouts())
//
// With the default tracker, [tracker.All], every 4xx response would count.
//
// # Server
//
// [NewHandler] (or [Middleware]) serves requests under a breaker: when the
// breaker refuses, the handler is not called and the client gets 503
// Service Unavailable with a Retry-After header in whole seconds, rounded
// up. The status the handler wrote is the call's outcome, classified by
// the same trackers.
//
// # Per-key breakers
//
// [NewGroupTransport], [NewGroupHandler] and [GroupMiddleware] take a
// [breaker.Group] and a key func instead of a breaker: each request runs
// under the breaker of its key, so that one failing host or route does not
// refuse the others. [Host] keys by host, [Route] by method and ServeMux
// pattern (the pattern of its own mux, also when that mux is mounted under
// another; a request the mux answers itself, with 404, 405 or a redirect,
// has the one key [RouteUnmatched], so clients cannot make keys); any func
// of the request that returns few distinct values will do.
//
// # Telemetry
//
// The breaker's hooks (otelbridge) run as for any call: each request gets
// the breaker's span, and the request is sent or served under the context
// that holds it, so otelhttp's client span, or the spans a handler starts,
// are its children. The span shows the tracker's decision and rule, and
// error.type: the status code for a status error.
//
// # Concurrency and cost
//
// Transports and handlers are safe for concurrent use. On top of the
// breaker's own cost, a request whose response has a body costs one
// allocation (the body wrapper, which holds the breaker's call), plus a
// shallow copy of the request when the breaker's hooks give the call a
// context of its own (as otelbridge does); a request without a response
// body, a refused request and a status error of 400 to 599 allocate
// nothing more. A served request costs one allocation (the
// ResponseWriter wrapper, which has exactly the optional interfaces of the
// server's: see [NewHandler]); under [Route], it also costs a second
// routing lookup in the ServeMux, and what ServeMux.Handler allocates.
package breakerhttp
