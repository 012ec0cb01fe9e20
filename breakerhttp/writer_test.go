package breakerhttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
)

// features lists the optional interfaces of a ResponseWriter that code
// detects by type assertion.
func features(w http.ResponseWriter) map[string]bool {
	_, flusher := w.(http.Flusher)
	_, hijacker := w.(http.Hijacker)
	_, readerFrom := w.(io.ReaderFrom)
	_, pusher := w.(http.Pusher)
	_, closeNotifier := w.(interface{ CloseNotify() <-chan bool })
	return map[string]bool{
		"Flusher": flusher, "Hijacker": hijacker, "ReaderFrom": readerFrom,
		"Pusher": pusher, "CloseNotifier": closeNotifier,
	}
}

// TestHandlerWriterHasExactlyTheServersFeatures checks that the
// ResponseWriter a handler gets offers the optional interfaces of the
// server's, no more and no fewer, over HTTP/1.1 and HTTP/2, and that an
// http.ResponseController still reaches the server's other features.
func TestHandlerWriterHasExactlyTheServersFeatures(t *testing.T) {
	type seen struct{ outer, inner map[string]bool }
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			b, _ := newBreaker(t, 100)
			got := make(chan seen, 1)
			var deadlineErr error
			inner := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				deadlineErr = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
				got <- seen{inner: features(w)}
				_, _ = io.WriteString(w, "ok")
			}), b)
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				outer := features(w)
				inner.ServeHTTP(w, r)
				s := <-got
				s.outer = outer
				got <- s
			})
			var srv *httptest.Server
			if proto == "HTTP/2.0" {
				srv = newH2Server(t, outer)
			} else {
				srv = newServer(t, outer).Server
			}
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, proto, resp.Proto)
			s := <-got
			assert.Equal(t, s.outer, s.inner)
			assert.NoError(t, deadlineErr, "Unwrap reaches the server's deadlines")
		})
	}

	t.Run("recorder and bare writers", func(t *testing.T) {
		b, _ := newBreaker(t, 100)
		var inner map[string]bool
		h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			inner = features(w)
		}), b)
		rec := httptest.NewRecorder()
		for _, w := range []http.ResponseWriter{rec, struct{ http.ResponseWriter }{rec}} {
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, features(w), inner)
		}
	})
}
