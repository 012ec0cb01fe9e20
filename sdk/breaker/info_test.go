package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestInfoRetryAt: Info tells a status page when an open breaker lets its
// next probe through, and nothing in the other states.
func TestInfoRetryAt(t *testing.T) {
	tests := []struct {
		name  string
		retry breaker.Retry
		want  time.Duration // after the opening; 0: zero time
	}{
		{"cooldown", breaker.Cooldown(10*time.Second, 0), 10 * time.Second},
		{"backoff", breaker.Backoff(3*time.Second, 2, time.Minute, 0), 3 * time.Second},
		{"never", breaker.Never(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(tt.retry))
				assert.Zero(t, b.Info().RetryAt, "closed")
				_, _ = call(b, failing)
				info := b.Info()
				require.Equal(t, sdk.StateOpen, info.State)
				if tt.want == 0 {
					assert.Zero(t, info.RetryAt)
				} else {
					assert.Equal(t, info.ChangedAt.Add(tt.want), info.RetryAt)
				}
				time.Sleep(time.Second)
				assert.Equal(t, info.RetryAt, b.Info().RetryAt, "fixed for the open period")
				b.ForceOpen(context.Background())
				assert.Zero(t, b.Info().RetryAt, "forced open")
			})
		})
	}
}
