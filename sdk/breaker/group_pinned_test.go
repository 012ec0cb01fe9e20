package breaker_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// An attacker who chooses keys fills a full group with 10,000 keys, each
// with one counted failure in its CountWindow. Legitimate keys share the
// overflow breaker at first; once the attacker's keys have gone two idle
// times without a Get (the documented bound), they are evictable and
// legitimate keys get breakers of their own.
func TestGroupAttackerPinnedKeysAgeOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		idle time.Duration
		wait time.Duration
	}{
		{"idle timeout", breaker.DefaultIdleTimeout, 2 * breaker.DefaultIdleTimeout},
		{"idle eviction off", 0, breaker.DefaultIdleTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, err := breaker.NewGroup("attacked", breaker.WithMaxKeys(10000), breaker.WithIdleTimeout(tc.idle))
				require.NoError(t, err)
				defer g.Close()
				ctx := context.Background()
				for i := range 10000 {
					b, err := g.Get(fmt.Sprintf("attacker-%d", i))
					require.NoError(t, err)
					_, _ = call(b, failing)
					require.Equal(t, sdk.StateClosed, b.State())
				}
				b, err := g.Get("legit-0")
				require.NoError(t, err)
				require.Equal(t, breaker.OverflowKey, b.Key(), "the group is full of keys with a failure")

				time.Sleep(tc.wait)
				own := 0
				for i := range 1000 {
					b, err := g.Get(fmt.Sprintf("legit-%d", i))
					require.NoError(t, err)
					if b.Key() != breaker.OverflowKey {
						own++
					}
					require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
				}
				assert.Equal(t, 1000, own, "legitimate keys get breakers of their own")
			})
		})
	}
}

// Open, half-open, forced-open and metrics-only keys are never evicted,
// however long they stay idle; a closed key with a failure goes once idle.
func TestGroupIdleFailingKeyEvictedButProtectingKeysKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, err := breaker.NewGroup("g", breaker.WithMaxKeys(5), breaker.WithIdleTimeout(time.Minute),
			breaker.WithTripper(breaker.FailureStreak(2)), breaker.WithRetry(breaker.Never()), breaker.WithPermit(breaker.All()))
		require.NoError(t, err)
		defer g.Close()
		ctx := context.Background()
		get := func(key string) *breaker.Breaker {
			b, err := g.Get(key)
			require.NoError(t, err)
			return b
		}
		_, _ = call(get("failing"), failing)
		open := get("open")
		tripOpen(t, open, 2)
		get("forced").ForceOpen(ctx)
		get("metrics").MetricsOnly(ctx)
		half, err := breaker.NewGroup("h", breaker.WithMaxKeys(1), breaker.WithIdleTimeout(time.Minute),
			breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()))
		require.NoError(t, err)
		defer half.Close()
		hb, err := half.Get("half")
		require.NoError(t, err)
		tripOpen(t, hb, 1)
		probe, err := hb.Allow(ctx)
		require.NoError(t, err)
		require.Equal(t, sdk.StateHalfOpen, hb.State())

		time.Sleep(time.Hour)
		g.EvictIdle()
		half.EvictIdle()
		time.Sleep(time.Hour)
		g.EvictIdle()
		half.EvictIdle()
		assert.ElementsMatch(t, []string{"open", "forced", "metrics"}, keys(g.Info()))
		assert.ElementsMatch(t, []string{"half"}, keys(half.Info()))
		probe.Done(nil)
	})
}

// A closed key whose window holds a counted failure keeps its breaker at
// the limit until it has gone the idle time without a Get.
func TestGroupFailingKeyKeptUntilIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, err := breaker.NewGroup("g", breaker.WithMaxKeys(1), breaker.WithIdleTimeout(time.Minute))
		require.NoError(t, err)
		defer g.Close()
		k, err := g.Get("k")
		require.NoError(t, err)
		_, _ = call(k, failing)
		time.Sleep(time.Minute - time.Nanosecond)
		other, err := g.Get("other")
		require.NoError(t, err)
		assert.Equal(t, breaker.OverflowKey, other.Key(), "k is not idle long enough")
		again, err := g.Get("k")
		require.NoError(t, err)
		assert.Same(t, k, again)
		// Sweeps, on Gets that build a breaker and on EvictIdle, see the
		// use; the idle time runs from there (one to two idle times after
		// the last Get, as for a key without failures).
		time.Sleep(30 * time.Second)
		g.EvictIdle()
		time.Sleep(time.Minute)
		other, err = g.Get("other")
		require.NoError(t, err)
		assert.Equal(t, "other", other.Key(), "k went the idle time without a Get")
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
