package breakerhttp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestTransportClassifiesResponses(t *testing.T) {
	tests := []struct {
		status   int
		decision sdk.Decision
		rule     string
	}{
		{http.StatusOK, sdk.DecisionNone, ""},
		{http.StatusCreated, sdk.DecisionNone, ""},
		{http.StatusMultipleChoices, sdk.DecisionNone, ""},
		{http.StatusBadRequest, sdk.DecisionIgnored, ""},
		{http.StatusNotFound, sdk.DecisionIgnored, ""},
		{http.StatusTooManyRequests, sdk.DecisionIgnored, ""},
		{http.StatusInternalServerError, sdk.DecisionCounted, breakerhttp.RuleServerError},
		{http.StatusServiceUnavailable, sdk.DecisionCounted, breakerhttp.RuleServerError},
		{599, sdk.DecisionCounted, breakerhttp.RuleServerError},
	}
	srv := newServer(t, http.HandlerFunc(statusHandler))
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			b, e := newBreaker(t, 100)
			resp, err := client(t, b).Get(srv.URL + "/?status=" + strconv.Itoa(tt.status))
			require.NoError(t, err, "a status error never reaches the caller")
			assert.Equal(t, tt.status, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "body of "+http.StatusText(tt.status), string(body), "the response is untouched")
			require.NoError(t, resp.Body.Close())

			got := e.all()
			require.Len(t, got, 1)
			assert.Equal(t, tt.decision, got[0].Decision)
			if tt.decision == sdk.DecisionIgnored {
				assert.Equal(t, ignoredRule(got[0].Err), got[0].Rule)
			} else {
				assert.Equal(t, tt.rule, got[0].Rule)
			}
			if tt.status < 400 {
				assert.Equal(t, sdk.OutcomeSuccess, got[0].Outcome)
				assert.NoError(t, got[0].Err)
				return
			}
			assert.Equal(t, sdk.OutcomeError, got[0].Outcome)
			se, ok := errors.AsType[*breakerhttp.StatusError](got[0].Err)
			require.True(t, ok, "the tracker sees a *StatusError, got %T", got[0].Err)
			assert.Equal(t, tt.status, se.StatusCode())
			assert.Equal(t, strconv.Itoa(tt.status), se.ErrorType())
		})
	}
}

func TestTransportOpensAndSendsNothingWhileOpen(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(statusHandler))
	b, e := newBreaker(t, 2, breaker.WithRetry(breaker.Never()))
	c := client(t, b)
	get := func(status int) (*http.Response, error) {
		return c.Get(srv.URL + "/?status=" + strconv.Itoa(status))
	}
	for range 3 { // 4xx are ignored: the breaker stays closed
		resp, err := get(http.StatusNotFound)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	assert.Equal(t, sdk.StateClosed, b.State())
	for range 2 {
		resp, err := get(http.StatusBadGateway)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	}
	assert.Equal(t, sdk.StateOpen, b.State())
	require.EqualValues(t, 5, srv.hits.Load())

	body := &closeRecorder{Reader: strings.NewReader("payload")}
	req, err := http.NewRequest(http.MethodPost, srv.URL, body)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.ErrorIs(t, err, breaker.ErrNotPermitted)
	assert.Nil(t, resp)
	var npe breaker.NotPermittedError
	require.ErrorAs(t, err, &npe)
	assert.Equal(t, sdk.StateOpen, npe.State())
	assert.True(t, body.closed.Load(), "RoundTrip closes the body of a request it does not send")
	assert.EqualValues(t, 5, srv.hits.Load(), "no request while open")
	assert.Equal(t, sdk.OutcomeRejected, e.all()[5].Outcome)
}

func TestTransportCallEndsAtEOF(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "first,")
		http.NewResponseController(w).Flush()
		<-release
		_, _ = io.WriteString(w, "second")
	}))
	b, e := newBreaker(t, 1)
	resp, err := client(t, b).Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, len("first,"))
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	assert.Equal(t, 0, e.len(), "the call is still running while the body is read")

	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "second", string(rest))
	got := e.all()
	require.Len(t, got, 1, "EOF ends the call")
	assert.Equal(t, sdk.OutcomeSuccess, got[0].Outcome)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, 1, e.len(), "Close after EOF reports nothing more")
}

func TestTransportCallEndsAtClose(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, strings.Repeat("x", 1<<16))
	}))
	b, e := newBreaker(t, 100)
	resp, err := client(t, b).Get(srv.URL)
	require.NoError(t, err)
	_, err = resp.Body.Read(make([]byte, 10))
	require.NoError(t, err)
	assert.Equal(t, 0, e.len())

	require.NoError(t, resp.Body.Close())
	require.Equal(t, 1, e.len(), "Close ends the call")
	assert.Equal(t, sdk.DecisionCounted, e.all()[0].Decision, "with the response's status as outcome")

	assert.NoError(t, resp.Body.Close(), "a second Close behaves as net/http's")
	_, err = resp.Body.Read(make([]byte, 10))
	assert.Error(t, err, "a read after Close fails as net/http's does")
	assert.Equal(t, 1, e.len(), "and the call is recorded once")
}

func TestTransportBodyReadErrorCounts(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// Promise 100 bytes, send 5, and drop the connection.
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello")
		_ = rw.Flush()
	}))
	b, e := newBreaker(t, 1)
	resp, err := client(t, b).Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	got := e.all()
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0].Err, io.ErrUnexpectedEOF, "the body's read error is the outcome")
	assert.Equal(t, sdk.DecisionCounted, got[0].Decision)
	assert.Equal(t, breakerhttp.RuleNetworkError, got[0].Rule)
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestTransportResponsesWithoutBodyEndAtOnce(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/empty":
			w.Header().Set("Content-Length", "0")
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			_, _ = io.WriteString(w, "a body HEAD does not get")
		}
	}))
	tests := []struct{ method, path string }{
		{http.MethodHead, "/"},
		{http.MethodGet, "/empty"},
		{http.MethodGet, "/204"},
		{http.MethodGet, "/304"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			b, e := newBreaker(t, 1)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			resp, err := client(t, b).Do(req)
			require.NoError(t, err)
			require.Equal(t, 1, e.len(), "the call ended before the body was touched")
			assert.Equal(t, sdk.OutcomeSuccess, e.all()[0].Outcome)
			n, err := io.Copy(io.Discard, resp.Body)
			assert.NoError(t, err)
			assert.Zero(t, n)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, 1, e.len())
		})
	}
}

func TestTransportSwitchingProtocolsKeepsBodyWritable(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = rw.Flush()
		line, _ := rw.ReadString('\n')
		_, _ = rw.WriteString("echo " + line)
		_ = rw.Flush()
	}))
	b, e := newBreaker(t, 1)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := client(t, b).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, 1, e.len(), "a protocol switch ends the call at once")
	assert.Equal(t, sdk.OutcomeSuccess, e.all()[0].Outcome)

	conn, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok, "the upgraded connection stays writable, got %T", resp.Body)
	_, err = io.WriteString(conn, "hi\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo hi\n", line)
}

func TestTransportNetworkErrorCounts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there any more

	b, e := newBreaker(t, 1)
	resp, err := client(t, b).Get("http://" + addr)
	require.Error(t, err)
	assert.Nil(t, resp)
	_, isNet := errors.AsType[*net.OpError](err)
	assert.True(t, isNet, "the transport's error reaches the caller untouched: %v", err)

	got := e.all()
	require.Len(t, got, 1)
	assert.Equal(t, sdk.DecisionCounted, got[0].Decision)
	assert.Equal(t, breakerhttp.RuleNetworkError, got[0].Rule)
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestTransportDeadlineCounts(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(statusHandler))
	b, e := newBreaker(t, 1)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0)) // long passed
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = client(t, b).Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	got := e.all()
	require.Len(t, got, 1)
	assert.Equal(t, sdk.DecisionCounted, got[0].Decision)
	assert.Equal(t, breakerhttp.RuleTimeout, got[0].Rule)
}

func TestTransportCallerCancelIsIgnored(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	b, e := newBreaker(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := client(t, b).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	cancel()
	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, context.Canceled)

	got := e.all()
	require.Len(t, got, 1)
	assert.Equal(t, sdk.DecisionIgnored, got[0].Decision, "the caller gave up: that says nothing about the server")
	assert.Equal(t, breaker.RuleContextCanceled, got[0].Rule)
	assert.Equal(t, sdk.StateClosed, b.State())
}

func TestTransportPanicIsRecorded(t *testing.T) {
	b, e := newBreaker(t, 1)
	tr := breakerhttp.NewTransport(roundTripperFunc(func(*http.Request) (*http.Response, error) {
		panic("next transport broke")
	}), b)
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "next transport broke", func() { _, _ = tr.RoundTrip(req) })
	got := e.all()
	require.Len(t, got, 1)
	assert.True(t, got[0].Panicked)
	assert.Equal(t, sdk.StateOpen, b.State())
}

func TestTransportForwardsCloseIdleConnections(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(statusHandler))
	b, _ := newBreaker(t, 1)
	var closes int
	inner := &http.Transport{}
	next := struct {
		http.RoundTripper
		closer
	}{inner, closer(func() { closes++; inner.CloseIdleConnections() })}
	c := &http.Client{Transport: breakerhttp.NewTransport(next, b)}
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	c.CloseIdleConnections()
	assert.Equal(t, 1, closes)

	assert.NotPanics(t, breakerhttp.NewTransport(roundTripperFunc(nil), b).CloseIdleConnections,
		"a RoundTripper without the method")
}

type closer func()

func (c closer) CloseIdleConnections() { c() }

func TestNewTransportPanicsOnNil(t *testing.T) {
	b, _ := newBreaker(t, 1)
	assert.PanicsWithValue(t, "breakerhttp: NewTransport called with a nil next http.RoundTripper",
		func() { breakerhttp.NewTransport(nil, b) })
	assert.PanicsWithValue(t, "breakerhttp: NewTransport called with a nil *breaker.Breaker",
		func() { breakerhttp.NewTransport(http.DefaultTransport, nil) })
}

// slowBody is a response body whose first Read takes delay.
type slowBody struct {
	delay time.Duration
	done  bool
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	time.Sleep(b.delay)
	b.done = true
	return copy(p, "late"), nil
}

func (*slowBody) Close() error { return nil }

// TestTransportLatencyRunsToEOF checks, on the fake clock of a synctest
// bubble, that the call's duration is the whole exchange: the round trip
// and the time the caller spends reading the body.
func TestTransportLatencyRunsToEOF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, e := newBreaker(t, 1)
		next := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			time.Sleep(100 * time.Millisecond) // the response's headers arrive
			return &http.Response{StatusCode: 200, ContentLength: -1, Body: &slowBody{delay: 2 * time.Second}, Request: r}, nil
		})
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		require.NoError(t, err)
		resp, err := breakerhttp.NewTransport(next, b).RoundTrip(req)
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond) // the caller does something else first
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
		got := e.all()
		require.Len(t, got, 1)
		assert.Equal(t, 2400*time.Millisecond, got[0].Duration)
		require.NoError(t, resp.Body.Close())
		assert.Len(t, e.all(), 1)
	})
}

func TestTransportNilResponseFromNext(t *testing.T) {
	b, e := newBreaker(t, 1)
	c := &http.Client{Transport: breakerhttp.NewTransport(roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, nil
	}), b)}
	_, err := c.Get("http://127.0.0.1:1/")
	require.Error(t, err, "http.Client reports the broken RoundTripper")
	got := e.all()
	require.Len(t, got, 1, "and the call still ends")
	assert.ErrorContains(t, got[0].Err, "nil *http.Response")
	assert.Equal(t, sdk.DecisionIgnored, got[0].Decision, "a broken RoundTripper says nothing about the server")
}
