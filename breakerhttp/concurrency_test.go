package breakerhttp_test

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestTransportConcurrentCallsRecordedOnce sends many requests at once
// through one transport whose breaker keeps tripping and recovering, and
// consumes the bodies in every way a caller may: to EOF, closed early,
// closed while another goroutine reads, closed twice, HEAD. Every request
// ends exactly one call.
func TestTransportConcurrentCallsRecordedOnce(t *testing.T) {
	const goroutines, perGoroutine = 32, 24
	srv := newServer(t, http.HandlerFunc(statusHandler))
	b, e := newBreaker(t, 3, breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()))
	c := client(t, b)

	var sent, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				status := []int{200, 200, 404, 500, 503}[(g+i)%5]
				method := http.MethodGet
				if i%6 == 5 {
					method = http.MethodHead
				}
				req, err := http.NewRequest(method, srv.URL+"/?status="+strconv.Itoa(status), nil)
				if !assert.NoError(t, err) {
					return
				}
				sent.Add(1)
				resp, err := c.Do(req)
				if err != nil {
					assert.ErrorIs(t, err, breaker.ErrNotPermitted)
					refused.Add(1)
					continue
				}
				assert.Equal(t, status, resp.StatusCode)
				switch i % 4 {
				case 0: // to EOF, then close
					_, err := io.Copy(io.Discard, resp.Body)
					assert.NoError(t, err)
					assert.NoError(t, resp.Body.Close())
				case 1: // closed before any read, twice
					assert.NoError(t, resp.Body.Close())
					_ = resp.Body.Close()
				case 2: // read and close concurrently
					var rw sync.WaitGroup
					rw.Go(func() { _, _ = io.Copy(io.Discard, resp.Body) })
					_ = resp.Body.Close()
					rw.Wait()
				case 3: // partial read, close, read after close
					_, _ = resp.Body.Read(make([]byte, 3))
					assert.NoError(t, resp.Body.Close())
					_, err := resp.Body.Read(make([]byte, 3))
					assert.Error(t, err)
				}
			}
		})
	}
	wg.Wait()

	got := e.all()
	require.EqualValues(t, sent.Load(), len(got), "one CallEnd per request")
	var rejected int64
	for _, c := range got {
		if c.Outcome == sdk.OutcomeRejected {
			rejected++
		}
	}
	assert.Equal(t, refused.Load(), rejected)
	assert.Equal(t, sent.Load()-refused.Load(), srv.hits.Load(), "refused requests were not sent")
}

// TestHandlerConcurrent serves many requests at once through one handler
// whose breaker keeps tripping and recovering.
func TestHandlerConcurrent(t *testing.T) {
	const goroutines, perGoroutine = 32, 24
	b, e := newBreaker(t, 3, breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()))
	var served atomic.Int64
	srv := newServer(t, breakerhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		statusHandler(w, r)
	}), b))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}

	var shed atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				status := []int{200, 404, 500}[(g+i)%3]
				resp, err := c.Get(srv.URL + "/?status=" + strconv.Itoa(status))
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable {
					shed.Add(1)
				} else {
					assert.Equal(t, status, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, goroutines*perGoroutine, e.len(), "one CallEnd per request")
	assert.EqualValues(t, goroutines*perGoroutine, served.Load()+shed.Load())
}

// TestRouteConcurrent asks one Route key func for the keys of many
// requests at once, new routes and known ones, from many goroutines: every
// goroutine gets the same key for the same route.
func TestRouteConcurrent(t *testing.T) {
	mux := http.NewServeMux()
	patterns := []string{"/a/{id}", "/b/", "/c", "GET /d/{x...}"}
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	key := breakerhttp.Route(mux)
	methods := []string{"GET", "POST", "PUT", "DELETE", "BREW", "CONNECT"}
	paths := []string{"/a/1", "/b/x/y", "/c", "/d/e/f", "/b", "/./c", "/nowhere"}
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // method and path → keys
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 200 {
				m, p := methods[(g+i)%len(methods)], paths[(g*7+i)%len(paths)]
				r, err := http.NewRequest(m, "http://127.0.0.1"+p, nil)
				if !assert.NoError(t, err) {
					return
				}
				r.URL.Path = p // as the server parsed it, uncleaned
				k := key(r)
				mu.Lock()
				if seen[m+" "+p] == nil {
					seen[m+" "+p] = map[string]bool{}
				}
				seen[m+" "+p][k] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for req, keys := range seen {
		assert.Len(t, keys, 1, "%s has one key", req)
	}
	assert.Len(t, seen["GET /a/1"], 1)
	assert.True(t, seen["GET /a/1"]["GET /a/{id}"])
	assert.True(t, seen["BREW /b/x/y"]["_OTHER /b/"])
	assert.True(t, seen["CONNECT /b"][breakerhttp.RouteUnmatched], "a redirect of the mux's own")
}
