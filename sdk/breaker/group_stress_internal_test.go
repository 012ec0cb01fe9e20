package breaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

// TestGroupStress races look-ups, calls (held and not), manual commands,
// sweeps and evictions on a small group with many more keys than its
// limit, and checks the group's invariants:
//
//   - never more than the key limit, and a table consistent with its count;
//   - an evicted breaker was closed or disabled when evicted, and was
//     Closed (its registration ended), exactly once;
//   - a flapping key opens its own breaker and no other: no other key's
//     breaker opens or rejects a call;
//   - every key has at most one registered breaker at a time;
//   - reconfigurations of the whole group (half-open limits and its cap on
//     open keys) meanwhile keep every registration, and the cap's count of
//     open keys equals the breakers the group holds open at the end.
func TestGroupStress(t *testing.T) {
	const (
		maxKeys    = 16
		keySpace   = 64
		workers    = 8
		iterations = 3000
	)
	var (
		mu         sync.Mutex
		live       = map[string]int{} // key -> registrations not yet ended
		registered int
		ended      int
		opened     = map[string]int{} // key -> transitions to open
		rejected   = map[string]int{} // key -> rejected calls
	)
	hooks := sdk.Hooks{
		Register: func(r sdk.Registration) func() {
			mu.Lock()
			defer mu.Unlock()
			live[r.Key]++
			registered++
			var once atomic.Bool
			return func() {
				if !once.CompareAndSwap(false, true) {
					panic("unregister called twice")
				}
				mu.Lock()
				defer mu.Unlock()
				live[r.Key]--
				ended++
			}
		},
		StateChange: func(_ context.Context, tr sdk.Transition) {
			if tr.To == sdk.StateOpen {
				mu.Lock()
				opened[tr.Key]++
				mu.Unlock()
			}
		},
		CallEnd: func(_ context.Context, c sdk.CallEnd) {
			if c.Outcome == sdk.OutcomeRejected {
				mu.Lock()
				rejected[c.Key]++
				mu.Unlock()
			}
		},
	}
	var logged bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))

	g, err := NewGroup("stress",
		WithMaxKeys(maxKeys),
		WithIdleTimeout(time.Nanosecond), // every sweep may evict
		WithHooks(hooks),
		WithKeyOptions(func(key string) []Option {
			if key == "flap" {
				return []Option{WithTripper(FailureStreak(1)), WithRetry(Cooldown(time.Hour, 0))}
			}
			return nil
		}),
	)
	require.NoError(t, err)

	var evictions atomic.Int64
	var badEvictions []string
	g.evictHook = func(b *Breaker) { // under g.mu
		evictions.Add(1)
		if st := b.State(); st != sdk.StateClosed && st != sdk.StateDisabled && len(badEvictions) < 10 {
			badEvictions = append(badEvictions, b.Key()+" "+st.String())
		}
	}

	ctx := context.Background()
	errFlap := errors.New("flap")
	flap, err := g.Get("flap")
	require.NoError(t, err)
	require.ErrorIs(t, flap.Do(ctx, func(context.Context) error { return errFlap }), errFlap)
	require.Equal(t, sdk.StateOpen, flap.State())

	var wg sync.WaitGroup
	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			var held []Call
			for range iterations {
				key := fmt.Sprintf("host-%d", rnd.IntN(keySpace))
				switch op := rnd.IntN(100); {
				case op < 55:
					b, err := g.Get(key)
					if err != nil {
						fail("Get(%q): %v", key, err)
						continue
					}
					if err := b.Do(ctx, func(context.Context) error { return nil }); err != nil {
						fail("call on %q (breaker %q): %v", key, b.Key(), err)
					}
				case op < 65:
					b, err := g.Get("flap")
					if err != nil || b != flap {
						fail("flap lost its breaker: %v", err)
						continue
					}
					err = b.Do(ctx, func(context.Context) error { return errFlap })
					if !errors.Is(err, ErrNotPermitted) {
						fail("flap call: %v", err)
					}
				case op < 78:
					b, err := g.Get(key)
					if err != nil {
						fail("Get(%q): %v", key, err)
						continue
					}
					c, err := b.Allow(ctx)
					if err != nil {
						fail("Allow on %q: %v", key, err)
						continue
					}
					held = append(held, c)
				case op < 88:
					if len(held) > 0 {
						i := rnd.IntN(len(held))
						held[i].Done(nil)
						held = append(held[:i], held[i+1:]...)
					}
				case op < 93:
					var err error
					switch rnd.IntN(3) {
					case 0:
						err = g.MetricsOnly(ctx, key)
					case 1:
						err = g.Disable(ctx, key)
					default:
						err = g.Reset(ctx, key)
					}
					if err != nil && !errors.Is(err, ErrGroupFull) {
						fail("command on %q: %v", key, err)
					}
				case op < 96:
					g.EvictIdle()
				case op < 98:
					if err := g.Reconfigure(ctx, WithMaxHalfOpenCalls(1+rnd.IntN(3)),
						WithMaxOpenFraction([]float64{0.1, 0.5, 1}[rnd.IntN(3)])); err != nil {
						fail("Reconfigure: %v", err)
					}
				default:
					if n := g.Len(); n > maxKeys {
						fail("Len %d > %d", n, maxKeys)
					}
					if n := len(g.Info()); n > maxKeys+1 {
						fail("Info has %d breakers", n)
					}
				}
			}
			for i := range held {
				held[i].Done(nil)
			}
		})
	}
	wg.Wait()

	g.mu.Lock()
	count := 0
	g.table.Load().each(func(e *entry) {
		count++
		assert.Zero(t, e.flags.Load()&entryDead, "a dead entry in the table")
		assert.Zero(t, e.pins, "a pin left behind")
		assert.Same(t, e, g.table.Load().find(e.hash, e.key), "entry %q not found", e.key)
	})
	assert.Equal(t, g.live, count)
	assert.LessOrEqual(t, g.live, maxKeys)
	keys := map[string]bool{}
	g.table.Load().each(func(e *entry) { keys[e.key] = true })
	overflow := g.overflow != nil
	assert.Empty(t, badEvictions, "evicted while protecting something")
	openHeld := 0
	for _, h := range g.heldLocked() {
		if countsOpen(h.b.state()) {
			openHeld++
		}
	}
	assert.EqualValues(t, openHeld, g.cap.open.Load(), "the cap counts the breakers held open")
	assert.EqualValues(t, g.live, g.cap.keys.Load())
	g.mu.Unlock()

	mu.Lock()
	assert.Equal(t, map[string]int{"flap": 1}, opened, "only the flapping key opened")
	for k, n := range rejected {
		assert.Equal(t, "flap", k, "%d calls rejected", n)
	}
	for k, n := range live {
		want := 0
		if keys[k] || (k == OverflowKey && overflow) {
			want = 1
		}
		assert.Equal(t, want, n, "registered breakers of %q", k)
	}
	assert.Equal(t, int(evictions.Load()), ended, "every evicted breaker was closed")
	mu.Unlock()
	assert.Positive(t, evictions.Load(), "the test evicted nothing")
	t.Logf("%d evictions, overflow used: %v", evictions.Load(), overflow)
	if overflow {
		assert.Equal(t, 1, strings.Count(logged.String(), "overflow breaker"), "the overflow is logged once")
	}

	g.Close()
	mu.Lock()
	assert.Equal(t, registered, ended, "Close closes every breaker")
	mu.Unlock()
}

// TestGroupHitTakesNoLock holds the group's lock while getting existing
// keys: a hit must not need it (it would deadlock here), and must not
// touch the table or the key's entry once the entry is marked used.
func TestGroupHitTakesNoLock(t *testing.T) {
	g, err := NewGroup("nolock")
	require.NoError(t, err)
	defer g.Close()
	want := map[string]*Breaker{}
	for _, k := range []string{"", "a", "b"} {
		want[k], err = g.Get(k)
		require.NoError(t, err)
	}
	g.mu.Lock()
	table := g.table.Load()
	for k, b := range want {
		got, err := g.Get(k)
		require.NoError(t, err)
		require.Same(t, b, got)
		e := table.find(maphash.String(g.seed, k), k)
		flags := e.flags.Load()
		require.NotZero(t, flags&entryUsed)
		_, _ = g.Get(k)
		require.Equal(t, flags, e.flags.Load(), "a second hit writes nothing")
	}
	require.Same(t, table, g.table.Load())
	g.mu.Unlock()
}
