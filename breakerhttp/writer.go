package breakerhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter records the status a handler writes.
type responseWriter struct {
	w        http.ResponseWriter
	code     int  // the final status written; 0 until then
	hijacked bool // the handler took the connection over
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

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

// ReadFrom keeps the server's io.ReaderFrom (sendfile for files).
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	w.wrote()
	if rf, ok := w.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.w}, r)
}

// writerOnly hides every method of a writer but Write, so that io.Copy does
// not come back to ReadFrom.
type writerOnly struct{ io.Writer }

// Flush sends any buffered data to the client, if the underlying
// ResponseWriter can.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush with the error of the underlying ResponseWriter, as
// [http.ResponseController.Flush] wants it.
func (w *responseWriter) FlushError() error {
	w.wrote()
	return http.NewResponseController(w.w).Flush()
}

// Hijack lets the handler take over the connection, if the underlying
// ResponseWriter can; the call then counts as a success.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.w).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}

// Unwrap returns the underlying ResponseWriter, for
// [http.ResponseController].
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.w }
