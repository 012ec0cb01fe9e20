package breaker

import (
	"context"

	"github.com/fluxgate/fluxgate/sdk"
)

// Delivery: the StateChange hooks see each breaker's transitions in the
// order they happened, each once, never under b.mu, and without a slow hook
// holding up calls that have nothing to report.
//
// A transition is queued under b.mu when it happens (so queue order is
// transition order). Whoever queued something, or made the head ready,
// then delivers: it pops the head under b.mu and runs its hooks outside
// it, until the queue is empty or its head is not ready. Only one
// goroutine delivers at a time; a call that finds another one delivering
// returns at once (its deliveries will be run by that one), so a hook that
// calls back into the breaker only queues and never waits for delivery.
//
// The transition a call makes on admission (open→half-open) is queued not
// ready: it goes to the hooks with the context the call's CallStart hooks
// derive, which exists only later. The call marks it ready after
// CallStart; delivery stops at a not-ready head until then.
//
// A call whose transition has not been delivered yet queues its CallEnd
// behind it, so that every hook sees CallStart, then the call's
// transitions, then its CallEnd (otelbridge adds the transition event to
// the call's span and ends the span at CallEnd). Such a CallEnd, and any
// StateChange, may therefore run on the goroutine of another call of the
// same breaker, after the call that caused it has returned.

// delivery is one queued hook call: a transition, or the CallEnd of a call
// whose transition was still queued.
type delivery struct {
	ctx   context.Context
	end   *sdk.CallEnd // non-nil for a CallEnd
	tr    sdk.Transition
	ready bool
}

// deliveries is a breaker's delivery queue; b.mu guards it.
type deliveries struct {
	q          []delivery // q[head:] are queued
	head       int
	pushed     uint64 // deliveries ever queued; the last one's sequence number
	done       uint64 // deliveries whose hooks have run
	delivering bool   // a goroutine is running hooks from the queue
}

// pushLocked queues d and returns its sequence number (from 1).
func (q *deliveries) pushLocked(d delivery) uint64 {
	q.q = append(q.q, d)
	q.pushed++
	return q.pushed
}

// markReadyLocked gives the not-ready delivery seq its context.
func (q *deliveries) markReadyLocked(seq uint64, ctx context.Context) {
	first := q.pushed - uint64(len(q.q)-q.head) + 1
	if seq < first || seq > q.pushed {
		return
	}
	d := &q.q[q.head+int(seq-first)]
	if !d.ready {
		d.ctx, d.ready = ctx, true
	}
}

// pendingLocked reports whether the delivery seq has not run yet.
func (q *deliveries) pendingLocked(seq uint64) bool { return seq > q.done }

// deliverLocked runs the queued deliveries that are ready, in order,
// unless another goroutine is doing so; b.mu is held on entry and released
// on return. If a hook ends the goroutine (runtime.Goexit; panics are
// recovered by the hook wrappers), the deferred cleanup counts that
// delivery as done and goes on with the rest, so the queue never sticks.
func (b *Breaker) deliverLocked() {
	q := &b.queue
	if q.delivering || q.head == len(q.q) || !q.q[q.head].ready {
		b.mu.Unlock()
		return
	}
	q.delivering = true
	finished := false
	defer func() {
		if !finished {
			b.mu.Lock()
			q.done++
			q.delivering = false
			b.deliverLocked()
		}
	}()
	for q.head < len(q.q) && q.q[q.head].ready {
		d := q.q[q.head]
		q.q[q.head] = delivery{}
		q.head++
		if q.head == len(q.q) {
			q.q, q.head = q.q[:0], 0
		}
		b.mu.Unlock()
		if d.end != nil {
			b.conf().hooks.end(d.ctx, *d.end)
		} else {
			b.conf().hooks.transition(d.ctx, d.tr)
		}
		b.mu.Lock()
		q.done++
	}
	q.delivering = false
	finished = true
	b.mu.Unlock()
}

// callEnd runs the CallEnd hooks of the call t, once: at once if its
// transitions have all been delivered, or queued behind them (settle may
// have queued it already). It then delivers what the call queued. info
// may be nil when the breaker has no CallEnd hooks.
func (b *Breaker) callEnd(cctx context.Context, t *ticket, info *sdk.CallEnd) {
	if t.seq != 0 {
		b.mu.Lock()
		if !t.ended && b.queue.pendingLocked(t.seq) {
			if len(b.conf().hooks.callEnd) > 0 {
				e := *info
				b.queue.pushLocked(delivery{ctx: cctx, end: &e, ready: true})
			}
			t.ended = true
		}
		if t.ended {
			b.deliverLocked()
			return
		}
		b.mu.Unlock()
	}
	if t.ended {
		return
	}
	t.ended = true
	if len(b.conf().hooks.callEnd) > 0 {
		b.conf().hooks.end(cctx, *info)
	}
}
