package breaker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Breaker is a circuit breaker. Build one with New; it is safe for
// concurrent use by any number of goroutines. Protect a call with Execute,
// Do or ExecuteWithFallback.
type Breaker struct {
	name        string
	key         string // the key in its Group; empty for New
	tracker     tracker.Tracker
	tripper     *tripNode
	retry       Retry
	permit      Permit
	rand        func() float64
	thresholds  []time.Duration
	needDur     bool // measure call durations (trippers, hooks or failure durations need them)
	userCode    bool // user funcs run under mu (TripperFunc, RetryFunc, PermitFunc, WithRand)
	failDur     bool // record failures with their duration
	timedWindow bool // the window needs the time on record and read
	hooks       hookSet
	slots       chan struct{} // half-open probe slots; a send acquires one
	halfOpenErr NotPermittedError
	forcedErr   NotPermittedError

	// stateGen packs the state (low 8 bits) and a generation counter that
	// grows on every transition. It is written only under mu and read
	// without it, so closed-state admission takes no lock.
	stateGen atomic.Uint64

	// countCalls is set for breakers of a Group: inFlight then counts the
	// calls admitted and not yet ended, so that the group never evicts a
	// breaker with a call in flight.
	countCalls bool
	inFlight   atomic.Int64

	closeOnce  sync.Once
	unregister []func()

	// epoch is when the breaker was built: the origin of openUntil.
	epoch time.Time
	// openUntil (nanoseconds since epoch) and openErr are set at each
	// opening, under mu and before stateGen: until openUntil the retry
	// policy cannot let a call through, so the rejection path reads them
	// without taking mu. openErr is returned while open.
	openUntil atomic.Int64
	openErr   atomic.Pointer[rejection]

	// mu guards win, changedAt, reopens and streak, and every write of
	// stateGen, openUntil and openErr.
	mu        sync.Mutex
	win       window
	changedAt time.Time
	reopens   int
	streak    int // > 0: counted failures in a row; < 0: recorded successes in a row
}

// New builds a breaker named name (used in errors, logs and telemetry; keep
// it a static, low-cardinality identifier such as "payments-api").
//
// Without options the breaker uses fluxgate's defaults: CountWindow(100),
// tracker.All(), MinRequests(100).And(FailureRate(0.5)), Cooldown(60s, 0),
// RampUp(0.1, 1.0, 60s) and 10 half-open calls at once.
//
// New validates the whole configuration and returns a *ConfigError that
// lists every invalid part.
func New(name string, opts ...Option) (*Breaker, error) {
	cfg, err := buildConfig(name, opts)
	if err != nil {
		return nil, err
	}
	return newBreaker(name, "", cfg), nil
}

// buildConfig applies opts to the default configuration and validates the
// result as a whole, returning a *ConfigError that lists every problem.
func buildConfig(name string, opts []Option) (*config, error) {
	cfg := defaultConfig()
	var errs []error
	if name == "" {
		errs = append(errs, errors.New("name must not be empty"))
	}
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.apply(&cfg)
	}
	errs = append(errs, cfg.errs...)
	errs = appendErr(errs, cfg.window.validate())
	if cfg.tracker == nil {
		errs = append(errs, errors.New("tracker is nil"))
	} else {
		errs = appendErr(errs, tracker.Validate(cfg.tracker))
	}
	errs = appendErr(errs, cfg.tripper.validate())
	errs = appendErr(errs, cfg.retry.validate())
	errs = appendErr(errs, cfg.permit.validate())
	if cfg.maxHalfOpen < 1 {
		errs = append(errs, fmt.Errorf("WithMaxHalfOpenCalls(%d): must be at least 1", cfg.maxHalfOpen))
	}
	if cfg.tripper.n != nil {
		cfg.thresholds = cfg.tripper.slowThresholds()
		if len(cfg.thresholds) > 255 {
			errs = append(errs, fmt.Errorf("tripper has %d distinct SlowRate thresholds; at most 255 are supported", len(cfg.thresholds)))
		}
	}
	if len(errs) > 0 {
		return nil, &ConfigError{Name: name, Problems: errs}
	}
	return &cfg, nil
}

// newBreaker builds a breaker from a validated configuration. key is the
// breaker's key in its Group, empty for New.
func newBreaker(name, key string, cfg *config) *Breaker {
	now := time.Now()
	b := &Breaker{
		name:        name,
		key:         key,
		tracker:     cfg.tracker,
		tripper:     cfg.tripper.n,
		retry:       cfg.retry,
		permit:      cfg.permit,
		rand:        cfg.rand,
		thresholds:  cfg.thresholds,
		failDur:     cfg.failDurations,
		hooks:       newHookSet(cfg.hooks),
		slots:       make(chan struct{}, cfg.maxHalfOpen),
		halfOpenErr: newNotPermitted(name, key, sdk.StateHalfOpen, time.Time{}),
		forcedErr:   newNotPermitted(name, key, sdk.StateForcedOpen, time.Time{}),
		changedAt:   now,
		epoch:       now,
		countCalls:  cfg.countInFlight,
	}
	b.userCode = b.rand != nil || cfg.tripper.hasFunc() || cfg.retry.kind == retryFunc || cfg.permit.kind == permitFunc
	if b.rand == nil {
		b.rand = rand.Float64
	}
	b.needDur = cfg.tripper.needsDurations() || len(b.hooks.callEnd) > 0 || b.failDur
	b.win = cfg.window.newWindow(cfg.thresholds, now, b.needDur)
	b.timedWindow = b.win.timed()
	b.stateGen.Store(uint64(sdk.StateClosed))
	for _, h := range cfg.hooks {
		if h.Register != nil {
			if un := safeRegister(h.Register, sdk.Registration{Name: name, Key: key, State: b.State}); un != nil {
				b.unregister = append(b.unregister, un)
			}
		}
	}
	return b
}

// appendErr appends err, flattening errors.Join trees so that each problem
// is its own entry.
func appendErr(errs []error, err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = appendErr(errs, e)
		}
		return errs
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

func safeRegister(f func(sdk.Registration) func(), r sdk.Registration) (un func()) {
	defer func() {
		if p := recover(); p != nil {
			un = nil
			hookPanicked("Register", r.Name, p)
		}
	}()
	return f(r)
}

// Name returns the name given to New (for a breaker of a Group, the
// group's name).
func (b *Breaker) Name() string { return b.name }

// Key returns the breaker's key in its Group, or "" for a breaker built by
// New.
func (b *Breaker) Key() string { return b.key }

// State returns the current state. An open breaker whose retry delay has
// passed still reports StateOpen until the next call moves it to half-open.
func (b *Breaker) State() sdk.State { return sdk.State(b.stateGen.Load() & 0xff) }

// Info is a snapshot of a breaker, returned by Breaker.Info.
type Info struct {
	// Name is the breaker's name.
	Name string
	// State is the current state.
	State sdk.State
	// ChangedAt is when the breaker entered State (or was built).
	ChangedAt time.Time
	// Reopens is the number of half-open→open transitions since the
	// breaker last entered closed; Backoff grows its delay with it.
	Reopens int
	// ConsecutiveFailures is the current streak of counted failures.
	ConsecutiveFailures int
	// Metric is the window's metric (a copy).
	Metric Metric
}

// Info returns a consistent snapshot of the breaker.
func (b *Breaker) Info() Info {
	var now time.Time
	if b.timedWindow {
		now = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return Info{
		Name:                b.name,
		State:               b.State(),
		ChangedAt:           b.changedAt,
		Reopens:             b.reopens,
		ConsecutiveFailures: max(b.streak, 0),
		Metric:              b.win.metric(now).clone(),
	}
}

// Close calls the unregister funcs returned by the Register hooks (for
// example, otelbridge stops reporting this breaker's state). The breaker
// keeps working; Close is idempotent.
func (b *Breaker) Close() {
	b.closeOnce.Do(func() {
		for _, un := range b.unregister {
			func() {
				defer func() {
					if p := recover(); p != nil {
						hookPanicked("unregister", b.name, p)
					}
				}()
				un()
			}()
		}
	})
}

// pending is a transition to report to the hooks once the lock is released.
type pending struct {
	ok bool
	t  sdk.Transition
}

// transitionLocked moves the breaker to state to, with fluxgate's
// bookkeeping: reopens grows on half-open→open and is cleared on entering
// closed; the failure streak is cleared on entering half-open or closed;
// the window is reset; the generation grows, so outcomes of calls admitted
// before are dropped. Transitions to the same state are not suppressed.
func (b *Breaker) transitionLocked(to sdk.State, reason sdk.Reason, now time.Time) pending {
	if now.IsZero() {
		now = time.Now()
	}
	sg := b.stateGen.Load()
	from := sdk.State(sg & 0xff)
	switch {
	case to == sdk.StateOpen && from == sdk.StateHalfOpen:
		b.reopens++
	case to == sdk.StateHalfOpen:
		b.streak = 0
	case to == sdk.StateClosed:
		b.reopens, b.streak = 0, 0
	}
	m := b.win.metric(now)
	counts := sdk.WindowCounts{Calls: m.TotalCount, Failures: m.FailureCount}
	b.win.reset()
	b.changedAt = now
	if to == sdk.StateOpen {
		var at time.Time
		if d := b.retry.Delay(b.reopens); d >= 0 {
			at = now.Add(d)
		}
		b.openErr.Store(newNotPermitted(b.name, b.key, sdk.StateOpen, at).r)
		until := int64(math.MinInt64) // always ask the retry policy
		if lo := b.retry.minDelay(b.reopens); lo > 0 {
			until = int64(now.Sub(b.epoch)) + int64(lo)
			if until < 0 { // overflow (Never)
				until = math.MaxInt64
			}
		}
		b.openUntil.Store(until)
	}
	b.stateGen.Store((sg>>8+1)<<8 | uint64(to))
	return pending{ok: true, t: sdk.Transition{Name: b.name, Key: b.key, From: from, To: to, Reason: reason, Window: counts, At: now}}
}

// manual performs a manual command and reports its transition.
func (b *Breaker) manual(ctx context.Context, to sdk.State) {
	if ctx == nil {
		ctx = context.Background()
	}
	now := time.Now()
	b.mu.Lock()
	p := b.transitionLocked(to, sdk.ReasonManual, now)
	b.mu.Unlock()
	b.hooks.transition(ctx, p.t)
}

// Reset moves the breaker to closed, clearing its window, re-open count and
// failure streak, whatever its state (closed included). ctx is passed to
// the StateChange hooks, so a span in it gets the transition event.
func (b *Breaker) Reset(ctx context.Context) { b.manual(ctx, sdk.StateClosed) }

// Disable moves the breaker to disabled: every call passes through and
// nothing is recorded, until another manual command.
func (b *Breaker) Disable(ctx context.Context) { b.manual(ctx, sdk.StateDisabled) }

// MetricsOnly moves the breaker to metrics_only ("shadow mode"): every call
// passes through and is recorded, but the breaker never trips, until
// another manual command.
func (b *Breaker) MetricsOnly(ctx context.Context) { b.manual(ctx, sdk.StateMetricsOnly) }

// ForceOpen moves the breaker to forced_open: every call is refused, until
// another manual command.
func (b *Breaker) ForceOpen(ctx context.Context) { b.manual(ctx, sdk.StateForcedOpen) }

// ticket is what admission hands to the end of a call.
type ticket struct {
	sg     uint64    // stateGen at admission; the outcome is dropped if it changed
	state  sdk.State // admission state
	record bool      // the outcome goes into the window
	slot   bool      // holds a half-open slot
	// counted is set while the call is counted in inFlight (breakers of a
	// Group).
	counted bool
	tr      pending // transition made during admission (open→half-open)
	// earlier holds the transitions this call made before tr, when it
	// moved the breaker to half-open, waited for a slot and found it open
	// again (rare); they are reported too, in order.
	earlier []sdk.Transition
}

// acquire decides whether a call may run and fills in t, which the caller
// keeps on its stack (a ticket is too large to copy on every call). It
// returns a non-nil error for a refused call: the breaker's
// NotPermittedError, or ctx's error when ctx ended while waiting for a
// half-open slot.
func (b *Breaker) acquire(ctx context.Context, t *ticket) error {
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
			return b.forcedErr
		case sdk.StateOpen:
			// Before openUntil the retry policy refuses whatever it is
			// asked: refuse without the lock (and without the wall clock).
			if int64(time.Since(b.epoch)) < b.openUntil.Load() {
				return NotPermittedError{b.openErr.Load()}
			}
			switch b.retryLocked(sg, time.Now(), t) {
			case retryStale:
				continue
			case retryRefused:
				return NotPermittedError{b.openErr.Load()}
			}
			// The same call goes on as a half-open probe.
		case sdk.StateHalfOpen:
			if err := b.acquireSlot(ctx); err != nil {
				return err
			}
			admitted, stale := b.admitProbe(sg)
			if stale {
				// The state changed while waiting: the slot is free
				// again; go by the new state.
				continue
			}
			if !admitted {
				return b.halfOpenErr
			}
			t.record, t.slot = true, true
			return nil
		default:
			panic("breaker: corrupt state " + st.String())
		}
	}
}

// Results of retryLocked.
const (
	retryStale    = iota // the state changed: look again
	retryRefused         // the retry policy refused the call
	retryHalfOpen        // the breaker moved to half-open
)

// retryLocked asks the retry policy of the open breaker whose stateGen was
// sg, and moves it to half-open if the policy agrees.
func (b *Breaker) retryLocked(sg uint64, now time.Time, t *ticket) int {
	b.mu.Lock()
	if b.stateGen.Load() != sg {
		b.mu.Unlock()
		return retryStale
	}
	var ready bool
	if b.userCode {
		ready = b.readyGuarded(now)
	} else {
		ready = b.retry.ready(now.Sub(b.changedAt), b.reopens, b.rand)
	}
	if !ready {
		b.mu.Unlock()
		return retryRefused
	}
	if t.tr.ok {
		t.earlier = append(t.earlier, t.tr.t)
	}
	t.tr = b.transitionLocked(sdk.StateHalfOpen, sdk.ReasonRetry, now)
	b.mu.Unlock()
	return retryHalfOpen
}

// admitProbe asks the permit whether a call holding a half-open slot of the
// breaker whose stateGen was sg may run. Unless it is admitted, the slot is
// released.
func (b *Breaker) admitProbe(sg uint64) (admitted, stale bool) {
	var now time.Time
	timed := b.permit.timed()
	if timed {
		now = time.Now()
	}
	b.mu.Lock()
	if b.stateGen.Load() != sg {
		b.mu.Unlock()
		b.releaseSlot()
		return false, true
	}
	var halfOpenFor time.Duration
	if timed {
		halfOpenFor = now.Sub(b.changedAt)
	}
	if b.userCode {
		admitted = b.admitGuarded(halfOpenFor)
	} else {
		admitted = b.permit.admit(halfOpenFor, b.rand)
	}
	b.mu.Unlock()
	if !admitted {
		b.releaseSlot()
	}
	return admitted, false
}

// User code under the lock. TripperFunc, RetryFunc, PermitFunc and the
// WithRand source run while b.mu is held. When a breaker has any of them
// (userCode), they are called through these guards, which release the lock
// (and the half-open slot, and mark the outcome as recorded) if they panic,
// so the panic reaches the caller and the breaker keeps working. Breakers
// without user code skip the guards: a deferred func in these critical
// sections lengthens them measurably under contention.

// readyGuarded is retry.ready; b.mu is held.
func (b *Breaker) readyGuarded(now time.Time) bool {
	done := false
	defer func() {
		if !done {
			b.mu.Unlock()
		}
	}()
	ready := b.retry.ready(now.Sub(b.changedAt), b.reopens, b.rand)
	done = true
	return ready
}

// admitGuarded is permit.admit for a call holding a half-open slot; b.mu
// is held.
func (b *Breaker) admitGuarded(halfOpenFor time.Duration) bool {
	done := false
	defer func() {
		if !done {
			b.mu.Unlock()
			b.releaseSlot()
		}
	}()
	admitted := b.permit.admit(halfOpenFor, b.rand)
	done = true
	return admitted
}

// tripGuarded is the tripper, for the outcome of t already added to the
// window; b.mu is held.
func (b *Breaker) tripGuarded(t *ticket, c *CallContext) bool {
	done := false
	defer func() {
		if !done {
			t.record = false // the panic path must not record the call again
			b.mu.Unlock()
		}
	}()
	trip := b.tripper.trip(c)
	done = true
	return trip
}

func (b *Breaker) acquireSlot(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Breaker) releaseSlot() { <-b.slots }

// record applies a finished call's outcome: it updates the failure streak
// and the window, evaluates the tripper and makes the transition it calls
// for. An outcome of a call admitted before the last transition is dropped
// (stale is true). A transition it makes is stored in *p, to be reported
// once the lock is released.
func (b *Breaker) record(t *ticket, success bool, dur time.Duration, p *pending) (stale bool) {
	var now time.Time
	if b.timedWindow {
		now = time.Now()
	}
	r := record{ok: success}
	if success || b.failDur {
		r.dur = dur
		for _, th := range b.thresholds {
			if dur < th {
				break
			}
			r.slow++
		}
	}
	b.mu.Lock()
	if b.stateGen.Load() != t.sg {
		b.mu.Unlock()
		return true
	}
	if success {
		b.streak = min(b.streak, 0) - 1
	} else {
		b.streak = max(b.streak, 0) + 1
	}
	var c CallContext
	// Calls on the concrete windows, rather than through the interface,
	// keep c on the stack and avoid copying the Metric.
	switch w := b.win.(type) {
	case *countWindow:
		w.add(r, now)
		w.load(&c.Metric)
	case *timeWindow:
		w.add(r, now)
		w.load(&c.Metric, now)
	default:
		w.add(r, now)
		c.Metric = w.metric(now)
	}
	if t.state == sdk.StateClosed || t.state == sdk.StateHalfOpen {
		c.State, c.ConsecutiveFailures, c.ConsecutiveSuccesses = t.state, max(b.streak, 0), max(-b.streak, 0)
		var trip bool
		if b.userCode {
			trip = b.tripGuarded(t, &c)
		} else {
			trip = b.tripper.trip(&c)
		}
		switch {
		case t.state == sdk.StateClosed && trip:
			*p = b.transitionLocked(sdk.StateOpen, sdk.ReasonTripped, now)
		case t.state == sdk.StateHalfOpen && success && !trip:
			*p = b.transitionLocked(sdk.StateClosed, sdk.ReasonRecovered, now)
		case t.state == sdk.StateHalfOpen && !success && trip:
			*p = b.transitionLocked(sdk.StateOpen, sdk.ReasonReopened, now)
		}
	}
	b.mu.Unlock()
	return false
}
