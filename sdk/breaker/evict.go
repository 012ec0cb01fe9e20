package breaker

import (
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// evictable reports whether a Group may drop b without losing protection:
// b is closed or disabled, has no call in flight (counted only for breakers
// built with countInFlight) and, unless anyWindow (the key has been idle
// long enough, see Group), its window holds no counted failure.
func (b *Breaker) evictable(anyWindow bool) bool {
	switch b.state() {
	case sdk.StateClosed, sdk.StateDisabled:
	default:
		return false
	}
	if b.inFlight.Load() != 0 {
		return false
	}
	if anyWindow {
		st := b.state()
		return st == sdk.StateClosed || st == sdk.StateDisabled
	}
	var now time.Time
	if b.timedWindow.Load() {
		now = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now = b.nowLocked(now)
	st := b.state()
	if st != sdk.StateClosed && st != sdk.StateDisabled {
		return false
	}
	return b.win.metric(now).FailureCount == 0
}
