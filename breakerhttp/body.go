package breakerhttp

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// body is a response body whose breaker call ends at EOF, at the first read
// error or at Close, whichever comes first.
//
// It is the Transport's one allocation per response with a body, so its
// fields are packed: the status is kept as its code (the outcome,
// statusError(code), is looked up at the end) beside ended, so that the
// wrapper stays in the 128-byte size class.
type body struct {
	rc    io.ReadCloser
	req   *http.Request // the request sent, for the outcome of a read error
	code  int32         // the response's status code: the outcome at EOF or Close
	ended atomic.Bool   // set by the first of EOF, read error and Close
	call  breaker.Call  // reported only by the goroutine that set ended
}

func newBody(rc io.ReadCloser, req *http.Request, c breaker.Call, code int) *body {
	return &body{rc: rc, req: req, code: int32(code), call: c}
}

// Read reads from the response body. io.EOF ends the call with the
// response's status as its outcome; any other error ends it with that
// error, as [failure] reports it.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		if err == io.EOF {
			b.end(statusError(int(b.code)))
		} else {
			b.end(failure(b.req, err))
		}
	}
	return n, err
}

// Close ends the call, if it has not ended, with the response's status as
// its outcome, then closes the response body.
func (b *body) Close() error {
	b.end(statusError(int(b.code)))
	return b.rc.Close()
}

func (b *body) end(err error) {
	if b.ended.CompareAndSwap(false, true) {
		b.call.Done(err)
	}
}
