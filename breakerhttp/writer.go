package breakerhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter records the status a handler writes. It has the methods
// every ResponseWriter has, and Unwrap; [wrapWriter] adds the optional
// ones that the server's ResponseWriter has, through the parts below.
type responseWriter struct {
	w        http.ResponseWriter
	code     int  // the final status written; 0 until then
	hijacked bool // the handler took the connection over
}

// outcome returns what the call's tracker sees: the status written (200
// if none was), as an error from 400 on.
func (w *responseWriter) outcome() error {
	if w.hijacked || w.code == 0 {
		return nil
	}
	return statusError(w.code)
}

func (w *responseWriter) Header() http.Header { return w.w.Header() }

func (w *responseWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.w.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.wrote()
	return w.w.Write(p)
}

// wrote records the implicit 200 of a write before any WriteHeader.
func (w *responseWriter) wrote() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
}

// Unwrap returns the underlying ResponseWriter, for
// [http.ResponseController], which reaches through it the features that
// have no interface of their own (deadlines, full duplex).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.w }

// readerFrom and closeNotifier are the interfaces io.ReaderFrom and the
// deprecated http.CloseNotifier, spelled out.
type (
	readerFrom    = io.ReaderFrom
	closeNotifier = interface{ CloseNotify() <-chan bool }
)

// The parts: each gives the wrapper one optional interface of the
// underlying ResponseWriter, which it is built only for.
type (
	flusherPart       struct{ w *responseWriter }
	hijackerPart      struct{ w *responseWriter }
	readerFromPart    struct{ w *responseWriter }
	pusherPart        struct{ w *responseWriter }
	closeNotifierPart struct{ w *responseWriter }
)

// Flush sends any buffered data to the client.
func (p flusherPart) Flush() { _ = p.FlushError() }

// FlushError is Flush with the error of the underlying ResponseWriter, as
// [http.ResponseController.Flush] wants it.
func (p flusherPart) FlushError() error {
	p.w.wrote()
	return http.NewResponseController(p.w.w).Flush()
}

// Hijack lets the handler take over the connection; the call then counts
// as a success.
func (p hijackerPart) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := p.w.w.(http.Hijacker).Hijack()
	if err == nil {
		p.w.hijacked = true
	}
	return conn, rw, err
}

// ReadFrom keeps the server's io.ReaderFrom (sendfile for files).
func (p readerFromPart) ReadFrom(r io.Reader) (int64, error) {
	p.w.wrote()
	return p.w.w.(io.ReaderFrom).ReadFrom(r)
}

// Push initiates an HTTP/2 server push.
func (p pusherPart) Push(target string, opts *http.PushOptions) error {
	return p.w.w.(http.Pusher).Push(target, opts)
}

// CloseNotify is the underlying ResponseWriter's.
func (p closeNotifierPart) CloseNotify() <-chan bool {
	return p.w.w.(closeNotifier).CloseNotify()
}
