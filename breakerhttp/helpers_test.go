package breakerhttp_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// ends records the CallEnd events of a breaker.
type ends struct {
	mu sync.Mutex
	e  []sdk.CallEnd
}

func (e *ends) hooks() sdk.Hooks {
	return sdk.Hooks{CallEnd: func(_ context.Context, info sdk.CallEnd) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.e = append(e.e, info)
	}}
}

func (e *ends) all() []sdk.CallEnd {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdk.CallEnd(nil), e.e...)
}

func (e *ends) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.e)
}

// ignoredRule returns the rule label DefaultTracker gives err when it
// ignores it: the label, if any, that package tracker gives an error that
// no operand of an Or matched.
func ignoredRule(err error) string {
	return breakerhttp.DefaultTracker().Track(context.Background(), err).Rule
}

// newBreaker returns a breaker with DefaultTracker that opens after
// streak counted failures, and records its CallEnd events.
func newBreaker(t testing.TB, streak int, opts ...breaker.Option) (*breaker.Breaker, *ends) {
	t.Helper()
	var e ends
	opts = append([]breaker.Option{
		breaker.WithTracker(breakerhttp.DefaultTracker()),
		breaker.WithTripper(breaker.FailureStreak(streak)),
		breaker.WithHooks(e.hooks()),
	}, opts...)
	b, err := breaker.New("upstream", opts...)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b, &e
}

// server is an httptest server on 127.0.0.1 that counts the requests it
// gets.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t testing.TB, h http.Handler) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the panics tests provoke
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// statusHandler answers with the status in the "status" query parameter
// and a short body.
func statusHandler(w http.ResponseWriter, r *http.Request) {
	code := http.StatusOK
	if s := r.URL.Query().Get("status"); s != "" {
		var err error
		if code, err = atoi(s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "body of "+http.StatusText(code))
}

// client returns an http.Client whose transport is NewTransport around a
// transport of its own, closed when the test ends.
func client(t testing.TB, b *breaker.Breaker) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: breakerhttp.NewTransport(tr, b)}
}

// roundTripperFunc adapts a func to http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeRecorder is a request body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error {
	c.closed.Store(true)
	return nil
}

func atoi(s string) (int, error) { return strconv.Atoi(s) }
