package breakerhttp_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// newH2Server starts an httptest TLS server on 127.0.0.1 that speaks
// HTTP/2 (and HTTP/1.1 to clients that ask for it); its Client speaks
// HTTP/2.
func newH2Server(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panics tests provoke
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// HTTP/2 frame types and codes (RFC 9113) that rawH2Server writes.
const (
	frameData     = 0x0
	frameHeaders  = 0x1
	frameSettings = 0x4
	frameGoAway   = 0x7

	flagAck        = 0x1
	flagEndHeaders = 0x4

	codeNoError       = 0x0
	codeInternalError = 0x2
)

// h2Conn is the server side of an HTTP/2 connection that a test writes
// frame by frame.
type h2Conn struct{ c *tls.Conn }

func (c h2Conn) frame(typ, flags byte, stream uint32, payload []byte) {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	_, _ = c.c.Write(append(h[:], payload...))
}

// headers200 sends the response headers ":status: 200" (the HPACK static
// table's entry 8) on stream.
func (c h2Conn) headers200(stream uint32) {
	c.frame(frameHeaders, flagEndHeaders, stream, []byte{0x88})
}

// data sends part of a response body on stream.
func (c h2Conn) data(stream uint32, s string) { c.frame(frameData, 0, stream, []byte(s)) }

// goAway sends GOAWAY with the last stream the server processes and code.
func (c h2Conn) goAway(last, code uint32) {
	p := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, last), code)
	c.frame(frameGoAway, 0, 0, p)
}

// rawH2Server starts a TLS server on 127.0.0.1 that negotiates HTTP/2 and
// speaks it by hand, to send what net/http's server never sends on its
// own: for each connection it reads the client's frames up to its first
// request's HEADERS and its acknowledgement of the server's SETTINGS
// (after which a client that sends a GET has nothing more to write, so
// that a reset reaches it as a read error), calls script with that
// request's stream, and then
// ends the connection (cleanly, with close_notify and FIN, so that the
// client reads every frame script sent before it sees the end).
func rawH2Server(t testing.TB, script func(c h2Conn, stream uint32)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, tc *tls.Conn, _ http.Handler) {
			defer tc.Close()
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
			if _, err := io.ReadFull(tc, preface); err != nil {
				return
			}
			c := h2Conn{tc}
			c.frame(frameSettings, 0, 0, nil)
			var h [9]byte
			var stream uint32
			for acked := false; stream == 0 || !acked; {
				if _, err := io.ReadFull(tc, h[:]); err != nil {
					return
				}
				n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
				if _, err := io.CopyN(io.Discard, tc, int64(n)); err != nil {
					return
				}
				switch {
				case h[3] == frameHeaders:
					stream = binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1)
				case h[3] == frameSettings && h[4]&flagAck != 0:
					acked = true
				}
			}
			script(c, stream)
			_ = tc.CloseWrite()
			_, _ = io.Copy(io.Discard, tc) // until the client closes too
		},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// h2Client returns an http.Client that speaks HTTP/2 to srv through
// NewTransport under b.
func h2Client(t testing.TB, srv *httptest.Server, b *breaker.Breaker) *http.Client {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: breakerhttp.NewTransport(tr, b)}
}

// TestHTTP2FailuresCountAsNetworkErrors checks that the failures of an
// HTTP/2 upstream count as they do over HTTP/1.1: a stream reset
// (RST_STREAM), a GOAWAY and a lost connection, before the response's
// headers and in the middle of its body.
func TestHTTP2FailuresCountAsNetworkErrors(t *testing.T) {
	panicking := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			_, _ = io.WriteString(w, "start")
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
		panic("handler broke")
	}))
	goAwayHeaders := rawH2Server(t, func(c h2Conn, stream uint32) { c.goAway(stream, codeInternalError) })
	goAwayBody := rawH2Server(t, func(c h2Conn, stream uint32) {
		c.headers200(stream)
		c.data(stream, "start")
		c.goAway(stream, codeNoError)
	})
	lostBody := rawH2Server(t, func(c h2Conn, stream uint32) {
		c.headers200(stream)
		c.data(stream, "start")
	})
	tests := []struct {
		name string
		srv  *httptest.Server
		path string
		want string // in the error's message
	}{
		{"RST_STREAM before headers", panicking, "/", "stream error"},
		{"RST_STREAM mid-body", panicking, "/body", "stream error"},
		{"GOAWAY before headers", goAwayHeaders, "/", "GOAWAY"},
		{"GOAWAY mid-body", goAwayBody, "/", "GOAWAY"},
		{"connection lost mid-body", lostBody, "/", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, e := newBreaker(t, 1)
			resp, err := h2Client(t, tt.srv, b).Get(tt.srv.URL + tt.path)
			if err == nil {
				assert.Equal(t, 2, resp.ProtoMajor)
				_, err = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
			require.Error(t, err)
			got := e.all()
			require.Len(t, got, 1)
			assert.ErrorContains(t, got[0].Err, tt.want)
			assert.Equal(t, sdk.DecisionCounted, got[0].Decision, "%v", got[0].Err)
			assert.Equal(t, breakerhttp.RuleNetworkError, got[0].Rule)
			assert.Equal(t, sdk.StateOpen, b.State())
		})
	}
}

// TestHTTP2CallerCancelIgnored checks that the reset a caller's
// cancellation sends is not the server's failure, before the response's
// headers and in the middle of its body.
func TestHTTP2CallerCancelIgnored(t *testing.T) {
	srv := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			_, _ = io.WriteString(w, "start")
			_ = http.NewResponseController(w).Flush()
		}
		<-r.Context().Done()
	}))
	for _, path := range []string{"/headers", "/body"} {
		t.Run(path, func(t *testing.T) {
			b, e := newBreaker(t, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
			require.NoError(t, err)
			if path == "/headers" {
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			resp, err := h2Client(t, srv, b).Do(req)
			if err == nil {
				assert.Equal(t, 2, resp.ProtoMajor)
				cancel()
				_, err = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
			require.ErrorIs(t, err, context.Canceled)
			got := e.all()
			require.Len(t, got, 1)
			assert.Equal(t, sdk.DecisionIgnored, got[0].Decision)
			assert.Equal(t, breaker.RuleContextCanceled, got[0].Rule)
			assert.Equal(t, sdk.StateClosed, b.State())
		})
	}
}
