package breakerstatus

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/fluxgate/fluxgate/sdk"
)

// history is what a registry's hooks record: for each registered breaker
// (identified by name and key) its last transitions, each with the call
// that caused it, and its last counted error; and the last transitions of
// all breakers together.
//
// A record is held strongly only by the unregister func its Register hook
// returned, which the breaker keeps until Close, and weakly by the
// history's map; so a breaker dropped without Close is collected with its
// record, and a cleanup then removes the map entry.
type history struct {
	cfg     *config
	onClose func(name string, id uint64) // a breaker of New was closed

	// waiting counts the records whose last transition waits for the
	// CallEnd of the call that caused it; while it is zero, CallEnd of
	// successes and rejections returns at once, taking no lock.
	waiting atomic.Int64

	// mu guards everything below and every record's fields.
	mu        sync.Mutex
	records   map[recordKey]recordEntry
	nextID    uint64
	untracked int // registrations refused at the maxTracked limit
	recent    ring
}

type recordKey struct{ name, key string }

type recordEntry struct {
	id  uint64
	rec weak.Pointer[record]
}

// record is one breaker's history.
type record struct {
	id          uint64
	key         recordKey
	transitions ring
	lastErr     *Cause
	done        bool // unregistered

	// pending is the last transition, when a call caused it and its
	// CallEnd has not come yet: the CallEnd with the same context, from
	// the state the transition left, not stale, gives its cause.
	pending     *Transition
	pendingCtx  context.Context
	pendingFrom sdk.State
}

func (h *history) init(cfg *config) {
	h.cfg = cfg
	h.records = make(map[recordKey]recordEntry)
	h.recent = newRing(cfg.recent)
}

// hooks returns the sdk.Hooks that feed h.
func (h *history) hooks() sdk.Hooks {
	return sdk.Hooks{Register: h.register, CallEnd: h.callEnd, StateChange: h.stateChange}
}

func (h *history) register(reg sdk.Registration) func() {
	k := recordKey{reg.Name, reg.Key}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, replaced := h.records[k]; !replaced && len(h.records) >= h.cfg.maxTracked {
		h.untracked++
		return nil
	}
	h.nextID++
	rec := &record{id: h.nextID, key: k, transitions: newRing(h.cfg.perBreaker)}
	h.records[k] = recordEntry{id: rec.id, rec: weak.Make(rec)}
	runtime.AddCleanup(rec, h.collected, collectedRecord{key: k, id: rec.id})
	return func() { h.unregister(rec) }
}

// collectedRecord identifies a record to its cleanup.
type collectedRecord struct {
	key recordKey
	id  uint64
}

// collected runs once a record was garbage-collected: its breaker was
// dropped (without Close, or after it; then its entry is gone already).
func (h *history) collected(c collectedRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.records[c.key]; ok && cur.id == c.id {
		delete(h.records, c.key)
	}
}

func (h *history) unregister(rec *record) {
	h.mu.Lock()
	if rec.done {
		h.mu.Unlock()
		return
	}
	rec.done = true
	if rec.pending != nil {
		rec.pending, rec.pendingCtx = nil, nil
		h.waiting.Add(-1)
	}
	if cur, ok := h.records[rec.key]; ok && cur.id == rec.id {
		delete(h.records, rec.key)
	}
	h.mu.Unlock()
	if rec.key.key == "" && h.onClose != nil {
		h.onClose(rec.key.name, rec.id)
	}
}

// lookupLocked returns the live record of k, or nil.
func (h *history) lookupLocked(k recordKey) *record {
	e, ok := h.records[k]
	if !ok {
		return nil
	}
	if rec := e.rec.Value(); rec != nil && !rec.done {
		return rec
	}
	return nil
}

// id returns the id of k's record, 0 if it has none.
func (h *history) id(name, key string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rec := h.lookupLocked(recordKey{name, key}); rec != nil {
		return rec.id
	}
	return 0
}

// causedByCall reports whether a transition of this reason is made by the
// outcome of a call, whose CallEnd then gives its cause.
func causedByCall(r sdk.Reason) bool {
	return r == sdk.ReasonTripped || r == sdk.ReasonReopened || r == sdk.ReasonRecovered
}

func (h *history) stateChange(ctx context.Context, t sdk.Transition) {
	tr := &Transition{
		At: t.At, Name: t.Name, Key: t.Key, From: t.From.String(), To: t.To.String(), Reason: t.Reason.String(),
		WindowCalls: t.Window.Calls, WindowFailures: t.Window.Failures,
	}
	if t.Reason == sdk.ReasonManual && ctx != nil {
		if a, ok := ctx.Value(actorKey{}).(actor); ok {
			tr.By = a.who
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent.push(tr)
	rec := h.lookupLocked(recordKey{t.Name, t.Key})
	if rec == nil {
		return
	}
	rec.transitions.push(tr)
	if rec.pending != nil {
		rec.pending, rec.pendingCtx = nil, nil
		h.waiting.Add(-1)
	}
	if causedByCall(t.Reason) {
		rec.pending, rec.pendingCtx, rec.pendingFrom = tr, ctx, t.From
		h.waiting.Add(1)
	}
}

func (h *history) callEnd(ctx context.Context, e sdk.CallEnd) {
	if e.WouldReject {
		// Let through by an enforcement below 1: it counted for nothing
		// and can make no transition.
		return
	}
	counted := e.Outcome == sdk.OutcomeError && e.Decision == sdk.DecisionCounted
	if !counted && (h.waiting.Load() == 0 || e.Stale || e.Outcome == sdk.OutcomeRejected) {
		return
	}
	c := &Cause{At: time.Now(), Outcome: e.Outcome.String(), Decision: e.Decision.String(), Rule: e.Rule,
		DurationSeconds: e.Duration.Seconds()}
	if e.Outcome == sdk.OutcomeError {
		c.ErrorType = errorType(e.Err, e.Panicked)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := h.lookupLocked(recordKey{e.Name, e.Key})
	if rec == nil {
		return
	}
	if counted {
		rec.lastErr = c
	}
	if rec.pending != nil && !e.Stale && e.Outcome != sdk.OutcomeRejected && e.State == rec.pendingFrom && sameContext(ctx, rec.pendingCtx) {
		rec.pending.Cause = c
		rec.pending, rec.pendingCtx = nil, nil
		h.waiting.Add(-1)
	}
}

// sameContext reports whether a and b are the same context, treating
// contexts of a type that cannot be compared as the same.
func sameContext(a, b context.Context) (same bool) {
	defer func() {
		if recover() != nil {
			same = true
		}
	}()
	return a == b
}

// view returns k's transitions (newest first, copies) and last counted
// error, and whether k has a record at all.
func (h *history) view(name, key string) (ts []Transition, lastErr *Cause, recording bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := h.lookupLocked(recordKey{name, key})
	if rec == nil {
		return []Transition{}, nil, false
	}
	return rec.transitions.copyNewestFirst(), rec.lastErr, true
}

// recentView returns the last transitions of all breakers, newest first,
// and how many registrations the history refused at its limit.
func (h *history) recentView() ([]Transition, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recent.copyNewestFirst(), h.untracked
}

// ring is a bounded ring of transitions; the oldest goes first.
type ring struct {
	buf  []*Transition
	next int // once full, the index of the oldest
}

func newRing(n int) ring { return ring{buf: make([]*Transition, 0, n)} }

func (r *ring) push(t *Transition) {
	switch {
	case cap(r.buf) == 0:
	case len(r.buf) < cap(r.buf):
		r.buf = append(r.buf, t)
	default:
		r.buf[r.next] = t
		r.next = (r.next + 1) % len(r.buf)
	}
}

// copyNewestFirst copies the transitions (their causes are never changed
// once set, so sharing them is safe).
func (r *ring) copyNewestFirst() []Transition {
	out := make([]Transition, 0, len(r.buf))
	n := len(r.buf)
	for i := range n {
		// The newest is just before next (or the last appended).
		idx := ((r.next-1-i)%n + n) % n
		if len(r.buf) < cap(r.buf) {
			idx = n - 1 - i
		}
		out = append(out, *r.buf[idx])
	}
	return out
}
