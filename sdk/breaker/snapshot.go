package breaker

import (
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// windowSnapshot is the breaker's [sdk.Registration.Window]: what its window
// holds now, for gauges read at collection time. It takes the lock briefly
// and allocates only for the slow counts of SlowRate thresholds.
func (b *Breaker) windowSnapshot() sdk.WindowSnapshot {
	var now time.Time
	if b.timedWindow.Load() {
		now = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now = b.nowLocked(now)
	m := b.win.metric(now)
	w := sdk.WindowSnapshot{Calls: m.TotalCount, Failures: m.FailureCount, ConsecutiveFailures: max(b.streak, 0)}
	if len(m.thresholds) > 0 {
		w.Slow = make([]sdk.SlowCount, len(m.thresholds))
		for i, th := range m.thresholds {
			w.Slow[i] = sdk.SlowCount{Threshold: th}
			if i < len(m.slow) {
				w.Slow[i].Calls = m.slow[i]
			}
		}
	}
	return w
}
