package breakerhttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// cannedTransport answers every request with the same response, whose body
// is rewound for each request, so that it allocates nothing itself.
type cannedTransport struct {
	resp http.Response
	body cannedBody
	text string
}

type cannedBody struct{ strings.Reader }

func (*cannedBody) Close() error { return nil }

func newCanned(status int, text string) *cannedTransport {
	c := &cannedTransport{text: text}
	c.resp = http.Response{StatusCode: status, ContentLength: int64(len(text)), Header: http.Header{}}
	return c
}

func (c *cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.body.Reset(c.text)
	c.resp.Body = &c.body
	c.resp.Request = req
	return &c.resp, nil
}

func TestTransportAllocations(t *testing.T) {
	buf := make([]byte, 64)
	run := func(rt http.RoundTripper, req *http.Request) {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		_ = resp.Body.Close()
	}
	get, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	require.NoError(t, err)
	head, err := http.NewRequest(http.MethodHead, "http://127.0.0.1/", nil)
	require.NoError(t, err)

	tests := []struct {
		name   string
		status int
		req    *http.Request
		open   bool
		want   float64
	}{
		{"body: the wrapper only", 200, get, false, 1},
		{"5xx with body", 503, get, false, 1},
		{"4xx with body", 404, get, false, 1},
		{"HEAD: nothing", 200, head, false, 0},
		{"refused: nothing", 200, get, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := newCanned(tt.status, "hello")
			bare := testing.AllocsPerRun(100, func() { run(next, tt.req) })
			b, err := breaker.New("alloc", breaker.WithTracker(breakerhttp.DefaultTracker()),
				breaker.WithTripper(breaker.FailureStreak(1<<30)))
			require.NoError(t, err)
			if tt.open {
				b.ForceOpen(context.Background())
			}
			tr := breakerhttp.NewTransport(next, b)
			got := testing.AllocsPerRun(100, func() { run(tr, tt.req) })
			require.Zero(t, bare, "the canned transport allocates nothing")
			assert.Equal(t, tt.want, got)
		})
	}
}

// nopWriter is a ResponseWriter and Flusher that allocates nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header       { return w.h }
func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (*nopWriter) WriteHeader(int)             {}
func (*nopWriter) Flush()                      {}
func (*nopWriter) CloseNotify() <-chan bool    { return nil }

func TestHandlerAllocations(t *testing.T) {
	b, err := breaker.New("alloc", breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(1<<30)))
	require.NoError(t, err)
	h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
	}), b)
	w := &nopWriter{h: http.Header{}}
	r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	require.NoError(t, err)
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }), "the ResponseWriter wrapper only")
}
