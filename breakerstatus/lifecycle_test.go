package breakerstatus_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func names(st breakerstatus.Status) []string {
	var out []string
	for _, b := range st.Breakers {
		out = append(out, b.Name)
	}
	for _, g := range st.Groups {
		for _, b := range g.Breakers {
			out = append(out, g.Name+"/"+b.Key)
		}
	}
	return out
}

func TestClosedBreakerLeaves(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, []string{"payments", "hosts/a", "hosts/b"}, names(f.reg.Status()))
	f.b.Close()
	assert.Equal(t, []string{"hosts/a", "hosts/b"}, names(f.reg.Status()))
	// The name is free again, for a new breaker.
	b, err := breaker.New("payments", breaker.WithHooks(f.reg.Hooks()))
	require.NoError(t, err)
	require.NoError(t, f.reg.Add(b))
	fail(b)
	st := f.reg.Status()
	assert.Equal(t, []string{"payments", "hosts/a", "hosts/b"}, names(st))
	require.NotNil(t, st.Breakers[0].LastCountedError, "the new breaker's history is recorded")
}

func TestEvictedKeyLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry()
		require.NoError(t, err)
		g, err := breaker.NewGroup("hosts", breaker.WithHooks(reg.Hooks()), breaker.WithIdleTimeout(time.Minute))
		require.NoError(t, err)
		require.NoError(t, reg.AddGroup(g))
		a, err := g.Get("a")
		require.NoError(t, err)
		a.ForceOpen(t.Context())
		a.Reset(t.Context())
		require.Len(t, reg.Status().Recent, 2)
		time.Sleep(2 * time.Minute)
		assert.Equal(t, 1, g.EvictIdle())
		st := reg.Status()
		assert.Empty(t, names(st), "the evicted key is gone")
		assert.Len(t, st.Recent, 2, "its transitions stay in the global ring")
		// A fresh breaker for the key starts with a fresh history.
		_, err = g.Get("a")
		require.NoError(t, err)
		st = reg.Status()
		require.Equal(t, []string{"hosts/a"}, names(st))
		assert.Empty(t, st.Groups[0].Breakers[0].Transitions)
		assert.True(t, st.Groups[0].Breakers[0].Recording)
	})
}

func TestDroppedBreakerLeaves(t *testing.T) {
	reg, err := breakerstatus.NewRegistry(breakerstatus.WithMaxBreakers(2))
	require.NoError(t, err)
	func() {
		b, err := breaker.New("dropped", breaker.WithHooks(reg.Hooks()))
		require.NoError(t, err)
		require.NoError(t, reg.Add(b))
		g, err := breaker.NewGroup("dropped-group", breaker.WithHooks(reg.Hooks()))
		require.NoError(t, err)
		require.NoError(t, reg.AddGroup(g))
		_, err = g.Get("k")
		require.NoError(t, err)
	}()
	for i := 0; i < 20 && (len(reg.Status().Breakers) > 0 || len(reg.Status().Groups) > 0); i++ {
		runtime.GC()
		runtime.Gosched()
	}
	st := reg.Status()
	assert.Empty(t, st.Breakers, "the registry does not keep a dropped breaker alive")
	assert.Empty(t, st.Groups)
	// Its name and its room are free again, as soon as the page stops
	// showing it (its cleanup may not have run yet).
	b, err := breaker.New("dropped")
	require.NoError(t, err)
	require.NoError(t, reg.Add(b))
	other, err := breaker.New("other")
	require.NoError(t, err)
	require.NoError(t, reg.Add(other), "the dropped group's room is free")
	runtime.KeepAlive(b)
	runtime.KeepAlive(other)
}

func TestRegistryLimits(t *testing.T) {
	t.Run("breakers", func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry(breakerstatus.WithMaxBreakers(2))
		require.NoError(t, err)
		var keep []*breaker.Breaker
		for i := range 2 {
			b, err := breaker.New(fmt.Sprint("b", i))
			require.NoError(t, err)
			require.NoError(t, reg.Add(b))
			keep = append(keep, b)
		}
		b, err := breaker.New("b2")
		require.NoError(t, err)
		assert.ErrorIs(t, reg.Add(b), breakerstatus.ErrFull)
		g, err := breaker.NewGroup("g")
		require.NoError(t, err)
		assert.ErrorIs(t, reg.AddGroup(g), breakerstatus.ErrFull)
		assert.True(t, reg.Remove("b0"))
		assert.False(t, reg.Remove("b0"))
		require.NoError(t, reg.AddGroup(g))
		runtime.KeepAlive(keep)
	})
	t.Run("duplicates", func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry()
		require.NoError(t, err)
		b1, err := breaker.New("x")
		require.NoError(t, err)
		b2, err := breaker.New("x")
		require.NoError(t, err)
		g, err := breaker.NewGroup("x")
		require.NoError(t, err)
		require.NoError(t, reg.Add(b1))
		assert.ErrorIs(t, reg.Add(b2), breakerstatus.ErrDuplicate)
		assert.ErrorIs(t, reg.AddGroup(g), breakerstatus.ErrDuplicate)
		gk, err := breaker.NewGroup("y")
		require.NoError(t, err)
		kb, err := gk.Get("k")
		require.NoError(t, err)
		assert.ErrorContains(t, reg.Add(kb), "belongs to a group")
		assert.Error(t, reg.Add(nil))
		assert.Error(t, reg.AddGroup(nil))
		runtime.KeepAlive(b1)
	})
	t.Run("tracked", func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry(breakerstatus.WithMaxTracked(2))
		require.NoError(t, err)
		g, err := breaker.NewGroup("g", breaker.WithHooks(reg.Hooks()))
		require.NoError(t, err)
		require.NoError(t, reg.AddGroup(g))
		for _, k := range []string{"a", "b", "c"} {
			b, err := g.Get(k)
			require.NoError(t, err)
			b.ForceOpen(t.Context())
		}
		st := reg.Status()
		assert.Equal(t, 1, st.Untracked)
		rec := map[string]bool{}
		for _, b := range st.Groups[0].Breakers {
			rec[b.Key] = b.Recording
		}
		assert.Equal(t, map[string]bool{"a": true, "b": true, "c": false}, rec)
		assert.Len(t, st.Recent, 3, "the global ring sees every transition")
	})
	t.Run("rings", func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry(breakerstatus.WithTransitionsPerBreaker(3), breakerstatus.WithRecentTransitions(4))
		require.NoError(t, err)
		b, err := breaker.New("b", breaker.WithHooks(reg.Hooks()))
		require.NoError(t, err)
		require.NoError(t, reg.Add(b))
		for range 5 {
			b.ForceOpen(t.Context())
			b.Disable(t.Context())
		}
		st := reg.Status()
		ts := st.Breakers[0].Transitions
		require.Len(t, ts, 3)
		assert.Equal(t, []string{"disabled", "forced_open", "disabled"}, []string{ts[0].To, ts[1].To, ts[2].To}, "newest first")
		assert.Equal(t, "forced_open", ts[0].From)
		assert.False(t, ts[0].At.Before(ts[1].At))
		assert.Len(t, st.Recent, 4)
	})
	t.Run("keys listed", func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry(breakerstatus.WithMaxKeysListed(2))
		require.NoError(t, err)
		g, err := breaker.NewGroup("g")
		require.NoError(t, err)
		require.NoError(t, reg.AddGroup(g))
		for _, k := range []string{"a", "b", "c", "d"} {
			_, err := g.Get(k)
			require.NoError(t, err)
		}
		require.NoError(t, g.ForceOpen(t.Context(), "c"))
		grp := reg.Status().Groups[0]
		assert.Equal(t, 4, grp.Keys)
		assert.Equal(t, 2, grp.Omitted)
		require.Len(t, grp.Breakers, 2)
		assert.Equal(t, "c", grp.Breakers[0].Key, "the key that is not closed comes first")
		assert.Equal(t, "a", grp.Breakers[1].Key)
		assert.False(t, grp.Breakers[0].Recording, "the group was built without the registry's hooks")
	})
}

func TestCauseOfEachTransition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, err := breakerstatus.NewRegistry()
		require.NoError(t, err)
		b, err := breaker.New("p", breaker.WithHooks(reg.Hooks()), breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Cooldown(10*time.Second, 0)), breaker.WithPermit(breaker.All()))
		require.NoError(t, err)
		require.NoError(t, reg.Add(b))
		fail(b) // tripped
		time.Sleep(10 * time.Second)
		_ = b.Do(t.Context(), func(ctx context.Context) error { return context.DeadlineExceeded }) // retry, reopened
		time.Sleep(10 * time.Second)
		require.NoError(t, b.Do(t.Context(), func(context.Context) error { return nil })) // retry, recovered
		p := reg.Status().Breakers[0]
		require.Len(t, p.Transitions, 5)
		type row struct{ reason, outcome, errType string }
		var got []row
		for _, tr := range p.Transitions {
			r := row{reason: tr.Reason}
			if tr.Cause != nil {
				r.outcome, r.errType = tr.Cause.Outcome, tr.Cause.ErrorType
			}
			got = append(got, r)
		}
		assert.Equal(t, []row{
			{"recovered", "success", ""},
			{"retry", "", ""},
			{"reopened", "error", "context_deadline_exceeded"},
			{"retry", "", ""},
			{"tripped", "error", "503"},
		}, got)
		assert.Equal(t, "context_deadline_exceeded", p.LastCountedError.ErrorType)
		assert.Equal(t, "counted", p.LastCountedError.Decision)
	})
}
