package breakerstatus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestHooksAllocateNothingOnTheHotPath: a breaker on a status page still
// allocates nothing for a closed-state success or a refusal while open.
func TestHooksAllocateNothingOnTheHotPath(t *testing.T) {
	reg, err := breakerstatus.NewRegistry()
	require.NoError(t, err)
	b, err := breaker.New("hot", breaker.WithHooks(reg.Hooks()), breaker.WithTripper(breaker.FailureStreak(1)))
	require.NoError(t, err)
	require.NoError(t, reg.Add(b))
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) }), "closed-state success")
	fail(b)
	require.Equal(t, sdk.StateOpen, b.State())
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) }), "refusal while open")
}
