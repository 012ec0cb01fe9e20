package breaker_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func mustGroup(t testing.TB, opts ...breaker.Option) *breaker.Group {
	t.Helper()
	g, err := breaker.NewGroup("hosts", opts...)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	return g
}

func mustGet(t testing.TB, g *breaker.Group, key string) *breaker.Breaker {
	t.Helper()
	b, err := g.Get(key)
	require.NoError(t, err)
	require.NotNil(t, b)
	return b
}

// tripOnFirstFailure opens a breaker on its first counted failure and
// keeps it open for an hour.
var tripOnFirstFailure = []breaker.Option{
	breaker.WithTripper(breaker.FailureStreak(1)),
	breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
}

// registry records Register hooks and their unregister funcs.
type registry struct {
	mu         sync.Mutex
	registered []sdk.Registration
	live       map[string]int // key -> registrations not yet unregistered
	unreg      map[string]int // key -> unregister calls
}

func newRegistry() *registry {
	return &registry{live: map[string]int{}, unreg: map[string]int{}}
}

func (r *registry) hooks() sdk.Hooks {
	return sdk.Hooks{Register: func(reg sdk.Registration) func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.registered = append(r.registered, reg)
		r.live[reg.Key]++
		return func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.live[reg.Key]--
			r.unreg[reg.Key]++
		}
	}}
}

func (r *registry) counts(key string) (live, unregistered int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live[key], r.unreg[key]
}

func TestNewGroupValidatesEverythingAtOnce(t *testing.T) {
	_, err := breaker.NewGroup("bad",
		breaker.WithMaxKeys(0),
		breaker.WithIdleTimeout(-time.Second),
		breaker.WithKeyOptions(nil),
		breaker.WithMaxHalfOpenCalls(0),
		nil,
	)
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "bad", ce.Name)
	msg := err.Error()
	for _, want := range []string{
		`breaker: invalid configuration for "bad": `,
		"WithMaxKeys(0): must be at least 1",
		"WithIdleTimeout(-1s): must not be negative",
		"WithKeyOptions: func must not be nil",
		"WithMaxHalfOpenCalls(0): must be at least 1",
		"option 4 is nil",
	} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, ce.Problems, 5)
}

func TestNewGroupRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		gn   string
		opts []breaker.Option
		want string
	}{
		{"empty name", "", nil, "name must not be empty"},
		{"max keys negative", "g", []breaker.Option{breaker.WithMaxKeys(-5)}, "WithMaxKeys(-5): must be at least 1"},
		{"idle negative", "g", []breaker.Option{breaker.WithIdleTimeout(-time.Nanosecond)}, "WithIdleTimeout(-1ns): must not be negative"},
		{"invalid window", "g", []breaker.Option{breaker.WithWindow(breaker.CountWindow(0))}, "CountWindow(0): size must be greater than zero"},
		{"only group problems", "g", []breaker.Option{breaker.WithMaxKeys(0), breaker.WithIdleTimeout(-time.Second)}, "WithMaxKeys(0): must be at least 1; WithIdleTimeout(-1s): must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := breaker.NewGroup(tc.gn, tc.opts...)
			assert.Nil(t, g)
			var ce *breaker.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewGroupAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []breaker.Option
	}{
		{"defaults", nil},
		{"one key", []breaker.Option{breaker.WithMaxKeys(1)}},
		{"no idle eviction", []breaker.Option{breaker.WithIdleTimeout(0)}},
		{"with breaker options", tripOnFirstFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := breaker.NewGroup("g", tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, "g", g.Name())
			assert.Zero(t, g.Len())
			g.Close()
		})
	}
}

func TestGroupOptionsAreRejectedByNew(t *testing.T) {
	for _, tc := range []struct {
		opt  breaker.Option
		want string
	}{
		{breaker.WithMaxKeys(10), "WithMaxKeys(10): an option of NewGroup only"},
		{breaker.WithIdleTimeout(time.Minute), "WithIdleTimeout(1m0s): an option of NewGroup only"},
		{breaker.WithKeyOptions(func(string) []breaker.Option { return nil }), "WithKeyOptions: an option of NewGroup only"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			b, err := breaker.New("single", tc.opt)
			assert.Nil(t, b)
			var ce *breaker.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestGroupGetBuildsOneBreakerPerKey(t *testing.T) {
	reg := newRegistry()
	g := mustGroup(t, breaker.WithHooks(reg.hooks()))
	a := mustGet(t, g, "a.example")
	assert.Same(t, a, mustGet(t, g, "a.example"))
	b := mustGet(t, g, "b.example")
	assert.NotSame(t, a, b)
	empty := mustGet(t, g, "")
	assert.Same(t, empty, mustGet(t, g, ""), "the empty key is a key")
	for _, tc := range []struct {
		b   *breaker.Breaker
		key string
	}{{a, "a.example"}, {b, "b.example"}, {empty, ""}} {
		assert.Equal(t, "hosts", tc.b.Name())
		assert.Equal(t, tc.key, tc.b.Key())
		live, _ := reg.counts(tc.key)
		assert.Equal(t, 1, live, "registered once: %q", tc.key)
	}
	assert.Equal(t, 3, g.Len())
}

// TestGroupConcurrentFirstGets checks that many goroutines getting the
// same new keys at once build one breaker per key, registered once.
func TestGroupConcurrentFirstGets(t *testing.T) {
	reg := newRegistry()
	g := mustGroup(t, breaker.WithHooks(reg.hooks()))
	keys := []string{"a", "b", "c", ""}
	got := make([][]*breaker.Breaker, 32)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			for _, k := range keys {
				b, err := g.Get(k)
				if err != nil {
					panic(err)
				}
				got[i] = append(got[i], b)
			}
		})
	}
	wg.Wait()
	for i := range got {
		for j, k := range keys {
			assert.Same(t, got[0][j], got[i][j], "key %q", k)
			assert.Equal(t, k, got[i][j].Key())
		}
	}
	for _, k := range keys {
		live, _ := reg.counts(k)
		assert.Equal(t, 1, live, "key %q registered once", k)
	}
	assert.Equal(t, len(keys), g.Len())
}

func TestGroupFlappingKeyOpensOnlyItsOwnBreaker(t *testing.T) {
	ctx := context.Background()
	g := mustGroup(t, tripOnFirstFailure...)
	bad, good := mustGet(t, g, "bad"), mustGet(t, g, "good")
	for range 5 {
		_, _ = breaker.Execute(ctx, mustGet(t, g, "bad"), failing)
		_, err := breaker.Execute(ctx, mustGet(t, g, "good"), double(2))
		require.NoError(t, err)
	}
	assert.Equal(t, sdk.StateOpen, bad.State())
	assert.Equal(t, sdk.StateClosed, good.State())
	_, err := breaker.Execute(ctx, mustGet(t, g, "bad"), double(1))
	npe := requireRejected(t, err, sdk.StateOpen)
	assert.Equal(t, "hosts", npe.Name())
	assert.Equal(t, "bad", npe.Key())
}

func TestGroupGetAfterClose(t *testing.T) {
	reg := newRegistry()
	g := mustGroup(t, breaker.WithHooks(reg.hooks()))
	mustGet(t, g, "a")
	g.Close()
	g.Close()
	_, err := g.Get("a")
	require.ErrorIs(t, err, breaker.ErrGroupClosed)
	live, unreg := reg.counts("a")
	assert.Equal(t, 0, live)
	assert.Equal(t, 1, unreg)
	assert.Zero(t, g.Len())
	assert.ErrorIs(t, g.Reset(context.Background(), "a"), breaker.ErrGroupClosed)
}

// TestGroupIdleEviction checks that an evictable entry leaves only after
// the idle time without a Get, and that its breaker is closed.
func TestGroupIdleEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := newRegistry()
		g := mustGroup(t, breaker.WithIdleTimeout(time.Minute), breaker.WithHooks(reg.hooks()))
		a := mustGet(t, g, "a")
		mustGet(t, g, "b")
		time.Sleep(59 * time.Second)
		assert.Zero(t, g.EvictIdle(), "idle for less than the idle time")
		mustGet(t, g, "b")
		time.Sleep(2 * time.Second)
		assert.Equal(t, 1, g.EvictIdle(), "a was built 61s ago and not used since")
		assert.Equal(t, 1, g.Len())
		live, unreg := reg.counts("a")
		assert.Equal(t, 0, live)
		assert.Equal(t, 1, unreg)
		a2 := mustGet(t, g, "a")
		assert.NotSame(t, a, a2, "a fresh breaker after eviction")

		// b was used at 59s; the sweep at 61s saw the mark and restarted
		// its idle time then, so it leaves one idle time after that sweep.
		time.Sleep(58 * time.Second)
		assert.Zero(t, g.EvictIdle())
		time.Sleep(2 * time.Second)
		assert.Equal(t, 2, g.EvictIdle(), "a (built at 61s) and b (seen used at 61s)")
		_, unreg = reg.counts("b")
		assert.Equal(t, 1, unreg)
	})
}

// TestGroupSweepsOnNewKeys checks that idle keys leave without EvictIdle:
// a Get that builds a breaker sweeps, at most once per half idle time.
func TestGroupSweepsOnNewKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := newRegistry()
		g := mustGroup(t, breaker.WithIdleTimeout(time.Minute), breaker.WithHooks(reg.hooks()))
		mustGet(t, g, "old")
		time.Sleep(time.Minute)
		mustGet(t, g, "new")
		assert.Equal(t, 1, g.Len(), "the Get of new swept old out")
		_, unreg := reg.counts("old")
		assert.Equal(t, 1, unreg)

		time.Sleep(time.Minute)
		mustGet(t, g, "newer") // sweeps: new goes
		time.Sleep(29 * time.Second)
		mustGet(t, g, "newest") // no sweep within half an idle time
		time.Sleep(31 * time.Second)
		assert.Equal(t, 2, g.Len(), "newer is idle, but nothing swept yet")
		mustGet(t, g, "last") // sweeps: newer goes, newest is 31s idle
		assert.Equal(t, 2, g.Len())
		assert.NotContains(t, g.Info(), "newer")
		assert.Contains(t, g.Info(), "newest")
	})
}

func TestGroupNilPanics(t *testing.T) {
	var g *breaker.Group
	assert.PanicsWithValue(t, "breaker: Get on a nil *Group", func() { _, _ = g.Get("k") })
}

func TestGroupGetHitAllocatesNothing(t *testing.T) {
	g := mustGroup(t)
	mustGet(t, g, "a.example")
	allocs := testing.AllocsPerRun(1000, func() {
		b, err := g.Get("a.example")
		if err != nil || b == nil {
			panic("lost the key")
		}
	})
	assert.Zero(t, allocs)
}

// TestGroupNeverEvictsWhatProtects puts one key's breaker in each state
// and checks that neither idle eviction nor a new key at the limit drops
// it unless it is evictable.
func TestGroupNeverEvictsWhatProtects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []breaker.Option
		prep  func(t *testing.T, b *breaker.Breaker) (release func())
		state sdk.State
		evict bool
	}{
		{"closed, clean", nil, nil, sdk.StateClosed, true},
		{"closed, only successes", nil, func(t *testing.T, b *breaker.Breaker) func() {
			_, err := call(b, double(1))
			require.NoError(t, err)
			return nil
		}, sdk.StateClosed, true},
		{"disabled", nil, func(t *testing.T, b *breaker.Breaker) func() {
			b.Disable(context.Background())
			return nil
		}, sdk.StateDisabled, true},
		// Idle for the idle time, a closed key goes whatever its window
		// holds (TestGroupFailingKeyKeptUntilIdle: not before).
		{"closed, a counted failure in the window", nil, func(t *testing.T, b *breaker.Breaker) func() {
			_, _ = call(b, failing)
			return nil
		}, sdk.StateClosed, true},
		{"closed, a call in flight", nil, func(t *testing.T, b *breaker.Breaker) func() {
			c, err := b.Allow(context.Background())
			require.NoError(t, err)
			return func() { c.Done(nil) }
		}, sdk.StateClosed, false},
		{"open", tripOnFirstFailure, func(t *testing.T, b *breaker.Breaker) func() {
			_, _ = call(b, failing)
			return nil
		}, sdk.StateOpen, false},
		{"half-open, no call in flight", []breaker.Option{
			breaker.WithTripper(breaker.FailureStreak(1)),
			breaker.WithRetry(breaker.Cooldown(time.Second, 0)),
			breaker.WithPermit(breaker.All()),
		}, func(t *testing.T, b *breaker.Breaker) func() {
			_, _ = call(b, failing)
			time.Sleep(2 * time.Second)
			ctx, cancel := context.WithCancel(context.Background())
			c, err := b.Allow(ctx) // the probe moves the breaker to half-open
			require.NoError(t, err)
			cancel()
			c.Done(ctx.Err()) // ignored: the breaker stays half-open
			return nil
		}, sdk.StateHalfOpen, false},
		{"forced open", nil, func(t *testing.T, b *breaker.Breaker) func() {
			b.ForceOpen(context.Background())
			return nil
		}, sdk.StateForcedOpen, false},
		{"metrics only", nil, func(t *testing.T, b *breaker.Breaker) func() {
			b.MetricsOnly(context.Background())
			return nil
		}, sdk.StateMetricsOnly, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg := newRegistry()
				opts := append([]breaker.Option{breaker.WithMaxKeys(1), breaker.WithIdleTimeout(time.Minute),
					breaker.WithHooks(reg.hooks())}, tc.opts...)
				g := mustGroup(t, opts...)
				b := mustGet(t, g, "k")
				var release func()
				if tc.prep != nil {
					release = tc.prep(t, b)
				}
				require.Equal(t, tc.state, b.State())
				time.Sleep(time.Hour)

				// At the limit, a new key either takes k's place or
				// shares the overflow breaker.
				other := mustGet(t, g, "other")
				if tc.evict {
					assert.Equal(t, "other", other.Key())
					_, unreg := reg.counts("k")
					assert.Equal(t, 1, unreg, "the evicted breaker was closed")
				} else {
					assert.Equal(t, breaker.OverflowKey, other.Key())
					assert.Same(t, b, mustGet(t, g, "k"), "k keeps its breaker")
					time.Sleep(time.Hour)
					assert.Zero(t, g.EvictIdle(), "not evicted when idle either")
					assert.Same(t, b, mustGet(t, g, "k"))
					_, unreg := reg.counts("k")
					assert.Zero(t, unreg)
				}
				assert.Equal(t, 1, g.Len())
				if release != nil {
					release()
				}
			})
		})
	}
}

// TestGroupEvictsLeastRecentlyUsedAtTheLimit checks the clock hand: at the
// limit, the entries used since the hand last passed them get a second
// chance, and an entry without a mark goes first.
func TestGroupEvictsLeastRecentlyUsedAtTheLimit(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			reg := newRegistry()
			g := mustGroup(t, breaker.WithMaxKeys(3), breaker.WithIdleTimeout(0), breaker.WithHooks(reg.hooks()))
			for _, k := range []string{"a", "b", "c"} {
				mustGet(t, g, k)
			}
			// The hand clears every mark, then evicts one of a, b, c.
			mustGet(t, g, "x")
			require.Equal(t, 3, g.Len())
			var survivors []string
			for k := range g.Info() {
				if k != "x" {
					survivors = append(survivors, k)
				}
			}
			slices.Sort(survivors)
			require.Len(t, survivors, 2)
			cold, warm := survivors[i], survivors[1-i]
			mustGet(t, g, warm)

			mustGet(t, g, "new")
			info := g.Info()
			assert.Len(t, info, 3)
			assert.NotContains(t, info, cold, "the key not used since the hand passed goes first")
			for _, k := range []string{warm, "x", "new"} {
				assert.Contains(t, info, k)
			}
			_, unreg := reg.counts(cold)
			assert.Equal(t, 1, unreg)
		})
	}
}

// TestGroupOverflowAtTheLimitWithNothingEvictable checks that new keys
// share the overflow breaker, reported once, without growing the group,
// and get their own breakers again once an entry is evictable.
func TestGroupOverflowAtTheLimitWithNothingEvictable(t *testing.T) {
	log := captureDefaultLog(t)
	ctx := context.Background()
	reg := newRegistry()
	g := mustGroup(t, append([]breaker.Option{breaker.WithMaxKeys(2), breaker.WithHooks(reg.hooks())}, tripOnFirstFailure...)...)
	for _, k := range []string{"a", "b"} {
		_, _ = breaker.Execute(ctx, mustGet(t, g, k), failing)
		require.Equal(t, sdk.StateOpen, mustGet(t, g, k).State())
	}
	over := mustGet(t, g, "c")
	assert.Equal(t, breaker.OverflowKey, over.Key())
	assert.Equal(t, "hosts", over.Name())
	for range 100 {
		assert.Same(t, over, mustGet(t, g, "d"), "every new key shares it")
	}
	assert.Equal(t, 2, g.Len(), "never past the limit")
	live, _ := reg.counts(breaker.OverflowKey)
	assert.Equal(t, 1, live, "registered once")
	assert.Equal(t, 1, strings.Count(log.String(), "overflow breaker"), "logged once")
	assert.Contains(t, g.Info(), breaker.OverflowKey)

	// A command for a key without a breaker of its own must not act on
	// the shared one.
	err := g.ForceOpen(ctx, "c")
	require.ErrorIs(t, err, breaker.ErrGroupFull)
	assert.Contains(t, err.Error(), `group "hosts", 2 keys; key "c"`)
	assert.Equal(t, sdk.StateClosed, over.State())

	require.NoError(t, g.Reset(ctx, "a"))
	c := mustGet(t, g, "c")
	assert.Equal(t, "c", c.Key(), "a, reset, made room")
	assert.Equal(t, sdk.StateOpen, mustGet(t, g, "b").State())
	_, unreg := reg.counts("a")
	assert.Equal(t, 1, unreg)

	g.Close()
	live, unreg = reg.counts(breaker.OverflowKey)
	assert.Equal(t, 0, live)
	assert.Equal(t, 1, unreg, "Close closes the overflow breaker too")
}

func TestGroupKeyOptions(t *testing.T) {
	log := captureDefaultLog(t)
	ctx := context.Background()
	g := mustGroup(t, breaker.WithKeyOptions(func(key string) []breaker.Option {
		switch key {
		case "strict":
			return tripOnFirstFailure
		case "boom":
			panic("kaboom")
		case "invalid":
			return []breaker.Option{breaker.WithMaxHalfOpenCalls(0), breaker.WithWindow(breaker.CountWindow(-1))}
		case "group-option":
			return []breaker.Option{breaker.WithMaxKeys(3)}
		}
		return nil
	}))
	strict, lenient := mustGet(t, g, "strict"), mustGet(t, g, "lenient")
	_, _ = breaker.Execute(ctx, strict, failing)
	_, _ = breaker.Execute(ctx, lenient, failing)
	assert.Equal(t, sdk.StateOpen, strict.State())
	assert.Equal(t, sdk.StateClosed, lenient.State(), "the group's default tripper")

	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"boom", []string{`WithKeyOptions("boom"): func panicked: kaboom`}},
		{"invalid", []string{
			`WithKeyOptions("invalid"): WithMaxHalfOpenCalls(0): must be at least 1`,
			`WithKeyOptions("invalid"): CountWindow(-1): size must be greater than zero`,
		}},
		{"group-option", []string{`WithKeyOptions("group-option"): WithMaxKeys(3): an option of NewGroup only`}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			for range 2 { // nothing is stored: the func is asked again
				b, err := g.Get(tc.key)
				assert.Nil(t, b)
				var ce *breaker.ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "hosts", ce.Name)
				assert.Len(t, ce.Problems, len(tc.want))
				for _, w := range tc.want {
					assert.Contains(t, err.Error(), w)
				}
			}
		})
	}
	assert.Equal(t, 2, g.Len(), "the group keeps working")
	assert.Same(t, lenient, mustGet(t, g, "lenient"))
	assert.Equal(t, "other", mustGet(t, g, "other").Key())
	assert.Empty(t, log.String(), "a panicking key func is reported to the caller, not logged")
}

// TestGroupHooksSeeTheKey checks that the group's name and the key reach
// every hook.
func TestGroupHooksSeeTheKey(t *testing.T) {
	ctx := context.Background()
	reg, rec, trs := newRegistry(), &callRecorder{}, &transitions{}
	g := mustGroup(t, append([]breaker.Option{breaker.WithHooks(reg.hooks(), rec.hooks(), trs.hooks())}, tripOnFirstFailure...)...)
	_, _ = breaker.Execute(ctx, mustGet(t, g, "db-1"), failing)
	_, _ = breaker.Execute(ctx, mustGet(t, g, "db-1"), double(1))
	_, err := breaker.Execute(ctx, mustGet(t, g, "db-2"), double(1))
	require.NoError(t, err)
	require.NoError(t, g.Reset(ctx, "db-1"))

	reg.mu.Lock()
	regs := append([]sdk.Registration(nil), reg.registered...)
	reg.mu.Unlock()
	require.Len(t, regs, 2)
	for i, k := range []string{"db-1", "db-2"} {
		assert.Equal(t, "hosts", regs[i].Name)
		assert.Equal(t, k, regs[i].Key)
	}
	rec.mu.Lock()
	starts := append([]sdk.CallStart(nil), rec.starts...)
	rec.mu.Unlock()
	ends := rec.endList()
	require.Len(t, starts, 3)
	require.Len(t, ends, 3)
	for i, k := range []string{"db-1", "db-1", "db-2"} {
		assert.Equal(t, "hosts", starts[i].Name)
		assert.Equal(t, k, starts[i].Key)
		assert.Equal(t, "hosts", ends[i].Name)
		assert.Equal(t, k, ends[i].Key)
	}
	assert.Equal(t, sdk.OutcomeRejected, ends[1].Outcome)
	tl := trs.list()
	require.Len(t, tl, 2)
	for _, tr := range tl {
		assert.Equal(t, "hosts", tr.Name)
		assert.Equal(t, "db-1", tr.Key)
	}
	assert.Equal(t, []string{"closed->open", "open->closed"}, trs.pairs())
}

func TestGroupCommandsAndInfo(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry()
	g := mustGroup(t, breaker.WithHooks(reg.hooks()))
	for _, k := range []string{"a", "b", "c"} {
		mustGet(t, g, k)
	}
	states := func() map[string]sdk.State {
		m := map[string]sdk.State{}
		for k, info := range g.Info() {
			assert.Equal(t, "hosts", info.Name)
			m[k] = info.State
		}
		return m
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want map[string]sdk.State
	}{
		{"force open one", func() error { return g.ForceOpen(ctx, "a") },
			map[string]sdk.State{"a": sdk.StateForcedOpen, "b": sdk.StateClosed, "c": sdk.StateClosed}},
		{"metrics only one", func() error { return g.MetricsOnly(ctx, "b") },
			map[string]sdk.State{"a": sdk.StateForcedOpen, "b": sdk.StateMetricsOnly, "c": sdk.StateClosed}},
		{"disable one", func() error { return g.Disable(ctx, "c") },
			map[string]sdk.State{"a": sdk.StateForcedOpen, "b": sdk.StateMetricsOnly, "c": sdk.StateDisabled}},
		{"reset one", func() error { return g.Reset(ctx, "a") },
			map[string]sdk.State{"a": sdk.StateClosed, "b": sdk.StateMetricsOnly, "c": sdk.StateDisabled}},
		{"a command builds a missing key", func() error { return g.ForceOpen(ctx, "d") },
			map[string]sdk.State{"a": sdk.StateClosed, "b": sdk.StateMetricsOnly, "c": sdk.StateDisabled, "d": sdk.StateForcedOpen}},
		{"force open all", func() error { g.ForceOpenAll(ctx); return nil },
			map[string]sdk.State{"a": sdk.StateForcedOpen, "b": sdk.StateForcedOpen, "c": sdk.StateForcedOpen, "d": sdk.StateForcedOpen}},
		{"metrics only all", func() error { g.MetricsOnlyAll(ctx); return nil },
			map[string]sdk.State{"a": sdk.StateMetricsOnly, "b": sdk.StateMetricsOnly, "c": sdk.StateMetricsOnly, "d": sdk.StateMetricsOnly}},
		{"disable all", func() error { g.DisableAll(ctx); return nil },
			map[string]sdk.State{"a": sdk.StateDisabled, "b": sdk.StateDisabled, "c": sdk.StateDisabled, "d": sdk.StateDisabled}},
		{"reset all", func() error { g.ResetAll(ctx); return nil },
			map[string]sdk.State{"a": sdk.StateClosed, "b": sdk.StateClosed, "c": sdk.StateClosed, "d": sdk.StateClosed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.do())
			assert.Equal(t, tc.want, states())
		})
	}
	assert.Equal(t, 4, g.Len())
	g.Close()
	for _, k := range []string{"a", "b", "c", "d"} {
		live, unreg := reg.counts(k)
		assert.Equal(t, 0, live, k)
		assert.Equal(t, 1, unreg, k)
	}
	assert.Empty(t, g.Info())
	g.ResetAll(ctx) // nothing left: no panic
}

// TestGroupMemoryReturnsToFloor builds 100,000 keys, uses them, lets them
// go idle, and checks that eviction gives their memory back: the live heap
// returns to the group's floor, the heap of the empty group.
func TestGroupMemoryReturnsToFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 breakers")
	}
	const n = 100_000
	ctx := context.Background()
	keys := benchKeys(n)
	synctest.Test(t, func(t *testing.T) {
		g, err := breaker.NewGroup("hosts", breaker.WithMaxKeys(n), breaker.WithIdleTimeout(time.Minute))
		require.NoError(t, err)
		floor := liveHeap()
		for _, k := range keys {
			b := mustGet(t, g, k)
			require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
		}
		require.Equal(t, n, g.Len())
		full := liveHeap()
		require.Greater(t, full, floor+n*256, "the keys took memory")

		time.Sleep(2 * time.Minute)
		assert.Equal(t, n, g.EvictIdle())
		assert.Zero(t, g.Len())
		after := liveHeap()
		t.Logf("floor %d B, %d keys %d B (%d B/key), after eviction %d B", floor, n, full, (full-floor)/n, after)
		assert.LessOrEqual(t, after, floor+64<<10, "back to the floor (within 64 KiB)")
		runtime.KeepAlive(g)
		runtime.KeepAlive(keys)
	})
}

// TestGroupProtectsTenThousandHosts is the client of issue's "done when":
// 10,000 hosts, every hundredth of them down. Each down host opens its own
// breaker and no other; when 10,000 more hosts arrive, the group stays at
// its limit, healthy idle hosts make room, and no open breaker is evicted.
func TestGroupProtectsTenThousandHosts(t *testing.T) {
	const n = 10000
	ctx := context.Background()
	g := mustGroup(t, append([]breaker.Option{breaker.WithMaxKeys(n)}, tripOnFirstFailure...)...)
	hosts := benchKeys(2 * n)
	down := func(i int) bool { return i < n && i%100 == 0 }
	fetch := func(i int) error {
		b := mustGet(t, g, hosts[i])
		return b.Do(ctx, func(context.Context) error {
			if down(i) {
				return errFail
			}
			return nil
		})
	}
	for round := range 2 {
		for i := range n {
			err := fetch(i)
			switch {
			case !down(i):
				require.NoError(t, err, hosts[i])
			case round == 0:
				require.ErrorIs(t, err, errFail)
			default:
				requireRejected(t, err, sdk.StateOpen)
			}
		}
	}
	require.Equal(t, n, g.Len())
	heapFull := liveHeap()

	for i := n; i < 2*n; i++ {
		require.NoError(t, fetch(i))
		require.LessOrEqual(t, g.Len(), n)
	}
	assert.Equal(t, n, g.Len())
	info := g.Info()
	downHosts := map[string]bool{}
	for i := 0; i < n; i += 100 {
		downHosts[hosts[i]] = true
		require.Equal(t, sdk.StateOpen, info[hosts[i]].State, "down host %s kept", hosts[i])
	}
	for k, in := range info {
		if in.State != sdk.StateClosed {
			assert.True(t, downHosts[k], "%s is %s", k, in.State)
		}
	}
	assert.NotContains(t, info, breaker.OverflowKey, "healthy idle hosts made room")
	assert.Less(t, liveHeap(), heapFull+heapFull/10, "bounded memory")
}
