package breaker

import (
	"fmt"
	"time"
)

// Window says how much call history a breaker keeps: the last N calls
// ([CountWindow]) or the calls of the last N seconds ([TimeWindow]). Build
// one with CountWindow or TimeWindow and pass it to [WithWindow]; the zero
// Window is invalid, and [New] reports it. The [Tripper] reads the window
// as a [Metric], which [Breaker.Info] also reports.
//
// A Window is a description: every breaker built with it gets its own
// storage, built when the breaker records its first call (a breaker that
// never records one, such as an idle breaker of a Group, keeps a small
// header only). Recording a call, reading the window's metric and
// resetting the window (on every transition) are O(1) and allocate
// nothing once the storage is built, whatever the size.
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
// window's storage is allocated when its first call is recorded, and a
// size beyond this would fail there with an unrecoverable out-of-memory
// error instead of New reporting the size.
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
// As in fluxgate, a call is filed under the Unix second of the wall clock
// when it is recorded ([time.Time.Unix]), so replicas started at different
// instants bucket alike; the window at second s holds the calls of the
// seconds (s-size, s]. A clock read older than the newest second the
// window has seen (a concurrent call, or the wall clock stepping back)
// joins that newest second, so a wall clock stepped back delays expiry by
// the step, and one stepped forward by more than size empties the window.
// Unlike fluxgate, where an old bucket lingers
// until its slot is reused, buckets older than size are expired both when
// a call is recorded and when the window is read, so a burst of failures
// ages out even if no call follows it.
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
// it under its lock. Besides these methods, the concrete windows have a
// load method that writes the metric in place, for the hot path.
type window interface {
	// add records r, which happened at now.
	add(r record, now time.Time)
	// metric returns the current metric as of now. The returned Metric
	// shares the window's slow counts: clone it to keep it.
	metric(now time.Time) Metric
	// reset empties the window, in O(1).
	reset()
	// timed reports whether add and metric need the current time.
	timed() bool
}

// newWindow returns the header of a window described by w; its storage is
// built on the first add. thresholds are the breaker's SlowRate
// thresholds, ascending, and durations says whether the breaker measures
// call durations. The epoch (when the breaker was built) is not used:
// TimeWindow buckets are keyed by Unix second.
func (w Window) newWindow(thresholds []time.Duration, _ time.Time, durations bool) window {
	switch w.kind {
	case windowTime:
		return newTimeWindow(w.size, thresholds)
	case windowCount:
		return makeCountWindow(w.size, thresholds, durations)
	}
	panic("breaker: the zero Window has no storage: use CountWindow or TimeWindow (New reports it)")
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

// load sets *m to the totals, in place: on the hot path this is cheaper
// than returning a Metric through several frames.
func (t *totals) load(m *Metric, thresholds []time.Duration) {
	m.TotalCount, m.FailureCount, m.TotalDuration = t.calls, t.failures, t.dur
	m.thresholds, m.slow = thresholds, t.slow
}

// countWindow is a ring buffer of the last size records plus their running
// totals. The header holds the configuration only; the ring and the totals
// are built by the first add. A record is stored as a mark (success bit
// and slow level) and, only when the breaker measures durations, a
// duration: an idle default breaker then keeps 2 bytes per call instead of
// 16.
type countWindow struct {
	s          *countStore // nil until the first add
	thresholds []time.Duration
	size       int32
	durations  bool
}

// countStore is a count window's storage.
type countStore struct {
	marks   []uint16
	durs    []time.Duration // nil when the breaker never measures durations
	next, n int
	sum     totals
}

// okMark is the bit of a mark that says the call succeeded; the low byte
// is its slow level.
const okMark = 1 << 8

func newCountWindow(size int, thresholds []time.Duration) *countWindow {
	return makeCountWindow(size, thresholds, true)
}

// makeCountWindow returns a count window's header; without durations,
// every record's duration is taken as zero.
func makeCountWindow(size int, thresholds []time.Duration, durations bool) *countWindow {
	return &countWindow{thresholds: thresholds, size: int32(size), durations: durations}
}

// store returns the window's storage, building it on first use.
func (w *countWindow) store() *countStore {
	if w.s == nil {
		s := &countStore{marks: make([]uint16, w.size), sum: totals{slow: make([]int, len(w.thresholds))}}
		if w.durations {
			s.durs = make([]time.Duration, w.size)
		}
		w.s = s
	}
	return w.s
}

// at returns the record stored at index i.
func (s *countStore) at(i int) record {
	m := s.marks[i]
	r := record{ok: m&okMark != 0, slow: uint8(m)}
	if s.durs != nil {
		r.dur = s.durs[i]
	}
	return r
}

func (w *countWindow) add(r record, _ time.Time) {
	s := w.store()
	if s.n == len(s.marks) {
		s.sum.add(s.at(s.next), -1)
	} else {
		s.n++
	}
	m := uint16(r.slow)
	if r.ok {
		m |= okMark
	}
	s.marks[s.next] = m
	if s.durs != nil {
		s.durs[s.next] = r.dur
	} else {
		r.dur = 0
	}
	s.sum.add(r, 1)
	if s.next++; s.next == len(s.marks) {
		s.next = 0
	}
}

func (w *countWindow) metric(time.Time) Metric {
	var m Metric
	w.load(&m)
	return m
}

// load is metric, written to *m. An empty window without storage gives
// the zero Metric, which reads like an empty one with thresholds.
func (w *countWindow) load(m *Metric) {
	if w.s == nil {
		*m = Metric{}
		return
	}
	w.s.sum.load(m, w.thresholds)
}

// reset empties the ring by forgetting its records: O(thresholds).
func (w *countWindow) reset() {
	if s := w.s; s != nil {
		s.next, s.n = 0, 0
		s.sum.clear()
	}
}

func (w *countWindow) timed() bool { return false }

// timeWindow keeps one bucket per second of its size. Bucket i holds the
// calls of the Unix second s with s%size == i; head is the newest second
// the window has advanced to (by a record or a read). The header holds the
// configuration and head only; the buckets are built by the first add.
type timeWindow struct {
	s          *timeStore // nil until the first add
	thresholds []time.Duration
	head       int64
	size       int32
}

// timeStore is a time window's storage. floor is the window's head at the
// last reset. A bucket belongs to the window (is live) only if its second
// is within (head-size, head] and at least floor; the running sum covers
// exactly the live buckets. A reset clears the sum and the head bucket and
// raises floor, which kills every other bucket at once: they are cleared
// lazily, when their slot is reused.
type timeStore struct {
	buckets []bucket
	slow    []int32 // bucket i, threshold j at i*len(thresholds)+j
	floor   int64
	sum     totals
}

// bucket is one second of a time window.
type bucket struct {
	sec             int64 // the Unix second it holds
	dur             time.Duration
	calls, failures int32
}

const minSecond = -1 << 62

func newTimeWindow(size int, thresholds []time.Duration) *timeWindow {
	return &timeWindow{thresholds: thresholds, head: minSecond, size: int32(size)}
}

// store returns the window's storage, building it on first use.
func (w *timeWindow) store() *timeStore {
	if w.s == nil {
		s := &timeStore{
			buckets: make([]bucket, w.size),
			slow:    make([]int32, int(w.size)*len(w.thresholds)),
			floor:   minSecond,
			sum:     totals{slow: make([]int, len(w.thresholds))},
		}
		w.s = s
	}
	return w.s
}

// second returns the Unix second of now, as fluxgate's int(time.time())
// (0 for a time before 1970, which only a broken clock reports).
func second(now time.Time) int64 { return max(now.Unix(), 0) }

// live reports whether bucket i is counted in the running sum.
func (w *timeWindow) live(i int) bool {
	sec := w.s.buckets[i].sec
	return sec > w.head-int64(w.size) && sec >= w.s.floor
}

// advance moves head to sec, expiring the buckets that leave the window.
func (w *timeWindow) advance(sec int64) {
	if sec <= w.head {
		return
	}
	size := int64(w.size)
	if s := w.s; s != nil {
		if sec-w.head >= size {
			// Everything in the window has expired; the buckets are
			// cleared lazily when reused (their seconds are out of range).
			s.sum.clear()
		} else {
			for t := w.head + 1; t <= sec; t++ {
				w.expire(int(t % size))
			}
		}
	}
	w.head = sec
}

// expire removes bucket i from the running sum if it is counted in it. The
// bucket itself is cleared when its slot is reused.
func (w *timeWindow) expire(i int) {
	s := w.s
	b := &s.buckets[i]
	if b.calls == 0 || !w.live(i) {
		return
	}
	s.sum.calls -= int(b.calls)
	s.sum.failures -= int(b.failures)
	s.sum.dur -= b.dur
	nt := len(w.thresholds)
	for j := range nt {
		s.sum.slow[j] -= int(s.slow[i*nt+j])
	}
}

// clearBucket empties bucket i and gives it to second sec.
func (w *timeWindow) clearBucket(i int, sec int64) {
	s := w.s
	s.buckets[i] = bucket{sec: sec}
	nt := len(w.thresholds)
	clear(s.slow[i*nt : (i+1)*nt])
}

func (w *timeWindow) add(r record, now time.Time) {
	s := w.store()
	// A late record (clock read before a concurrent advance, or a clock
	// stepped back) joins the newest second.
	sec := max(second(now), w.head)
	w.advance(sec)
	i := int(sec % int64(w.size))
	b := &s.buckets[i]
	if b.sec != sec {
		w.clearBucket(i, sec) // a stale bucket already left the sum when it expired
	}
	b.calls++
	if !r.ok {
		b.failures++
	}
	b.dur += r.dur
	nt := len(w.thresholds)
	for j := range int(r.slow) {
		s.slow[i*nt+j]++
	}
	s.sum.add(r, 1)
}

func (w *timeWindow) metric(now time.Time) Metric {
	var m Metric
	w.load(&m, now)
	return m
}

// load is metric, written to *m. An empty window without storage gives
// the zero Metric, which reads like an empty one with thresholds.
func (w *timeWindow) load(m *Metric, now time.Time) {
	w.advance(second(now))
	if w.s == nil {
		*m = Metric{}
		return
	}
	w.s.sum.load(m, w.thresholds)
}

// reset empties the window in O(thresholds), whatever its size: it clears
// the running sum and the head bucket (the only one a record can still
// join) and raises floor to head, so every other bucket is dead until its
// slot is reused.
func (w *timeWindow) reset() {
	s := w.s
	if s == nil {
		return
	}
	s.sum.clear()
	if w.head != minSecond {
		w.clearBucket(int(w.head%int64(w.size)), minSecond)
	}
	s.floor = w.head
}

func (w *timeWindow) timed() bool { return true }
