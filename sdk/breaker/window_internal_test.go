package breaker

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	for _, w := range []window{newCountWindow(5, th), newTimeWindow(60, th)} {
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
	w := newTimeWindow(60, nil)
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
	w := newTimeWindow(3, th)
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
	w := newTimeWindow(5, nil)
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
	w := newTimeWindow(60, th)
	w.add(record{ok: true, dur: ms(1500), slow: 1}, sec(1))
	w.add(record{ok: true, dur: ms(100)}, sec(2))
	w.add(record{ok: true, dur: ms(2000), slow: 1}, sec(3))
	assert.Equal(t, map[time.Duration]int{time.Second: 2}, w.metric(sec(3)).SlowCounts())
}

// Deliberate difference from fluxgate: stale buckets expire on read.
func TestTimeWindowExpiresOnRead(t *testing.T) {
	w := newTimeWindow(3, nil)
	w.add(record{ok: false}, sec(1000))
	assert.Equal(t, 1, w.metric(sec(1002)).TotalCount, "still inside the window")
	assert.Equal(t, 0, w.metric(sec(1003)).TotalCount, "expired without a new record")
	w.add(record{ok: true}, sec(1010))
	m := w.metric(sec(1010))
	assert.Equal(t, 1, m.TotalCount, "fluxgate reports 2 here")
	assert.Equal(t, 0, m.FailureCount)
}

func TestTimeWindowPartialExpiry(t *testing.T) {
	w := newTimeWindow(4, nil)
	for s := 10; s < 14; s++ {
		w.add(record{ok: s%2 == 0, dur: time.Duration(s)}, sec(s))
	}
	assert.Equal(t, 4, w.metric(sec(13)).TotalCount)
	m := w.metric(sec(15))
	assert.Equal(t, 2, m.TotalCount, "seconds 12 and 13 remain")
	assert.Equal(t, time.Duration(25), m.TotalDuration)
	assert.Equal(t, 1, m.FailureCount)
}

func TestTimeWindowOldAndLateRecords(t *testing.T) {
	w := newTimeWindow(2, nil)
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
	w.add(record{ok: false}, t0)
	assert.Nil(t, w.s.durs)
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

// fluxgate keys TimeWindow buckets by Unix second (int(time.time())), not
// by seconds since the breaker was built: a breaker built half-way through
// a second counts like one built at its start.
func TestTimeWindowKeysBucketsByUnixSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(500 * time.Millisecond) // the bubble starts on a whole second
		b, err := New("unix", WithWindow(TimeWindow(time.Second)))
		require.NoError(t, err)
		ok := func(context.Context) error { return nil }
		time.Sleep(400 * time.Millisecond) // x.9
		require.NoError(t, b.Do(context.Background(), ok))
		time.Sleep(200 * time.Millisecond) // (x+1).1: a new Unix second
		require.NoError(t, b.Do(context.Background(), ok))
		assert.Equal(t, 1, b.Info().Metric.TotalCount, "the call of the previous Unix second has left a 1s window")
	})
}

// A window's storage is built by its first record: an unused window costs
// its header only, however large, and reading or resetting it builds
// nothing.
func TestUnusedWindowAllocatesOnlyItsHeader(t *testing.T) {
	th := []time.Duration{time.Second, 2 * time.Second}
	for _, desc := range []Window{CountWindow(maxWindowSize), TimeWindow(maxWindowSize * time.Second)} {
		for _, durations := range []bool{false, true} {
			var w window
			allocs := testing.AllocsPerRun(10, func() { w = desc.newWindow(th, t0, durations) })
			assert.Equal(t, 1.0, allocs, "%s: the header only", desc)
			allocs = testing.AllocsPerRun(10, func() {
				_ = w.metric(t0)
				w.reset()
			})
			assert.Zero(t, allocs, "%s: reading and resetting build nothing", desc)
			m := w.metric(t0)
			assert.Zero(t, m.TotalCount)
			assert.Zero(t, m.SlowCount(time.Second))
			assert.Empty(t, m.SlowCounts())
		}
	}
	assert.LessOrEqual(t, unsafe.Sizeof(countWindow{}), uintptr(48), "a count window's header")
	assert.LessOrEqual(t, unsafe.Sizeof(timeWindow{}), uintptr(48), "a time window's header")
}

// Once built, recording and reading allocate nothing.
func TestBuiltWindowsAllocateNothing(t *testing.T) {
	th := []time.Duration{time.Second}
	cw, tw := newCountWindow(100, th), newTimeWindow(60, th)
	now := sec(1)
	cw.add(record{ok: true}, now)
	tw.add(record{ok: true}, now)
	var m Metric
	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(300 * time.Millisecond)
		cw.add(record{ok: false, slow: 1, dur: ms(5)}, now)
		cw.load(&m)
		tw.add(record{ok: false, slow: 1, dur: ms(5)}, now)
		tw.load(&m, now)
		cw.reset()
		tw.reset()
	})
	assert.Zero(t, allocs)
}

// A reset does not visit the buckets: it touches at most the head bucket,
// so a transition costs the same with TimeWindow(2^20 s) as with
// TimeWindow(1s) (see the benchmarks). The buckets it leaves behind are
// dead: they never count again and never leave the sum twice.
func TestTimeWindowResetIsLazy(t *testing.T) {
	const size = 1000
	w := newTimeWindow(size, []time.Duration{time.Second})
	for s := range size {
		w.add(record{ok: s%2 == 0, dur: ms(s), slow: uint8(s % 2)}, sec(s))
	}
	require.Equal(t, size, w.metric(sec(size-1)).TotalCount)
	before := append([]bucket(nil), w.s.buckets...)
	w.reset()
	changed := 0
	for i := range before {
		if w.s.buckets[i] != before[i] {
			changed++
		}
	}
	assert.LessOrEqual(t, changed, 1, "only the head bucket is cleared")
	// The dead buckets stay out, through expiry and reuse.
	w.add(record{ok: false}, sec(size-1)) // the head second, again
	w.add(record{ok: true}, sec(size-2))  // late: joins the head second
	for s := size - 1; s < 3*size; s += 7 {
		m := w.metric(sec(s))
		want := 0
		if s < 2*size-1 {
			want = 2
		}
		require.Equal(t, want, m.TotalCount, "at second %d", s)
		require.Equal(t, want/2, m.FailureCount, "at second %d", s)
		require.Zero(t, m.SlowCount(time.Second), "at second %d", s)
		require.Zero(t, m.TotalDuration, "at second %d", s)
	}
	w.add(record{ok: true, dur: ms(3)}, sec(3*size))
	m := w.metric(sec(3 * size))
	assert.Equal(t, 1, m.TotalCount)
	assert.Equal(t, ms(3), m.TotalDuration)
}

// Resets in a row, between records of the same second, each empty the
// window.
func TestTimeWindowRepeatedResets(t *testing.T) {
	w := newTimeWindow(5, nil)
	for i := range 4 {
		w.add(record{ok: false, dur: ms(i)}, sec(10))
		assert.Equal(t, 1, w.metric(sec(10)).TotalCount, "round %d", i)
		w.reset()
		w.reset()
		assert.Zero(t, w.metric(sec(10)).TotalCount, "round %d", i)
	}
	w.add(record{ok: true}, sec(12))
	assert.Equal(t, 1, w.metric(sec(14)).TotalCount)
	assert.Zero(t, w.metric(sec(17)).TotalCount)
}

// The wall clock may step: back, and records join the newest second seen
// until the clock catches up; forward by more than the size, and the window
// is empty.
func TestTimeWindowWallClockSteps(t *testing.T) {
	w := newTimeWindow(3, nil)
	w.add(record{ok: false}, sec(100))
	w.add(record{ok: false}, sec(40)) // stepped back a minute: joins second 100
	assert.Equal(t, 2, w.metric(sec(41)).TotalCount)
	assert.Equal(t, 2, w.metric(sec(102)).TotalCount)
	assert.Zero(t, w.metric(sec(103)).TotalCount)
	w.add(record{ok: true}, sec(103))
	assert.Equal(t, 1, w.metric(sec(103)).TotalCount)
	assert.Zero(t, w.metric(sec(1000)).TotalCount, "stepped forward")
}
