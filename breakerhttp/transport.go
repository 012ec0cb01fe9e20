package breakerhttp

import (
	"errors"
	"net/http"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Transport is an [http.RoundTripper] that runs every request through a
// circuit breaker. Build it with [NewTransport] (one breaker) or
// [NewGroupTransport] (a breaker per key); it is safe for concurrent use,
// like the RoundTripper it wraps.
//
// A request the breaker refuses is not sent: RoundTrip closes the request
// body and returns the breaker's error, which matches
// [breaker.ErrNotPermitted] (an http.Client returns it wrapped in a
// *url.Error). An admitted request is sent by the wrapped RoundTripper
// under the context of the breaker's call (the one holding otelbridge's
// span, so that otelhttp's client span is its child), and its call ends:
//
//   - when the wrapped RoundTripper returns an error: the call's outcome is
//     that error, which RoundTrip returns untouched (see below for the
//     outcome of a request whose deadline passed or that the caller
//     canceled through Request.Cancel);
//   - at once, for a response without a body (a HEAD request, 1xx, 204 and
//     304 responses, a Content-Length of 0) and for 101 Switching
//     Protocols, whose body (the upgraded connection, writable as well as
//     readable) is returned as it is;
//   - otherwise when the caller has read the response body to its end or
//     closed it, whichever comes first, so that the whole latency and an
//     error while reading the body count. A body read error is the call's
//     outcome; otherwise the outcome is the response's status.
//
// A request may fail, in the round trip or while its body is read, because
// its deadline passed: net/http then ends it through the request's context
// or, for an [http.Client] Timeout, through the deprecated Request.Cancel
// channel, whichever comes first, and the error says "net/http: request
// canceled" in the second case. So, when the request's context has a
// deadline that has passed (and was not canceled), the call's outcome is an
// error that matches [context.DeadlineExceeded] and wraps the original one,
// so that [Timeouts] counts every such failure; when the caller closed
// Request.Cancel before any deadline, the outcome matches
// [context.Canceled]. The caller gets the original error either way.
//
// The status becomes the outcome as a [*StatusError] for codes of 400 and
// more, and as success below: the breaker's tracker (see [DefaultTracker])
// decides which status errors count. The caller always gets the response
// as the wrapped RoundTripper returned it, and a nil error; only its Body
// is wrapped, to end the call.
//
// As net/http documents, the caller must close the response body. A body
// that is never read to its end or closed leaves the call unreported, as it
// leaves the connection unusable: such a call counts as in flight and, if
// it was admitted while half-open, holds its half-open slot until the
// breaker's next transition; when every slot is held so for the half-open
// timeout ([breaker.WithHalfOpenTimeout], on by default), the holders count
// as failures and the breaker re-opens (see [breaker.Call]). Closing a
// body twice, reading it after Close or concurrently with Close behave as
// they do for the wrapped body; the call is reported once, by whichever
// comes first.
type Transport struct {
	next http.RoundTripper
	pick func(*http.Request) (*breaker.Breaker, error)
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that sends requests through next, each
// under b. next may be any RoundTripper: [http.DefaultTransport], an
// *http.Transport, or otelhttp's Transport around one. Put otelhttp inside
// (NewTransport(otelhttp.NewTransport(t), b)) for its client span to be a
// child of the breaker's span:
//
//	client := &http.Client{Transport: breakerhttp.NewTransport(http.DefaultTransport, b)}
//
// NewTransport panics if next or b is nil.
func NewTransport(next http.RoundTripper, b *breaker.Breaker) *Transport {
	if b == nil {
		panic("breakerhttp: NewTransport called with a nil *breaker.Breaker")
	}
	return newTransport("NewTransport", next, func(*http.Request) (*breaker.Breaker, error) { return b, nil })
}

func newTransport(fn string, next http.RoundTripper, pick func(*http.Request) (*breaker.Breaker, error)) *Transport {
	if next == nil {
		panic("breakerhttp: " + fn + " called with a nil next http.RoundTripper")
	}
	return &Transport{next: next, pick: pick}
}

// RoundTrip sends req through the breaker; see [Transport].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	b, err := t.pick(req)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	ctx := req.Context()
	c, err := b.Allow(ctx)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	if cctx := c.Context(); cctx != ctx {
		req = req.WithContext(cctx)
	}
	resp, err := t.send(&c, req)
	if err != nil {
		c.Done(failure(req, err))
		return resp, err
	}
	if resp == nil { // a broken RoundTripper; http.Client reports it
		c.Done(errNilResponse)
		return nil, nil
	}
	if !hasBody(req, resp) {
		c.Done(statusError(resp.StatusCode))
		return resp, nil
	}
	resp.Body = newBody(resp.Body, req, c, resp.StatusCode)
	return resp, nil
}

// errNilResponse is the outcome of a round trip that returned neither a
// response nor an error, which the RoundTripper contract forbids.
var errNilResponse = errors.New("breakerhttp: the next RoundTripper returned a nil *http.Response and a nil error")

// send calls the next RoundTripper, reporting a panic on c before it goes
// on.
func (t *Transport) send(c *breaker.Call, req *http.Request) (resp *http.Response, err error) {
	returned := false
	defer func() {
		if !returned {
			v := recover()
			c.Panicked(v)
			if v != nil {
				panic(v)
			}
		}
	}()
	resp, err = t.next.RoundTrip(req)
	returned = true
	return resp, err
}

// CloseIdleConnections closes the idle connections of the wrapped
// RoundTripper, if it has such a method (as *http.Transport has), so that
// [http.Client.CloseIdleConnections] reaches it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// hasBody reports whether the call must wait for resp's body: false for the
// responses that have none (as net/http's Transport decides) and for a
// protocol switch.
func hasBody(req *http.Request, resp *http.Response) bool {
	switch {
	case resp.Body == nil || resp.Body == http.NoBody,
		req.Method == http.MethodHead,
		resp.StatusCode < 200, // 1xx, 101 Switching Protocols included
		resp.StatusCode == http.StatusNoContent,
		resp.StatusCode == http.StatusNotModified,
		resp.ContentLength == 0:
		return false
	}
	return true
}

// closeRequestBody closes the body of a request that is not sent, as a
// RoundTripper must.
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
