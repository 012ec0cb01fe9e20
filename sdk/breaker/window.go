package breaker

import (
	"fmt"
	"time"
)

// Window says how much call history a breaker keeps: the last N calls
// (CountWindow) or the calls of the last N seconds (TimeWindow). Build one
// with CountWindow or TimeWindow; the zero Window is invalid.
//
// A Window is a description: every breaker built with it gets its own
// storage. Recording a call and reading the window's metric are O(1) and
// allocate nothing, whatever the size.
type Window struct {
	kind windowKind
	size int // calls for a count window, seconds for a time window
	desc string
	err  error
}

type windowKind uint8

const (
	windowUnset windowKind = iota
	windowCount
	windowTime
)

// maxWindowSize bounds CountWindow (calls) and TimeWindow (seconds): a
// window's storage is allocated when the breaker is built, and a size
// beyond this would make New fail with an unrecoverable out-of-memory
// error instead of reporting the size.
const maxWindowSize = 1 << 20

// CountWindow keeps the last size calls, evicting the oldest first. size
// must be at least 1 and at most 1048576. The breaker's default window is
// CountWindow(100).
func CountWindow(size int) Window {
	w := Window{kind: windowCount, size: size, desc: fmt.Sprintf("CountWindow(%d)", size)}
	switch {
	case size < 1:
		w.err = fmt.Errorf("%s: size must be greater than zero", w.desc)
	case size > maxWindowSize:
		w.err = fmt.Errorf("%s: size must be at most %d", w.desc, maxWindowSize)
	}
	return w
}

// TimeWindow keeps the calls of the last size, in one-second buckets. size
// must be a whole number of seconds, at least one second and at most
// 1048576 seconds (about 12 days).
//
// Unlike fluxgate, where an old bucket lingers until its slot is reused,
// buckets older than size are expired both when a call is recorded and when
// the window is read, so a burst of failures ages out even if no call
// follows it.
func TimeWindow(size time.Duration) Window {
	w := Window{kind: windowTime, size: int(size / time.Second), desc: fmt.Sprintf("TimeWindow(%s)", size)}
	switch {
	case size < time.Second:
		w.err = fmt.Errorf("%s: size must be at least one second", w.desc)
	case size%time.Second != 0:
		w.err = fmt.Errorf("%s: size must be a whole number of seconds", w.desc)
	case size > maxWindowSize*time.Second:
		w.err = fmt.Errorf("%s: size must be at most %d seconds", w.desc, maxWindowSize)
	}
	return w
}

// String describes the window, e.g. "CountWindow(100)".
func (w Window) String() string {
	if w.kind == windowUnset {
		return "Window(unset)"
	}
	return w.desc
}

func (w Window) validate() error {
	if w.kind == windowUnset {
		return fmt.Errorf("window is unset: use CountWindow or TimeWindow")
	}
	return w.err
}

// record is one call as a window stores it.
type record struct {
	dur  time.Duration
	ok   bool
	slow uint8 // number of thresholds reached; thresholds are ascending, so a prefix
}

// window is the storage behind a Window. The breaker serialises access to
// it under its lock.
type window interface {
	// add records r, which happened at now.
	add(r record, now time.Time)
	// metric returns the current metric as of now. The returned Metric
	// shares the window's slow counts: clone it to keep it.
	metric(now time.Time) Metric
	// reset empties the window.
	reset()
	// timed reports whether add and metric need the current time.
	timed() bool
}

// newWindow allocates the storage for w; thresholds are the breaker's
// SlowRate thresholds, ascending, and durations says whether the breaker
// measures call durations.
func (w Window) newWindow(thresholds []time.Duration, epoch time.Time, durations bool) window {
	switch w.kind {
	case windowTime:
		return newTimeWindow(w.size, thresholds, epoch)
	default:
		return makeCountWindow(w.size, thresholds, durations)
	}
}

// totals is the running sum of a window.
type totals struct {
	calls, failures int
	dur             time.Duration
	slow            []int
}

func (t *totals) add(r record, sign int) {
	t.calls += sign
	if !r.ok {
		t.failures += sign
	}
	t.dur += time.Duration(sign) * r.dur
	for i := range int(r.slow) {
		t.slow[i] += sign
	}
}

func (t *totals) clear() {
	t.calls, t.failures, t.dur = 0, 0, 0
	clear(t.slow)
}

func (t *totals) metric(thresholds []time.Duration) Metric {
	return Metric{TotalCount: t.calls, FailureCount: t.failures, TotalDuration: t.dur, thresholds: thresholds, slow: t.slow}
}

// load sets *m to the totals, in place: on the hot path this is cheaper
// than returning a Metric through several frames.
func (t *totals) load(m *Metric, thresholds []time.Duration) {
	m.TotalCount, m.FailureCount, m.TotalDuration = t.calls, t.failures, t.dur
	m.thresholds, m.slow = thresholds, t.slow
}

// countWindow is a ring buffer of the last len(marks) records plus their
// running totals. A record is stored as a mark (success bit and slow level)
// and, only when the breaker measures durations, a duration: an idle
// default breaker then keeps 2 bytes per call instead of 16.
type countWindow struct {
	marks      []uint16
	durs       []time.Duration // nil when the breaker never measures durations
	next, n    int
	sum        totals
	thresholds []time.Duration
}

// okMark is the bit of a mark that says the call succeeded; the low byte
// is its slow level.
const okMark = 1 << 8

func newCountWindow(size int, thresholds []time.Duration) *countWindow {
	return makeCountWindow(size, thresholds, true)
}

// makeCountWindow allocates a count window; without durations, every
// record's duration is taken as zero.
func makeCountWindow(size int, thresholds []time.Duration, durations bool) *countWindow {
	w := &countWindow{marks: make([]uint16, size), sum: totals{slow: make([]int, len(thresholds))}, thresholds: thresholds}
	if durations {
		w.durs = make([]time.Duration, size)
	}
	return w
}

// at returns the record stored at index i.
func (w *countWindow) at(i int) record {
	m := w.marks[i]
	r := record{ok: m&okMark != 0, slow: uint8(m)}
	if w.durs != nil {
		r.dur = w.durs[i]
	}
	return r
}

func (w *countWindow) add(r record, _ time.Time) {
	if w.n == len(w.marks) {
		w.sum.add(w.at(w.next), -1)
	} else {
		w.n++
	}
	m := uint16(r.slow)
	if r.ok {
		m |= okMark
	}
	w.marks[w.next] = m
	if w.durs != nil {
		w.durs[w.next] = r.dur
	} else {
		r.dur = 0
	}
	w.sum.add(r, 1)
	if w.next++; w.next == len(w.marks) {
		w.next = 0
	}
}

func (w *countWindow) metric(time.Time) Metric { return w.sum.metric(w.thresholds) }

// load is metric, written to *m.
func (w *countWindow) load(m *Metric) { w.sum.load(m, w.thresholds) }

func (w *countWindow) reset() {
	w.next, w.n = 0, 0
	w.sum.clear()
}

func (w *countWindow) timed() bool { return false }

// timeWindow keeps one bucket per second of its size. Bucket i holds the
// calls of the second s with s%size == i; head is the newest second the
// window has advanced to. A bucket belongs to the window only if its second
// is within (head-size, head]; the running sum covers exactly those.
type timeWindow struct {
	secs       []int64 // second held by each bucket
	calls      []int32
	failures   []int32
	durs       []time.Duration
	slow       []int32 // bucket i, threshold j at i*len(thresholds)+j
	head       int64
	sum        totals
	thresholds []time.Duration
	epoch      time.Time
}

func newTimeWindow(size int, thresholds []time.Duration, epoch time.Time) *timeWindow {
	w := &timeWindow{
		secs:       make([]int64, size),
		calls:      make([]int32, size),
		failures:   make([]int32, size),
		durs:       make([]time.Duration, size),
		slow:       make([]int32, size*len(thresholds)),
		sum:        totals{slow: make([]int, len(thresholds))},
		thresholds: thresholds,
		epoch:      epoch,
	}
	w.reset()
	return w
}

// second returns the window-relative second of now (monotonic when now
// carries a monotonic reading).
func (w *timeWindow) second(now time.Time) int64 {
	d := now.Sub(w.epoch)
	if d < 0 {
		return 0 // earlier than the window itself: fold into its first second
	}
	return int64(d / time.Second)
}

// advance moves head to sec, expiring the buckets that leave the window.
func (w *timeWindow) advance(sec int64) {
	if sec <= w.head {
		return
	}
	size := int64(len(w.secs))
	if sec-w.head >= size {
		// Everything in the window has expired; the buckets are cleared
		// lazily when reused (their seconds are out of range).
		w.sum.clear()
		w.head = sec
		return
	}
	for s := w.head + 1; s <= sec; s++ {
		w.expire(int(s % size))
	}
	w.head = sec
}

// expire removes bucket i from the running sum if it is still counted in it.
func (w *timeWindow) expire(i int) {
	size := int64(len(w.secs))
	if w.secs[i] > w.head-size && w.calls[i] != 0 {
		w.sum.calls -= int(w.calls[i])
		w.sum.failures -= int(w.failures[i])
		w.sum.dur -= w.durs[i]
		nt := len(w.thresholds)
		for j := range nt {
			w.sum.slow[j] -= int(w.slow[i*nt+j])
		}
	}
	w.clearBucket(i)
}

func (w *timeWindow) clearBucket(i int) {
	w.calls[i], w.failures[i], w.durs[i] = 0, 0, 0
	nt := len(w.thresholds)
	clear(w.slow[i*nt : (i+1)*nt])
	w.secs[i] = minSecond
}

const minSecond = -1 << 62

func (w *timeWindow) add(r record, now time.Time) {
	sec := w.second(now)
	if sec < w.head {
		sec = w.head // a late record (clock read before a concurrent advance) joins the newest second
	}
	w.advance(sec)
	i := int(sec % int64(len(w.secs)))
	if w.secs[i] != sec {
		w.clearBucket(i) // a stale bucket already left the sum when advance expired it
		w.secs[i] = sec
	}
	w.calls[i]++
	if !r.ok {
		w.failures[i]++
	}
	w.durs[i] += r.dur
	nt := len(w.thresholds)
	for j := range int(r.slow) {
		w.slow[i*nt+j]++
	}
	w.sum.add(r, 1)
}

func (w *timeWindow) metric(now time.Time) Metric {
	w.advance(w.second(now))
	return w.sum.metric(w.thresholds)
}

// load is metric, written to *m.
func (w *timeWindow) load(m *Metric, now time.Time) {
	w.advance(w.second(now))
	w.sum.load(m, w.thresholds)
}

func (w *timeWindow) reset() {
	for i := range w.secs {
		w.clearBucket(i)
	}
	w.sum.clear()
	w.head = -1
}

func (w *timeWindow) timed() bool { return true }
