package breaker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Ports of fluxgate's tests/test_windows.py and tests/test_metric.py.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestCountWindowRecords(t *testing.T) {
	w := newCountWindow(5, nil)
	w.add(record{ok: true, dur: ms(500)}, t0)
	w.add(record{ok: false, dur: ms(1000)}, t0)
	w.add(record{ok: true, dur: ms(300)}, t0)
	m := w.metric(t0)
	assert.Equal(t, 3, m.TotalCount)
	assert.Equal(t, 1, m.FailureCount)
	assert.Equal(t, ms(1800), m.TotalDuration)
}

func TestCountWindowEvictsFIFO(t *testing.T) {
	w := newCountWindow(3, nil)
	w.add(record{ok: false, dur: ms(1000)}, t0)
	w.add(record{ok: true, dur: ms(500)}, t0)
	w.add(record{ok: true, dur: ms(300)}, t0)
	w.add(record{ok: true, dur: ms(200)}, t0)
	m := w.metric(t0)
	assert.Equal(t, 3, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Equal(t, ms(1000), m.TotalDuration, "exact: no float drift")
}

func TestCountWindowSlowCountsDecayOnEviction(t *testing.T) {
	th := []time.Duration{time.Second}
	w := newCountWindow(3, th)
	w.add(record{ok: true, slow: 1}, t0)
	w.add(record{ok: true}, t0)
	w.add(record{ok: true, slow: 1}, t0)
	assert.Equal(t, 2, w.metric(t0).SlowCount(time.Second))
	w.add(record{ok: true}, t0)
	assert.Equal(t, 1, w.metric(t0).SlowCount(time.Second))
}

func TestCountWindowSeveralThresholds(t *testing.T) {
	th := []time.Duration{time.Second, 3 * time.Second}
	w := newCountWindow(10, th)
	w.add(record{ok: true}, t0)
	w.add(record{ok: true, slow: 1}, t0)
	w.add(record{ok: true, slow: 2}, t0)
	assert.Equal(t, map[time.Duration]int{time.Second: 2, 3 * time.Second: 1}, w.metric(t0).SlowCounts())
}

func TestWindowsReset(t *testing.T) {
	th := []time.Duration{time.Second}
	for _, w := range []window{newCountWindow(5, th), newTimeWindow(60, th, t0)} {
		w.add(record{ok: false, dur: ms(10), slow: 1}, sec(1))
		w.reset()
		m := w.metric(sec(1))
		assert.Equal(t, 0, m.TotalCount)
		assert.Equal(t, 0, m.FailureCount)
		assert.Zero(t, m.TotalDuration)
		assert.Empty(t, m.SlowCounts())
	}
}

func TestCountWindowOfOneKeepsTheLatest(t *testing.T) {
	w := newCountWindow(1, nil)
	w.add(record{ok: false}, t0)
	w.add(record{ok: true, dur: ms(7)}, t0)
	m := w.metric(t0)
	assert.Equal(t, 1, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Equal(t, ms(7), m.TotalDuration)
}

func TestTimeWindowSameSecond(t *testing.T) {
	w := newTimeWindow(60, nil, t0)
	w.add(record{ok: true, dur: ms(100)}, sec(5))
	w.add(record{ok: false, dur: ms(200)}, sec(5))
	w.add(record{ok: true, dur: ms(300)}, sec(5))
	m := w.metric(sec(5))
	assert.Equal(t, 3, m.TotalCount)
	assert.Equal(t, 1, m.FailureCount)
	assert.Equal(t, ms(600), m.TotalDuration)
}

func TestTimeWindowWraparound(t *testing.T) {
	th := []time.Duration{time.Second}
	w := newTimeWindow(3, th, t0)
	base := 100
	w.add(record{ok: false, dur: ms(100)}, sec(base))
	w.add(record{ok: true, dur: ms(300)}, sec(base+1))
	w.add(record{ok: true, dur: ms(500)}, sec(base+2))
	w.add(record{ok: true, dur: ms(2000), slow: 1}, sec(base+3))
	m := w.metric(sec(base + 3))
	assert.Equal(t, 3, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Equal(t, map[time.Duration]int{time.Second: 1}, m.SlowCounts())
	assert.Equal(t, ms(2800), m.TotalDuration)
}

func TestTimeWindowBucketReuse(t *testing.T) {
	w := newTimeWindow(5, nil, t0)
	base := 1000
	w.add(record{ok: true, dur: ms(100)}, sec(base))
	w.add(record{ok: true, dur: ms(100)}, sec(base))
	w.add(record{ok: false}, sec(base+5))
	m := w.metric(sec(base + 5))
	assert.Equal(t, 1, m.TotalCount)
	assert.Equal(t, 1, m.FailureCount)
	w.add(record{ok: true, dur: ms(400)}, sec(base+10))
	w.add(record{ok: true, dur: ms(400)}, sec(base+10))
	m = w.metric(sec(base + 10))
	assert.Equal(t, 2, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Equal(t, ms(800), m.TotalDuration)
}

func TestTimeWindowSlowTracking(t *testing.T) {
	th := []time.Duration{time.Second}
	w := newTimeWindow(60, th, t0)
	w.add(record{ok: true, dur: ms(1500), slow: 1}, sec(1))
	w.add(record{ok: true, dur: ms(100)}, sec(2))
	w.add(record{ok: true, dur: ms(2000), slow: 1}, sec(3))
	assert.Equal(t, map[time.Duration]int{time.Second: 2}, w.metric(sec(3)).SlowCounts())
}

// Deliberate difference from fluxgate: stale buckets expire on read.
func TestTimeWindowExpiresOnRead(t *testing.T) {
	w := newTimeWindow(3, nil, t0)
	w.add(record{ok: false}, sec(1000))
	assert.Equal(t, 1, w.metric(sec(1002)).TotalCount, "still inside the window")
	assert.Equal(t, 0, w.metric(sec(1003)).TotalCount, "expired without a new record")
	w.add(record{ok: true}, sec(1010))
	m := w.metric(sec(1010))
	assert.Equal(t, 1, m.TotalCount, "fluxgate reports 2 here")
	assert.Equal(t, 0, m.FailureCount)
}

func TestTimeWindowPartialExpiry(t *testing.T) {
	w := newTimeWindow(4, nil, t0)
	for s := 10; s < 14; s++ {
		w.add(record{ok: s%2 == 0, dur: time.Duration(s)}, sec(s))
	}
	assert.Equal(t, 4, w.metric(sec(13)).TotalCount)
	m := w.metric(sec(15))
	assert.Equal(t, 2, m.TotalCount, "seconds 12 and 13 remain")
	assert.Equal(t, time.Duration(25), m.TotalDuration)
	assert.Equal(t, 1, m.FailureCount)
}

func TestTimeWindowRecordBeforeEpochAndLateRecords(t *testing.T) {
	w := newTimeWindow(2, nil, t0)
	w.add(record{ok: true}, t0.Add(-time.Hour))
	w.add(record{ok: true}, sec(5))
	w.add(record{ok: true}, sec(4)) // late: joins the newest second
	assert.Equal(t, 2, w.metric(sec(5)).TotalCount)
	assert.Equal(t, 2, w.metric(sec(6)).TotalCount)
	assert.Equal(t, 0, w.metric(sec(7)).TotalCount)
}

func metricOf(total, failures int, dur time.Duration, slow map[time.Duration]int) Metric {
	m := Metric{TotalCount: total, FailureCount: failures, TotalDuration: dur}
	for th := range slow {
		m.thresholds = append(m.thresholds, th)
	}
	m.thresholds = sortedUnique(m.thresholds)
	for _, th := range m.thresholds {
		m.slow = append(m.slow, slow[th])
	}
	return m
}

func TestMetricRates(t *testing.T) {
	m := metricOf(100, 20, 50*time.Second, map[time.Duration]int{time.Second: 10, 5 * time.Second: 2})
	avg, ok := m.AvgDuration()
	assert.True(t, ok)
	assert.Equal(t, 500*time.Millisecond, avg)
	fr, ok := m.FailureRate()
	assert.True(t, ok)
	assert.InDelta(t, 0.2, fr, 1e-12)
	sr, _ := m.SlowRate(time.Second)
	assert.InDelta(t, 0.1, sr, 1e-12)
	sr, _ = m.SlowRate(5 * time.Second)
	assert.InDelta(t, 0.02, sr, 1e-12)
	sr, ok = m.SlowRate(7 * time.Second)
	assert.True(t, ok)
	assert.Zero(t, sr, "a threshold never recorded gives 0, not 'no value'")
	assert.Equal(t, "calls=100 failures=20 duration=50s slow(1s)=10 slow(5s)=2", m.String())
}

func TestMetricEmpty(t *testing.T) {
	var m Metric
	_, ok := m.AvgDuration()
	assert.False(t, ok)
	_, ok = m.FailureRate()
	assert.False(t, ok)
	_, ok = m.SlowRate(time.Second)
	assert.False(t, ok)
	assert.Empty(t, m.SlowCounts())
}

func TestMetricEdgeCases(t *testing.T) {
	fr, _ := metricOf(10, 0, 0, nil).FailureRate()
	assert.Zero(t, fr)
	m := metricOf(10, 10, 0, map[time.Duration]int{time.Second: 10})
	fr, _ = m.FailureRate()
	assert.Equal(t, 1.0, fr)
	sr, _ := m.SlowRate(time.Second)
	assert.Equal(t, 1.0, sr)
}

func TestMetricCloneIsIndependent(t *testing.T) {
	w := newCountWindow(4, []time.Duration{time.Second})
	w.add(record{ok: true, slow: 1}, t0)
	snap := w.metric(t0).clone()
	w.add(record{ok: true, slow: 1}, t0)
	assert.Equal(t, 1, snap.SlowCount(time.Second))
	assert.Equal(t, 2, w.metric(t0).SlowCount(time.Second))
}

// A breaker that measures no durations keeps only a mark per call; its
// sums stay consistent through eviction.
func TestCountWindowWithoutDurations(t *testing.T) {
	th := []time.Duration{time.Second}
	w := makeCountWindow(2, th, false)
	assert.Nil(t, w.durs)
	w.add(record{ok: false}, t0)
	w.add(record{ok: true, slow: 1, dur: ms(5)}, t0) // duration dropped
	w.add(record{ok: true}, t0)                      // evicts the failure
	m := w.metric(t0)
	assert.Equal(t, 2, m.TotalCount)
	assert.Equal(t, 0, m.FailureCount)
	assert.Zero(t, m.TotalDuration)
	assert.Equal(t, 1, m.SlowCount(time.Second))
	w.add(record{ok: false}, t0) // evicts the slow success
	m = w.metric(t0)
	assert.Equal(t, 1, m.FailureCount)
	assert.Zero(t, m.SlowCount(time.Second))
	assert.Zero(t, m.TotalDuration)
}
