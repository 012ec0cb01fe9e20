package breakerhttp_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerhttp"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// capWatch records, at every transition of a group, how many keys are
// open (open, half-open or forced open), and every capped trip by key.
type capWatch struct {
	mu      sync.Mutex
	states  map[string]sdk.State
	maxOpen int
	capped  map[string]int
}

func (w *capWatch) hooks() sdk.Hooks {
	w.states, w.capped = map[string]sdk.State{}, map[string]int{}
	return sdk.Hooks{
		StateChange: func(_ context.Context, tr sdk.Transition) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.states[tr.Key] = tr.To
			n := 0
			for _, st := range w.states {
				if st == sdk.StateOpen || st == sdk.StateHalfOpen || st == sdk.StateForcedOpen {
					n++
				}
			}
			w.maxOpen = max(w.maxOpen, n)
		},
		TripCapped: func(_ context.Context, c sdk.TripCapped) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.capped[c.Key]++
		},
	}
}

func (w *capWatch) snapshot() (maxOpen int, opened, capped []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.states {
		opened = append(opened, k)
	}
	for k := range w.capped {
		capped = append(capped, k)
	}
	return w.maxOpen, opened, capped
}

// Ten hosts fail at once behind a group transport with a 20% cap: never
// more than two are open, the other eight are counted over the cap, and
// each opens once an open host recovers and makes room.
func TestGroupTransportCapsOpenHosts(t *testing.T) {
	type host struct {
		srv  *server
		down atomic.Bool
	}
	hosts := make([]*host, 10)
	for i := range hosts {
		h := &host{}
		h.down.Store(true)
		h.srv = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if h.down.Load() {
				w.WriteHeader(http.StatusBadGateway)
			}
		}))
		hosts[i] = h
	}
	w := &capWatch{}
	g, _ := newGroup(t, 2, breaker.WithMaxOpenFraction(0.2), breaker.WithHooks(w.hooks()),
		breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: breakerhttp.NewGroupTransport(tr, g, breakerhttp.Host)}
	get := func(h *host) {
		resp, err := c.Get(h.srv.URL)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	state := func(h *host) sdk.State {
		b, err := g.Get(h.srv.Listener.Addr().String())
		require.NoError(t, err)
		return b.State()
	}

	// Every host fails at once, three requests each, interleaved.
	for range 3 {
		for _, h := range hosts {
			get(h)
		}
	}
	maxOpen, opened, capped := w.snapshot()
	assert.Equal(t, 2, g.OpenKeys())
	assert.LessOrEqual(t, maxOpen, 2)
	assert.Len(t, opened, 2)
	assert.Len(t, capped, 8, "the other eight are counted over the cap")
	assert.GreaterOrEqual(t, g.TripsCapped(), int64(8))

	// Recover the open hosts two by two; each recovery makes room for a
	// failing host, which opens on its next failure.
	for round := range 5 {
		for _, h := range hosts {
			if st := state(h); st == sdk.StateOpen || st == sdk.StateHalfOpen {
				h.down.Store(false)
				get(h) // the probe succeeds: closed
				require.Equal(t, sdk.StateClosed, state(h), "round %d", round)
			}
		}
		for _, h := range hosts {
			if h.down.Load() {
				get(h)
			}
		}
		assert.LessOrEqual(t, g.OpenKeys(), 2, "round %d", round)
	}
	maxOpen, opened, _ = w.snapshot()
	assert.LessOrEqual(t, maxOpen, 2, "never more than two open")
	assert.Len(t, opened, 10, "every host opened once there was room")
	for _, h := range hosts {
		assert.False(t, h.down.Load(), "every host recovered in turn")
	}
}
