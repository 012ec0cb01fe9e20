package breaker

import (
	"context"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// Admission: who may run now.
//
// Closed, metrics-only and disabled breakers admit every call without a
// lock; forced-open ones refuse every call, and open ones refuse without a
// lock until the retry policy could let one through. The first call the
// retry policy lets through moves the breaker to half-open and is its first
// probe if the permit admits it ([AdmitFirst] always does). While half-open, at most settings.maxHalfOpen probes run at once,
// each admitted by the Permit.
//
// The half-open slots belong to one half-open period (one generation of
// stateGen): every transition voids them, so a probe that is still running
// when the breaker leaves half-open gives nothing back and holds no slot of
// a later period. A call that finds every slot taken waits (at most
// settings.halfOpenWait, and not past its context) on a channel that is
// closed when a slot frees or the state changes, then looks again: nobody
// waits across a transition.
//
// The call that moved the breaker to half-open takes its slot only after
// its CallStart hooks and the StateChange hooks of that transition have
// run, so that those hooks may themselves call the breaker: a probe they
// make finds the slot free. If that period is over by then, the call is
// refused (see takeSlotLater).

// ticket is what admission hands to the end of a call. The caller keeps it
// on its stack (or in its Call).
type ticket struct {
	sg    uint64    // stateGen at admission; the outcome is dropped if it changed
	seq   uint64    // the last hook delivery this call queued (0: none), see deliveries
	state sdk.State // admission state
	// record is set when the outcome goes into the window; slot while the
	// call holds a half-open slot; slotLater when it is the call that
	// moved the breaker to half-open and takes its slot after its hooks.
	record, slot, slotLater bool
	// counted is set while the call is counted in inFlight (breakers of a
	// Group).
	counted bool
	// recorded and ended make the end of a call happen once, whatever a
	// hook does (a hook that calls runtime.Goexit ends the goroutine in
	// the middle of it): recorded once the outcome went into the window
	// (or was found stale), ended once the CallEnd hooks ran or were
	// queued.
	recorded, ended bool
	// drawn says whether the enforcement was drawn for the call (it is
	// then refused whenever the breaker refuses it), and whether the draw
	// let through a call the breaker would have refused. One byte beside
	// the flags above keeps the ticket, and so a Call, small.
	drawn drawn
	// s is the breaker's settings at admission: the call measures its
	// duration and runs its hooks by them.
	s *settings
	// capped is the trip the group's cap refused on this call's outcome,
	// for the TripCapped hooks; nil almost always.
	capped *sdk.TripCapped
}

// slots are the half-open slots of the current half-open period; b.mu
// guards them.
type slots struct {
	taken int
	// lastAt is when the last free slot was taken (or the slot limit
	// last changed), kept for the half-open timeout
	// (settings.halfOpenTO > 0), which reads it only while every slot is
	// taken.
	lastAt time.Time
	// freed is closed, and set to nil, when a slot frees or the period
	// ends; nil while nobody waits.
	freed chan struct{}
}

// newPeriodLocked voids the slots on a transition and wakes the waiters.
func (s *slots) newPeriodLocked() {
	s.taken = 0
	s.wakeLocked()
}

// releaseLocked gives back a slot of the current period.
func (s *slots) releaseLocked() {
	s.taken--
	s.wakeLocked()
}

func (s *slots) wakeLocked() {
	if s.freed != nil {
		close(s.freed)
		s.freed = nil
	}
}

// waitLocked returns the channel to wait on for a slot or a transition.
func (s *slots) waitLocked() chan struct{} {
	if s.freed == nil {
		s.freed = make(chan struct{})
	}
	return s.freed
}

// acquire decides whether a call may run and fills in t. It returns a
// non-nil error for a refused call: the breaker's NotPermittedError,
// which matches ctx's error too when ctx ended while the call waited for a
// half-open slot.
func (b *Breaker) acquire(ctx context.Context, t *ticket) error {
	var deadline time.Time // of the wait for a half-open slot, once it began
	for {
		sg := b.stateGen.Load()
		st := sdk.State(sg & 0xff)
		t.sg, t.state = sg, st
		switch st {
		case sdk.StateClosed, sdk.StateMetricsOnly:
			t.record = true
			return nil
		case sdk.StateDisabled:
			return nil
		case sdk.StateForcedOpen:
			return b.refusal(sdk.StateForcedOpen)
		case sdk.StateOpen:
			// Before openUntil the retry policy refuses whatever it is
			// asked: refuse without the lock (and without the wall clock).
			if int64(time.Since(b.epoch)) < b.openUntil.Load() {
				return NotPermittedError{b.openErr.Load()}
			}
			if again, err := b.retry(sg, time.Now(), t); !again {
				return err
			}
		case sdk.StateHalfOpen:
			again, ch, err := b.probe(sg, t)
			if ch == nil {
				if again {
					continue
				}
				return err
			}
			if !t.enforced() && b.enforcement.Load() != enforceAll && !b.enforce(t) {
				return nil // let through without waiting
			}
			if err := b.waitForSlot(ctx, ch, &deadline); err != nil {
				return err
			}
		default:
			panic("breaker: corrupt state " + st.String())
		}
	}
}

// retry asks the retry policy of the open breaker whose stateGen was sg.
// If the policy agrees, the call moves the breaker to half-open and, if
// the permit admits it (an AdmitFirst permit always does), is its first
// probe. again reports that the state
// changed meanwhile: the caller looks again.
func (b *Breaker) retry(sg uint64, now time.Time, t *ticket) (again bool, err error) {
	b.mu.Lock()
	if b.stateGen.Load() != sg {
		b.mu.Unlock()
		return true, nil
	}
	var ready bool
	if b.conf().userCode {
		ready = b.readyGuarded(now)
	} else {
		ready = b.conf().retry.ready(now.Sub(b.changedAt), b.reopens, b.conf().rand)
	}
	if !ready {
		b.mu.Unlock()
		return false, NotPermittedError{b.openErr.Load()}
	}
	// Queued not ready: it goes to the StateChange hooks with the
	// context the CallStart hooks derive for this call.
	if seq := b.transitionLocked(sdk.StateHalfOpen, sdk.ReasonRetry, now, nil); seq != 0 {
		t.seq = seq
	}
	t.sg, t.state = b.stateGen.Load(), sdk.StateHalfOpen
	if !b.conf().permit.first && !b.permitLocked(0) {
		b.mu.Unlock()
		return false, b.refusal(sdk.StateHalfOpen)
	}
	t.record, t.slot = true, true
	if b.conf().hooks.any() {
		t.slotLater = true // see takeSlotLater
	} else {
		b.takeLocked(now)
	}
	b.mu.Unlock()
	return false, nil
}

// probe admits a call to the half-open breaker whose stateGen was sg if a
// slot is free and the permit agrees. If every slot is taken, it returns
// the channel to wait on (nil when the breaker does not wait: err is then
// the refusal). again reports that the state changed meanwhile.
func (b *Breaker) probe(sg uint64, t *ticket) (again bool, wait chan struct{}, err error) {
	var now time.Time
	timed := b.conf().permit.timed()
	if timed {
		now = time.Now()
	}
	b.mu.Lock()
	if b.stateGen.Load() != sg {
		b.mu.Unlock()
		return true, nil, nil
	}
	if b.halfOpen.taken >= b.conf().maxHalfOpen {
		if b.conf().halfOpenTO > 0 {
			if now.IsZero() {
				now = time.Now()
			}
			if expired, seq := b.expireLocked(now, nil); expired {
				// This call is refused by the breaker it re-opened; the
				// transition goes to the hooks with its context, as the
				// one a call makes on admission.
				t.sg, t.state = b.stateGen.Load(), sdk.StateOpen
				if seq != 0 {
					t.seq = seq
				}
				b.mu.Unlock()
				return false, nil, NotPermittedError{b.openErr.Load()}
			}
		}
		if b.conf().halfOpenWait == 0 {
			b.mu.Unlock()
			return false, nil, b.refusal(sdk.StateHalfOpen)
		}
		ch := b.halfOpen.waitLocked()
		b.mu.Unlock()
		return false, ch, nil
	}
	var halfOpenFor time.Duration
	if !timed && b.conf().permit.timed() { // reconfigured meanwhile
		timed = true
		if now.IsZero() {
			now = time.Now()
		}
	}
	if timed {
		halfOpenFor = now.Sub(b.changedAt)
	}
	if !b.permitLocked(halfOpenFor) {
		b.mu.Unlock()
		return false, nil, b.refusal(sdk.StateHalfOpen)
	}
	b.takeLocked(now)
	b.mu.Unlock()
	t.record, t.slot = true, true
	return false, nil, nil
}

// takeLocked takes a half-open slot at now (zero if the clock was not
// read) and, when the half-open timeout is on and the take fills the last
// slot, notes when. The timeout looks at lastAt only while every slot is
// taken, and no slot can be taken while they all are, so the take that
// filled the last one is then the latest take: a take that leaves a slot
// free need not read the clock.
func (b *Breaker) takeLocked(now time.Time) {
	b.halfOpen.taken++
	if b.halfOpen.taken >= b.conf().maxHalfOpen && b.conf().halfOpenTO > 0 {
		if now.IsZero() {
			now = time.Now()
		}
		b.halfOpen.lastAt = now
	}
}

// expireLocked ends a half-open period that is stuck: the breaker is
// half-open, the half-open timeout is on, every slot is taken and none was
// taken for the timeout. The probes that hold the slots are recorded as
// counted failures (their own outcomes, when they come, are stale) and the
// breaker re-opens with reason ReasonHalfOpenTimeout, queued for the hooks
// with ctx (nil: not ready, see transitionLocked). It returns whether it
// did, and the delivery's sequence number. b.mu is held.
func (b *Breaker) expireLocked(now time.Time, ctx context.Context) (expired bool, seq uint64) {
	d := b.conf().halfOpenTO
	n := b.halfOpen.taken
	if d <= 0 || b.state() != sdk.StateHalfOpen || n < b.conf().maxHalfOpen || now.Sub(b.halfOpen.lastAt) < d {
		return false, 0
	}
	for range n {
		b.win.add(record{}, now)
	}
	b.streak = max(b.streak, 0) + n
	return true, b.transitionLocked(sdk.StateOpen, sdk.ReasonHalfOpenTimeout, now, ctx)
}

// takeSlotLater takes the half-open slot of the call that moved the
// breaker to half-open, once its hooks have run. If every slot is taken
// (by probes the hooks made, or by other callers), it waits like any
// caller and may give up. If that half-open period ended meanwhile (a
// hook's probe closed the breaker, a manual command, ...), the call is
// refused: it never holds a slot of another period, so at most
// settings.maxHalfOpen calls admitted in one period ever run at once.
func (b *Breaker) takeSlotLater(ctx context.Context, t *ticket) error {
	t.slotLater = false
	var deadline time.Time
	for {
		b.mu.Lock()
		if b.stateGen.Load() != t.sg {
			b.mu.Unlock()
			t.slot, t.record = false, false
			return b.refusal(sdk.StateHalfOpen)
		}
		if b.halfOpen.taken < b.conf().maxHalfOpen {
			b.takeLocked(time.Time{})
			b.mu.Unlock()
			return nil
		}
		if b.conf().halfOpenWait == 0 {
			b.mu.Unlock()
			t.slot, t.record = false, false
			return b.refusal(sdk.StateHalfOpen)
		}
		ch := b.halfOpen.waitLocked()
		b.mu.Unlock()
		if !t.enforced() && b.enforcement.Load() != enforceAll && !b.enforce(t) {
			return nil // let through without waiting, and without a slot
		}
		if err := b.waitForSlot(ctx, ch, &deadline); err != nil {
			t.slot, t.record = false, false
			return err
		}
	}
}

// waitForSlot waits until ch is closed (a slot freed or the state
// changed), ctx ends or the wait that began at the first call passes
// settings.halfOpenWait. It returns nil when the caller should look again,
// and the refusal otherwise.
func (b *Breaker) waitForSlot(ctx context.Context, ch chan struct{}, deadline *time.Time) error {
	now := time.Now()
	if deadline.IsZero() {
		*deadline = now.Add(b.conf().halfOpenWait)
	}
	left := deadline.Sub(now)
	if left <= 0 {
		return b.refusal(sdk.StateHalfOpen)
	}
	if dl, ok := ctx.Deadline(); ok && !dl.After(*deadline) {
		// ctx ends first (or at the same time): its error says why.
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return b.gaveUp(ctx.Err())
		}
	}
	timer := time.NewTimer(left)
	defer timer.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return b.gaveUp(ctx.Err())
	case <-timer.C:
		return b.refusal(sdk.StateHalfOpen)
	}
}

// refusal returns the breaker's rejection in state st, half-open or
// forced open. The two are built on the first refusal and shared by every
// later one, so refusing allocates nothing after that.
func (b *Breaker) refusal(st sdk.State) NotPermittedError {
	k := b.rejections.Load()
	if k == nil {
		k = &rejections{
			halfOpen: rejection{name: b.name, key: b.key, state: sdk.StateHalfOpen},
			forced:   rejection{name: b.name, key: b.key, state: sdk.StateForcedOpen},
		}
		if !b.rejections.CompareAndSwap(nil, k) {
			k = b.rejections.Load()
		}
	}
	if st == sdk.StateHalfOpen {
		return NotPermittedError{&k.halfOpen}
	}
	return NotPermittedError{&k.forced}
}

// gaveUp is the rejection of a caller whose context ended (with cause)
// while it waited for a half-open slot.
func (b *Breaker) gaveUp(cause error) NotPermittedError {
	return NotPermittedError{&rejection{name: b.name, key: b.key, state: sdk.StateHalfOpen, cause: cause}}
}

// permitLocked asks the permit about a probe; b.mu is held.
func (b *Breaker) permitLocked(halfOpenFor time.Duration) bool {
	if b.conf().userCode {
		return b.admitGuarded(halfOpenFor)
	}
	return b.conf().permit.admit(halfOpenFor, b.conf().rand)
}

// User code under the lock. TripperFunc, RetryFunc, PermitFunc and the
// WithRand source run while b.mu is held. When a breaker has any of them
// (settings.userCode), they are called through these guards, which release
// the lock if they panic, so the panic reaches the caller and the breaker
// keeps working (acquireGuarded and Breaker.panicked then report the
// call). Breakers without user code skip the guards: a deferred func in
// these critical sections lengthens them measurably under contention.

// readyGuarded is retry.ready; b.mu is held.
func (b *Breaker) readyGuarded(now time.Time) bool {
	done := false
	defer func() {
		if !done {
			b.mu.Unlock()
		}
	}()
	ready := b.conf().retry.ready(now.Sub(b.changedAt), b.reopens, b.conf().rand)
	done = true
	return ready
}

// admitGuarded is permit.admit; b.mu is held.
func (b *Breaker) admitGuarded(halfOpenFor time.Duration) bool {
	done := false
	defer func() {
		if !done {
			b.mu.Unlock()
		}
	}()
	admitted := b.conf().permit.admit(halfOpenFor, b.conf().rand)
	done = true
	return admitted
}

// tripGuarded is the tripper, for an outcome already added to the window;
// b.mu is held.
func (b *Breaker) tripGuarded(c *CallContext) bool {
	done := false
	defer func() {
		if !done {
			b.mu.Unlock()
		}
	}()
	trip := b.conf().tripper.trip(c)
	done = true
	return trip
}
