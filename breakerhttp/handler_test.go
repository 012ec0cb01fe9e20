package breakerhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestHandlerClassifiesWrittenStatus(t *testing.T) {
	tests := []struct {
		name     string
		h        http.HandlerFunc
		status   int
		decision sdk.Decision
		rule     string
	}{
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200, sdk.DecisionNone, ""},
		{"write only", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") }, 200, sdk.DecisionNone, ""},
		{"flush only", func(w http.ResponseWriter, _ *http.Request) { w.(http.Flusher).Flush() }, 200, sdk.DecisionNone, ""},
		{"201", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(201) }, 201, sdk.DecisionNone, ""},
		{"404", http.NotFound, 404, sdk.DecisionIgnored, ""},
		{"429", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(429) }, 429, sdk.DecisionIgnored, ""},
		{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", 500) }, 500, sdk.DecisionCounted, breakerhttp.RuleServerError},
		{"103 then 502", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusBadGateway)
		}, 502, sdk.DecisionCounted, breakerhttp.RuleServerError},
		{"second WriteHeader ignored", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusInternalServerError) // superfluous: net/http logs it and keeps 200
		}, 200, sdk.DecisionNone, ""},
		{"ReadFrom", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.(io.ReaderFrom).ReadFrom(strReader("from a reader"))
		}, 200, sdk.DecisionNone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, e := newBreaker(t, 100)
			srv := newServer(t, breakerhttp.NewHandler(tt.h, b))
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.status, resp.StatusCode)

			got := e.all()
			require.Len(t, got, 1)
			assert.Equal(t, tt.decision, got[0].Decision)
			if tt.decision == sdk.DecisionIgnored {
				assert.Equal(t, ignoredRule(got[0].Err), got[0].Rule)
			} else {
				assert.Equal(t, tt.rule, got[0].Rule)
			}
			if tt.status >= 400 {
				se, ok := errors.AsType[*breakerhttp.StatusError](got[0].Err)
				require.True(t, ok)
				assert.Equal(t, tt.status, se.StatusCode())
			} else {
				assert.NoError(t, got[0].Err)
			}
		})
	}
}

func strReader(s string) io.Reader { return &onlyReader{s: s} }

// onlyReader is an io.Reader and nothing else (no WriterTo).
type onlyReader struct{ s string }

func (r *onlyReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestHandlerShedsLoadWithRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		cooldown   time.Duration
		forceOpen  bool
		retryAfter string
	}{
		{"800ms rounds up to 1", 800 * time.Millisecond, false, "1"},
		{"1.5s rounds up to 2", 1500 * time.Millisecond, false, "2"},
		{"1 minute", time.Minute, false, "60"},
		{"forced open: no estimate, no header", time.Minute, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newBreaker(t, 1, breaker.WithRetry(breaker.Cooldown(tt.cooldown, 0)))
			var served int
			srv := newServer(t, breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				served++
				w.WriteHeader(http.StatusInternalServerError)
			}), b))
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, sdk.StateOpen, b.State())
			if tt.forceOpen {
				b.ForceOpen(context.Background())
			}

			resp, err = srv.Client().Get(srv.URL)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Equal(t, "Service Unavailable\n", string(body))
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
			_, has := resp.Header["Retry-After"]
			assert.Equal(t, tt.retryAfter != "", has)
			assert.Equal(t, 1, served, "the handler is not called while the breaker refuses")
			assert.EqualValues(t, 2, srv.hits.Load())
		})
	}
}

func TestHandlerRetryAfterCountsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := newBreaker(t, 1, breaker.WithRetry(breaker.Cooldown(2500*time.Millisecond, 0)), breaker.WithPermit(breaker.All()))
		var served int
		h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			served++
			if served == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}), b)
		serve := func() *http.Response {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			return rec.Result()
		}
		require.Equal(t, http.StatusServiceUnavailable, serve().StatusCode)
		require.Equal(t, sdk.StateOpen, b.State())

		for _, step := range []struct {
			sleep time.Duration
			want  string
		}{
			{0, "3"},                      // 2.5 s to go
			{500 * time.Millisecond, "2"}, // 2 s
			{time.Millisecond, "2"},       // 1.999 s
			{1100 * time.Millisecond, "1"},
			{890 * time.Millisecond, "1"}, // 10 ms: never 0 while the wait is ahead
		} {
			time.Sleep(step.sleep)
			resp := serve()
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Equal(t, step.want, resp.Header.Get("Retry-After"), "after %v more", step.sleep)
		}
		time.Sleep(10 * time.Millisecond)
		assert.Equal(t, http.StatusOK, serve().StatusCode, "the cooldown is over: a probe is served")
		assert.Equal(t, 2, served)
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

func TestHandlerPanicIsCountedAndGoesOn(t *testing.T) {
	tests := []struct {
		name     string
		value    any
		decision sdk.Decision
		rule     string
	}{
		{"panic", "handler broke", sdk.DecisionCounted, breaker.RulePanic},
		{"ErrAbortHandler is a network error", http.ErrAbortHandler, sdk.DecisionCounted, breakerhttp.RuleNetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, e := newBreaker(t, 1)
			h := breakerhttp.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(tt.value) }), b)
			assert.PanicsWithValue(t, tt.value, func() {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			}, "the panic goes on")
			got := e.all()
			require.Len(t, got, 1)
			assert.Equal(t, tt.decision, got[0].Decision)
			assert.Equal(t, tt.rule, got[0].Rule)

			// Through a real server, which recovers the panic and drops the
			// connection.
			b2, e2 := newBreaker(t, 1)
			srv := newServer(t, breakerhttp.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(tt.value) }), b2))
			_, err := srv.Client().Get(srv.URL)
			require.Error(t, err)
			require.Len(t, e2.all(), 1)
			assert.Equal(t, tt.decision, e2.all()[0].Decision)
		})
	}
}

func TestHandlerKeepsResponseWriterFeatures(t *testing.T) {
	b, e := newBreaker(t, 1)
	served := make(chan struct{}, 2) // the hijacking handler's client may be done before the handler
	h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, "deadline: "+err.Error(), 500)
			return
		}
		if r.URL.Path == "/hijack" {
			conn, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				http.Error(w, "hijack: "+err.Error(), 500)
				return
			}
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = rw.Flush()
			return
		}
		_, _ = io.WriteString(w, "streamed")
		if err := rc.Flush(); err != nil {
			http.Error(w, "flush: "+err.Error(), 500)
		}
	}), b)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	for _, path := range []string{"/stream", "/hijack"} {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Contains(t, []string{"streamed", "hijacked"}, string(body))
		<-served
	}
	got := e.all()
	require.Len(t, got, 2)
	for _, c := range got {
		assert.Equal(t, sdk.OutcomeSuccess, c.Outcome)
	}
}

func TestHandlerWithoutFeaturesUnderneath(t *testing.T) {
	// A ResponseWriter that is neither a Flusher nor a Hijacker nor a
	// ReaderFrom: neither is the wrapper, and a ResponseController reports
	// what the underlying one cannot do.
	b, _ := newBreaker(t, 1)
	var flushErr, hijackErr error
	var isReaderFrom bool
	h := breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		flushErr = http.NewResponseController(w).Flush()
		_, _, hijackErr = http.NewResponseController(w).Hijack()
		_, isReaderFrom = w.(io.ReaderFrom)
		_, _ = io.Copy(w, strReader("copied"))
	}), b)
	rec := httptest.NewRecorder()
	w := struct{ http.ResponseWriter }{rec}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.ErrorIs(t, flushErr, http.ErrNotSupported)
	assert.ErrorIs(t, hijackErr, http.ErrNotSupported)
	assert.False(t, isReaderFrom)
	assert.Equal(t, "copied", rec.Body.String())
}

func TestMiddleware(t *testing.T) {
	b, e := newBreaker(t, 1)
	mux := http.NewServeMux()
	mux.Handle("GET /items", breakerhttp.Middleware(b)(http.HandlerFunc(statusHandler)))
	srv := newServer(t, mux)
	for _, status := range []int{200, 500, 200} {
		resp, err := srv.Client().Get(srv.URL + "/items?status=" + strconv.Itoa(status))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	require.Len(t, e.all(), 3)
	assert.Equal(t, sdk.OutcomeRejected, e.all()[2].Outcome)
}

func TestNewHandlerPanicsOnNil(t *testing.T) {
	b, _ := newBreaker(t, 1)
	assert.PanicsWithValue(t, "breakerhttp: NewHandler called with a nil http.Handler",
		func() { breakerhttp.NewHandler(nil, b) })
	assert.PanicsWithValue(t, "breakerhttp: NewHandler called with a nil *breaker.Breaker",
		func() { breakerhttp.NewHandler(http.NotFoundHandler(), nil) })
	assert.PanicsWithValue(t, "breakerhttp: Middleware called with a nil *breaker.Breaker",
		func() { breakerhttp.Middleware(nil) })
	assert.PanicsWithValue(t, "breakerhttp: NewHandler called with a nil http.Handler",
		func() { breakerhttp.Middleware(b)(nil) })
}
