package breaker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// MaxOpenKeys reports the cap a group applies now: max(1, ⌊f × keys⌋),
// following the keys it holds and the last Reconfigure; no cap at 1.
func TestGroupMaxOpenKeys(t *testing.T) {
	for _, tc := range []struct {
		fraction float64 // 0: the default
		keys     int
		want     int
		capped   bool
	}{
		{fraction: 0, keys: 10, want: 0, capped: false},
		{fraction: 1, keys: 10, want: 0, capped: false},
		{fraction: 0.1, keys: 0, want: 1, capped: true},
		{fraction: 0.1, keys: 9, want: 1, capped: true},
		{fraction: 0.1, keys: 25, want: 2, capped: true},
		{fraction: 0.5, keys: 7, want: 3, capped: true},
		{fraction: 0.29, keys: 100, want: 29, capped: true},
	} {
		t.Run(fmt.Sprintf("%v×%d", tc.fraction, tc.keys), func(t *testing.T) {
			var opts []breaker.Option
			if tc.fraction > 0 {
				opts = append(opts, breaker.WithMaxOpenFraction(tc.fraction))
			}
			g, err := breaker.NewGroup("g", append(opts, breaker.WithMaxKeys(1000))...)
			require.NoError(t, err)
			defer g.Close()
			for i := range tc.keys {
				_, err := g.Get(fmt.Sprint("k", i))
				require.NoError(t, err)
			}
			n, capped := g.MaxOpenKeys()
			assert.Equal(t, tc.want, n)
			assert.Equal(t, tc.capped, capped)
			want := tc.fraction
			if want == 0 {
				want = breaker.DefaultMaxOpenFraction
			}
			assert.Equal(t, want, g.MaxOpenFraction())
		})
	}
}

func TestGroupMaxOpenKeysFollowsReconfigure(t *testing.T) {
	g, err := breaker.NewGroup("g")
	require.NoError(t, err)
	defer g.Close()
	for i := range 20 {
		_, _ = g.Get(fmt.Sprint("k", i))
	}
	_, capped := g.MaxOpenKeys()
	require.False(t, capped)
	require.NoError(t, g.Reconfigure(context.Background(), breaker.WithMaxOpenFraction(0.25)))
	n, capped := g.MaxOpenKeys()
	assert.True(t, capped)
	assert.Equal(t, 5, n)
	assert.Equal(t, 0.25, g.MaxOpenFraction())
	require.NoError(t, g.Reconfigure(context.Background(), breaker.WithMaxOpenFraction(1)))
	_, capped = g.MaxOpenKeys()
	assert.False(t, capped, "1 lifts the cap")
}
