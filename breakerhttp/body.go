package breakerhttp

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// body is a response body whose breaker call ends at EOF, at the first read
// error or at Close, whichever comes first.
type body struct {
	rc     io.ReadCloser
	req    *http.Request // the request sent, for the outcome of a read error
	status error         // the outcome at EOF or Close: nil or a *StatusError
	ended  atomic.Bool   // set by the first of EOF, read error and Close
	call   breaker.Call  // reported only by the goroutine that set ended
}

func newBody(rc io.ReadCloser, req *http.Request, c breaker.Call, status error) *body {
	return &body{rc: rc, req: req, status: status, call: c}
}

// Read reads from the response body. io.EOF ends the call with the
// response's status as its outcome; any other error ends it with that
// error, as [failure] reports it.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		if err == io.EOF {
			b.end(b.status)
		} else {
			b.end(failure(b.req, err))
		}
	}
	return n, err
}

// Close ends the call, if it has not ended, with the response's status as
// its outcome, then closes the response body.
func (b *body) Close() error {
	b.end(b.status)
	return b.rc.Close()
}

func (b *body) end(err error) {
	if b.ended.CompareAndSwap(false, true) {
		b.call.Done(err)
	}
}
