package breakerhttp_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// stallingServer answers "/headers" never (it waits for the client to go
// away) and "/body" with headers and the start of a body, then nothing
// more.
func stallingServer(t *testing.T) *server {
	t.Helper()
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, "start")
			_ = http.NewResponseController(w).Flush()
		}
		<-r.Context().Done()
	}))
}

// TestClientTimeoutAlwaysCounts checks that an http.Client's Timeout is a
// counted timeout every time, whichever way net/http cancels the request:
// through the request's context or through the Request.Cancel channel it
// closes at the same moment. The timeout is real (the server is on a real
// socket), but nothing here measures time.
func TestClientTimeoutAlwaysCounts(t *testing.T) {
	srv := stallingServer(t)
	for _, path := range []string{"/headers", "/body"} {
		t.Run(path, func(t *testing.T) {
			b, e := newBreaker(t, 1000)
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Timeout: 20 * time.Millisecond, Transport: breakerhttp.NewTransport(tr, b)}
			const runs = 20
			for range runs {
				resp, err := c.Get(srv.URL + path)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				require.Error(t, err)
			}
			got := e.all()
			require.Len(t, got, runs)
			for i, c := range got {
				assert.Equal(t, sdk.DecisionCounted, c.Decision, "run %d: %v", i, c.Err)
				assert.Equal(t, breakerhttp.RuleTimeout, c.Rule, "run %d: %v", i, c.Err)
				assert.ErrorIs(t, c.Err, context.DeadlineExceeded, "run %d", i)
			}
		})
	}
}

// TestClientTimeoutCallerCancelIgnored checks that, with a Client.Timeout
// set, the caller's own cancellation is still ignored, before the
// response's headers and in the middle of its body.
func TestClientTimeoutCallerCancelIgnored(t *testing.T) {
	srv := stallingServer(t)
	for _, path := range []string{"/headers", "/body"} {
		t.Run(path, func(t *testing.T) {
			b, e := newBreaker(t, 1)
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Timeout: time.Hour, Transport: breakerhttp.NewTransport(tr, b)}
			for range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
				require.NoError(t, err)
				if path == "/headers" {
					time.AfterFunc(10*time.Millisecond, cancel)
				}
				resp, err := c.Do(req)
				if err == nil {
					cancel()
					_, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				cancel()
				require.Error(t, err)
			}
			for i, c := range e.all() {
				assert.Equal(t, sdk.DecisionIgnored, c.Decision, "run %d: %v", i, c.Err)
				assert.Equal(t, breaker.RuleContextCanceled, c.Rule, "run %d", i)
			}
			assert.Len(t, e.all(), 5)
			assert.Equal(t, sdk.StateClosed, b.State())
		})
	}
}

// TestLegacyRequestCancelIgnored checks that a caller that cancels through
// the deprecated Request.Cancel channel is ignored as a caller's
// cancellation, while its Client.Timeout has not passed.
func TestLegacyRequestCancelIgnored(t *testing.T) {
	srv := stallingServer(t)
	b, e := newBreaker(t, 1)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Timeout: time.Hour, Transport: breakerhttp.NewTransport(tr, b)}
	cancel := make(chan struct{})
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/headers", nil)
	require.NoError(t, err)
	//lint:ignore SA1019 the deprecated way this test is about
	req.Cancel = cancel
	time.AfterFunc(10*time.Millisecond, func() { close(cancel) })
	_, err = c.Do(req)
	require.Error(t, err)
	got := e.all()
	require.Len(t, got, 1)
	assert.Equal(t, sdk.DecisionIgnored, got[0].Decision, "%v", got[0].Err)
	assert.ErrorIs(t, got[0].Err, context.Canceled, "reported as the caller's cancellation")
	assert.Equal(t, sdk.StateClosed, b.State())
}
