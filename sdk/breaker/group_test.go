package breaker_test

import (
	"context"
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
		time.Sleep(59 * time.Second)
		assert.Zero(t, g.EvictIdle(), "idle for less than the idle time")
		time.Sleep(2 * time.Second)
		assert.Equal(t, 1, g.EvictIdle())
		assert.Zero(t, g.Len())
		live, unreg := reg.counts("a")
		assert.Equal(t, 0, live)
		assert.Equal(t, 1, unreg)
		a2 := mustGet(t, g, "a")
		assert.NotSame(t, a, a2, "a fresh breaker after eviction")
	})
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
