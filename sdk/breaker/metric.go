package breaker

import (
	"fmt"
	"strings"
	"time"
)

// Metric is a snapshot of a breaker's window: how many calls it recorded,
// how many of them failed, how long the successful ones took, and how many
// reached each SlowRate threshold.
//
// Failures are recorded with a zero duration and are never slow, as in
// fluxgate, unless the breaker was built with [WithFailureDurations](true);
// so AvgDuration is the sum of successful durations divided by all calls.
// A Tripper sees it in [CallContext]; [Breaker.Info] returns a copy.
type Metric struct {
	// TotalCount is the number of recorded calls.
	TotalCount int
	// FailureCount is the number of recorded calls whose error counted.
	FailureCount int
	// TotalDuration is the sum of the recorded durations.
	TotalDuration time.Duration

	thresholds []time.Duration // ascending; shared, read-only
	slow       []int           // slow[i] counts calls with duration >= thresholds[i]
}

// FailureRate returns FailureCount/TotalCount, and false when the window is
// empty.
func (m Metric) FailureRate() (float64, bool) {
	if m.TotalCount == 0 {
		return 0, false
	}
	return float64(m.FailureCount) / float64(m.TotalCount), true
}

// AvgDuration returns TotalDuration/TotalCount, and false when the window is
// empty.
func (m Metric) AvgDuration() (time.Duration, bool) {
	if m.TotalCount == 0 {
		return 0, false
	}
	return m.TotalDuration / time.Duration(m.TotalCount), true
}

// SlowCount returns how many recorded calls took at least threshold. Only
// thresholds of the breaker's [SlowRate] trippers are counted; any other
// threshold gives 0.
func (m Metric) SlowCount(threshold time.Duration) int {
	for i, t := range m.thresholds {
		if t == threshold {
			return m.slow[i]
		}
	}
	return 0
}

// SlowRate returns SlowCount(threshold)/TotalCount, and false when the
// window is empty. A threshold that was never recorded gives 0.
func (m Metric) SlowRate(threshold time.Duration) (float64, bool) {
	if m.TotalCount == 0 {
		return 0, false
	}
	return float64(m.SlowCount(threshold)) / float64(m.TotalCount), true
}

// SlowCounts returns the slow count of every threshold that has at least
// one slow call, as a new map.
func (m Metric) SlowCounts() map[time.Duration]int {
	out := make(map[time.Duration]int, len(m.slow))
	for i, c := range m.slow {
		if c != 0 {
			out[m.thresholds[i]] = c
		}
	}
	return out
}

// String formats the metric for logs and test failures.
func (m Metric) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d failures=%d duration=%s", m.TotalCount, m.FailureCount, m.TotalDuration)
	for i, c := range m.slow {
		if c != 0 {
			fmt.Fprintf(&b, " slow(%s)=%d", m.thresholds[i], c)
		}
	}
	return b.String()
}

// clone returns m with its own copy of the slow counts, for snapshots that
// outlive the breaker's lock.
func (m Metric) clone() Metric {
	if m.slow != nil {
		m.slow = append([]int(nil), m.slow...)
	}
	return m
}
