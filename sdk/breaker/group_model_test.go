package breaker_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Group model: a reference of which keys a Group holds and what each
// key's breaker does, checked step by step against the real group on random
// sequences of look-ups, calls, held two-step calls and commands for one
// key or all keys. The breakers use CountWindow(3) and FailureStreak(2) and
// stay open for an hour once open, so the model knows exactly which keys
// are evictable; which evictable key the clock hand picks is the group's
// choice, and the model checks that it was evictable. The group has no idle
// timeout and a run lasts far less than DefaultIdleTimeout, so a closed key
// with a failure in its window is never idle long enough to be evictable
// here (TestGroupAttackerPinnedKeysAgeOut covers that rule).
//
// The model also has the group's cap on open keys (WithMaxOpenFraction,
// changed at run time by Reconfigure): a key whose streak reaches 2 while
// closed opens only if fewer than max(1, ⌊f × keys⌋) breakers are open,
// half-open or forced open, and otherwise stays closed and counts as a
// capped trip; and its enforcement (SetEnforcement 0 or 1): in shadow
// mode an open key's calls run and are not recorded.

// mdlKey is the model of one breaker of the group.
type mdlKey struct {
	b      *breaker.Breaker
	state  sdk.State
	window []bool // outcomes since the last transition, newest last; true = counted failure
	streak int
	held   int // two-step calls admitted and not done
	gen    int // transitions so far: outcomes of calls admitted before one are dropped
}

func (k *mdlKey) evictable() bool {
	return (k.state == sdk.StateClosed || k.state == sdk.StateDisabled) && k.held == 0 && !slices.Contains(k.window, true)
}

func (k *mdlKey) transition(to sdk.State) {
	if to == sdk.StateClosed {
		k.streak = 0
	}
	k.state, k.window = to, nil
	k.gen++
}

// record applies a finished call's outcome, as the breaker records it;
// room reports whether the group's cap lets a closed key open.
func (k *mdlKey) record(fail bool, room func() bool) {
	if fail {
		k.streak++
	} else {
		k.streak = 0
	}
	k.window = append(k.window, fail)
	if len(k.window) > 3 {
		k.window = k.window[1:]
	}
	if k.state == sdk.StateClosed && k.streak >= 2 && room() {
		k.transition(sdk.StateOpen)
	}
}

func countsOpen(st sdk.State) bool {
	return st == sdk.StateOpen || st == sdk.StateHalfOpen || st == sdk.StateForcedOpen
}

// open is the number of the group's breakers that count against its cap.
func (m *groupModel) open() int {
	n := 0
	for _, k := range m.keys {
		if countsOpen(k.state) {
			n++
		}
	}
	if m.overflow != nil && countsOpen(m.overflow.state) {
		n++
	}
	return n
}

// room reports whether a closed key may open now, counting a capped trip
// if not.
func (m *groupModel) room() bool {
	if m.fraction >= 1 {
		return true
	}
	limit := max(1, int(math.Floor(m.fraction*float64(len(m.keys))+1e-9)))
	if m.open() < limit {
		return true
	}
	m.capped++
	return false
}

// admits reports whether the model admits a call, and whether it records
// it; shadow is true in shadow mode (enforcement 0).
func (k *mdlKey) admits(shadow bool) (admitted, recorded bool) {
	switch k.state {
	case sdk.StateClosed, sdk.StateMetricsOnly:
		return true, true
	case sdk.StateDisabled:
		return true, false
	case sdk.StateOpen:
		return shadow, false
	}
	return false, false
}

type groupModel struct {
	g        *breaker.Group
	max      int
	keys     map[string]*mdlKey
	overflow *mdlKey
	held     []heldCall
	fraction float64 // the cap on open keys
	capped   int     // trips the cap refused
	shadow   bool    // enforcement 0
}

type heldCall struct {
	c      *breaker.Call
	m      *mdlKey
	record bool
	gen    int
}

// lookup checks the group's answer for key against the model, updating
// the model; command is true for a per-key command, which never gets the
// overflow breaker.
func (m *groupModel) lookup(t *rapid.T, key string, command bool, get func() (*breaker.Breaker, error)) *mdlKey {
	if k, ok := m.keys[key]; ok {
		b, err := get()
		require.NoError(t, err)
		require.Same(t, k.b, b, "key %q kept its breaker", key)
		return k
	}
	var evictable []string
	for name, k := range m.keys {
		if k.evictable() {
			evictable = append(evictable, name)
		}
	}
	before := m.g.Info()
	b, err := get()
	after := m.g.Info()
	switch {
	case len(m.keys) < m.max || len(evictable) > 0:
		require.NoError(t, err)
		require.Equal(t, key, b.Key())
		if len(m.keys) == m.max {
			var gone []string
			for name := range before {
				if _, ok := after[name]; !ok {
					gone = append(gone, name)
				}
			}
			require.Len(t, gone, 1, "one key made room")
			require.Contains(t, evictable, gone[0], "the evicted key was evictable")
			delete(m.keys, gone[0])
		} else {
			require.Len(t, after, len(before)+1)
		}
		k := &mdlKey{b: b, state: sdk.StateClosed}
		m.keys[key] = k
		return k
	case command:
		require.ErrorIs(t, err, breaker.ErrGroupFull)
		return nil
	default:
		require.NoError(t, err)
		require.Equal(t, breaker.OverflowKey, b.Key(), "nothing evictable: the overflow breaker")
		if m.overflow == nil {
			m.overflow = &mdlKey{b: b, state: sdk.StateClosed}
		}
		require.Same(t, m.overflow.b, b)
		return m.overflow
	}
}

var errModel = errors.New("model failure")

func TestGroupModel(t *testing.T) {
	captureDefaultLog(t) // each group that overflows logs once
	rapid.Check(t, func(t *rapid.T) {
		maxKeys := rapid.IntRange(1, 5).Draw(t, "maxKeys")
		fractions := rapid.SampledFrom([]float64{1, 0.2, 0.5, 0.75})
		fraction := fractions.Draw(t, "maxOpenFraction")
		g, err := breaker.NewGroup("model", breaker.WithMaxKeys(maxKeys), breaker.WithIdleTimeout(0),
			breaker.WithWindow(breaker.CountWindow(3)), breaker.WithTripper(breaker.FailureStreak(2)),
			breaker.WithRetry(breaker.Cooldown(1<<40, 0)), breaker.WithMaxOpenFraction(fraction))
		require.NoError(t, err)
		defer g.Close()
		m := &groupModel{g: g, max: maxKeys, keys: map[string]*mdlKey{}, fraction: fraction}
		ctx := context.Background()
		keyGen := rapid.SampledFrom([]string{"", "a", "b", "c", "d", "e", "f", "g"})
		commands := []struct {
			name string
			one  func(context.Context, string) error
			all  func(context.Context)
			to   sdk.State
		}{
			{"reset", g.Reset, g.ResetAll, sdk.StateClosed},
			{"disable", g.Disable, g.DisableAll, sdk.StateDisabled},
			{"metrics-only", g.MetricsOnly, g.MetricsOnlyAll, sdk.StateMetricsOnly},
			{"force-open", g.ForceOpen, g.ForceOpenAll, sdk.StateForcedOpen},
		}
		t.Repeat(map[string]func(*rapid.T){
			"call": func(t *rapid.T) {
				key := keyGen.Draw(t, "key")
				fail := rapid.Bool().Draw(t, "fail")
				k := m.lookup(t, key, false, func() (*breaker.Breaker, error) { return g.Get(key) })
				err := k.b.Do(ctx, func(context.Context) error {
					if fail {
						return errModel
					}
					return nil
				})
				admitted, recorded := k.admits(m.shadow)
				if !admitted {
					require.ErrorIs(t, err, breaker.ErrNotPermitted)
					return
				}
				if fail {
					require.ErrorIs(t, err, errModel)
				} else {
					require.NoError(t, err)
				}
				if recorded {
					k.record(fail, m.room)
				}
			},
			"hold": func(t *rapid.T) {
				key := keyGen.Draw(t, "key")
				k := m.lookup(t, key, false, func() (*breaker.Breaker, error) { return g.Get(key) })
				c, err := k.b.Allow(ctx)
				admitted, recorded := k.admits(m.shadow)
				if !admitted {
					require.ErrorIs(t, err, breaker.ErrNotPermitted)
					return
				}
				require.NoError(t, err)
				k.held++
				m.held = append(m.held, heldCall{c: &c, m: k, record: recorded, gen: k.gen})
			},
			"done": func(t *rapid.T) {
				if len(m.held) == 0 {
					t.Skip("nothing held")
				}
				i := rapid.IntRange(0, len(m.held)-1).Draw(t, "held")
				h := m.held[i]
				m.held = slices.Delete(m.held, i, i+1)
				fail := rapid.Bool().Draw(t, "fail")
				var err error
				if fail {
					err = errModel
				}
				h.c.Done(err)
				h.m.held--
				if h.record && h.gen == h.m.gen { // else stale: dropped
					h.m.record(fail, m.room)
				}
			},
			"command": func(t *rapid.T) {
				key := keyGen.Draw(t, "key")
				c := commands[rapid.IntRange(0, len(commands)-1).Draw(t, "command")]
				k := m.lookup(t, key, true, func() (*breaker.Breaker, error) {
					if err := c.one(ctx, key); err != nil {
						return nil, err
					}
					return g.Get(key)
				})
				if k != nil {
					k.transition(c.to)
				}
			},
			"commandAll": func(t *rapid.T) {
				c := commands[rapid.IntRange(0, len(commands)-1).Draw(t, "command")]
				c.all(ctx)
				for _, k := range m.keys {
					k.transition(c.to)
				}
				if m.overflow != nil {
					m.overflow.transition(c.to)
				}
			},
			"cap": func(t *rapid.T) {
				f := fractions.Draw(t, "maxOpenFraction")
				require.NoError(t, g.Reconfigure(ctx, breaker.WithMaxOpenFraction(f)))
				m.fraction = f
			},
			"enforcement": func(t *rapid.T) {
				m.shadow = rapid.Bool().Draw(t, "shadow")
				f := 1.0
				if m.shadow {
					f = 0
				}
				require.NoError(t, g.SetEnforcement(f))
			},
			"": func(t *rapid.T) {
				require.Equal(t, m.open(), g.OpenKeys(), "keys counted against the cap")
				require.EqualValues(t, m.capped, g.TripsCapped(), "capped trips")
				require.Equal(t, m.fraction, g.MaxOpenFraction())
				if limit, capped := g.MaxOpenKeys(); m.fraction < 1 {
					require.True(t, capped)
					require.Equal(t, max(1, int(math.Floor(m.fraction*float64(len(m.keys))+1e-9))), limit, "the cap now")
				} else {
					require.False(t, capped, "fraction 1: no cap")
					require.Zero(t, limit)
				}
				require.LessOrEqual(t, g.Len(), maxKeys)
				require.Equal(t, len(m.keys), g.Len())
				info := g.Info()
				for key, k := range m.keys {
					require.Contains(t, info, key)
					require.Equal(t, k.state, info[key].State, "state of %q", key)
					fails := 0
					for _, f := range k.window {
						if f {
							fails++
						}
					}
					require.Equal(t, len(k.window), info[key].Metric.TotalCount, "window of %q", key)
					require.Equal(t, fails, info[key].Metric.FailureCount, "failures of %q", key)
				}
			},
		})
		for _, h := range m.held {
			h.c.Done(nil)
		}
	})
}
