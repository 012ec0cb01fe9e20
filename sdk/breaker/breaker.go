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
// Do or ExecuteWithFallback, or with the two steps Allow and Call.Done.
//
// The zero Breaker is not usable: its methods panic with a message that
// says to use New.
type Breaker struct {
	// cur holds the settings: immutable, shared by every breaker of one
	// configuration, and replaced as a whole (under mu) by Reconfigure.
	cur  atomic.Pointer[settings]
	name string
	key  string // the key in its Group; empty for New

	// stateGen packs the state (low 8 bits) and a generation counter that
	// grows on every transition. It is written only under mu and read
	// without it, so closed-state admission takes no lock.
	stateGen atomic.Uint64
	// openUntil (nanoseconds since epoch) and openErr are set at each
	// opening, under mu and before stateGen: until openUntil the retry
	// policy cannot let a call through, so the rejection path reads them
	// without taking mu. openErr is returned while open.
	openUntil atomic.Int64
	openErr   atomic.Pointer[rejection]
	// rejections holds the half-open and forced-open rejections, built on
	// first use.
	rejections atomic.Pointer[rejections]
	// epoch is when the breaker was built: the origin of openUntil.
	epoch time.Time
	// inFlight counts the calls admitted and not yet ended, for breakers of
	// a Group (countCalls), so that the group never evicts a breaker with a
	// call in flight.
	inFlight    atomic.Int64
	closed      atomic.Bool // Close ran
	timedWindow atomic.Bool // the window needs the time on record and read; written under mu
	countCalls  bool        // count calls in flight (config.countInFlight: breakers of a Group)

	// enforcement is the float64 bits of the fraction of would-be
	// refusals that are enforced (WithEnforcement); read without a lock
	// on the refusal path only.
	enforcement atomic.Uint64
	// cap is the open-key cap of the breaker's Group (nil without one, and
	// once the group let go of the breaker); guarded by mu.
	cap *openCap

	// mu guards win, changedAt, reopens, streak, the half-open slots
	// (probes, slotFreed) and the delivery queue (deliveries), and every
	// write of stateGen, openUntil, openErr, cur, timedWindow and
	// enforcement (Reconfigure), and cap. No user code runs under
	// it except TripperFunc, RetryFunc, PermitFunc and the WithRand
	// source, through guards that release it if they panic.
	mu        sync.Mutex
	win       window
	changedAt time.Time
	reopens   int
	streak    int // > 0: counted failures in a row; < 0: recorded successes in a row
	halfOpen  slots
	queue     deliveries

	unregister []func()
}

// settings is the immutable part of a breaker, built once per
// configuration by buildConfig and shared by every breaker built from it
// (all the breakers of a Group).
type settings struct {
	tracker      tracker.Tracker
	tripper      *tripNode
	retry        Retry
	permit       Permit
	rand         func() float64
	window       Window
	thresholds   []time.Duration
	hooks        hookSet
	maxHalfOpen  int
	halfOpenWait time.Duration
	halfOpenTO   time.Duration // WithHalfOpenTimeout; 0: off
	needDur      bool          // measure call durations (trippers, hooks or failure durations need them)
	userCode     bool          // user funcs run under mu (TripperFunc, RetryFunc, PermitFunc, WithRand)
	cfgRand      bool          // rand is the WithRand source
	failDur      bool          // record failures with their duration
	register     []func(sdk.Registration) func()
	// cfg is the configuration the settings were built from (without its
	// settings), the base of a Reconfigure.
	cfg config
}

// conf returns the breaker's current settings. Code that runs under b.mu
// reads them there: Reconfigure swaps them under b.mu, so they do not
// change within a critical section.
func (b *Breaker) conf() *settings { return b.cur.Load() }

// rejections are a breaker's half-open and forced-open rejections.
type rejections struct {
	halfOpen, forced rejection
}

// defaultSettings are those of New without options, shared by all such
// breakers.
var defaultSettings = sync.OnceValue(func() *settings {
	cfg := defaultConfig()
	return newSettings(&cfg)
})

func newSettings(cfg *config) *settings {
	s := &settings{
		cfg:          *cfg,
		tracker:      cfg.tracker,
		tripper:      cfg.tripper.n,
		retry:        cfg.retry,
		permit:       cfg.permit,
		rand:         cfg.rand,
		window:       cfg.window,
		thresholds:   cfg.thresholds,
		hooks:        newHookSet(cfg.hooks),
		maxHalfOpen:  cfg.maxHalfOpen,
		halfOpenWait: cfg.halfOpenWait,
		halfOpenTO:   cfg.halfOpenTimeout,
		failDur:      cfg.failDurations,
	}
	s.cfg.s, s.cfg.errs = nil, nil
	for _, h := range cfg.hooks {
		if h.Register != nil {
			s.register = append(s.register, h.Register)
		}
	}
	s.cfgRand = s.rand != nil
	s.userCode = s.rand != nil || cfg.tripper.hasFunc() || cfg.retry.kind == retryFunc || cfg.permit.kind == permitFunc
	if s.rand == nil {
		s.rand = rand.Float64
	}
	s.needDur = cfg.tripper.needsDurations() || len(s.hooks.callEnd) > 0 || s.failDur
	return s
}

// New builds a breaker named name (used in errors, logs and telemetry; keep
// it a static, low-cardinality identifier such as "payments-api").
//
// Without options the breaker uses the package's defaults (see the package
// documentation): CountWindow(100), tracker.All(),
// Closed().And(MinRequests(20).And(FailureRate(0.5))).Or(SuccessesToClose(5)),
// Cooldown(60s, 0), AdmitFirst(RampUp(0.1, 1.0, 60s)), 10 half-open calls
// at once, callers that find every half-open slot taken wait at most 1s for
// one (WithHalfOpenWait), and a half-open breaker whose slots are all held
// by probes that do not report re-opens after 1 minute
// (WithHalfOpenTimeout). WithFluxgateDefaults gives fluxgate's defaults
// instead.
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
// The result holds the settings every breaker built from it shares.
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
	errs = cfg.validate(errs)
	if len(errs) > 0 {
		return nil, &ConfigError{Name: name, Problems: errs}
	}
	if len(opts) == 0 {
		cfg.s = defaultSettings()
	} else {
		cfg.s = newSettings(&cfg)
	}
	return &cfg, nil
}

// validate appends to errs every problem of the configuration, and sets
// the tripper's slow-call thresholds.
func (cfg *config) validate(errs []error) []error {
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
	if cfg.halfOpenWait < 0 {
		errs = append(errs, fmt.Errorf("WithHalfOpenWait(%s): must not be negative", cfg.halfOpenWait))
	}
	if cfg.halfOpenTimeout < 0 {
		errs = append(errs, fmt.Errorf("WithHalfOpenTimeout(%s): must not be negative", cfg.halfOpenTimeout))
	}
	if cfg.tripper.n != nil {
		cfg.thresholds = cfg.tripper.slowThresholds()
		if len(cfg.thresholds) > 255 {
			errs = append(errs, fmt.Errorf("tripper has %d distinct SlowRate thresholds; at most 255 are supported", len(cfg.thresholds)))
		}
	}
	return appendErr(errs, validEnforcement(cfg.enforcement))
}

// newBreaker builds a breaker from a validated configuration. key is the
// breaker's key in its Group, empty for New. Breakers built from one cfg
// share its settings; only the mutable state is the breaker's own.
func newBreaker(name, key string, cfg *config) *Breaker {
	s := cfg.s
	if s == nil {
		s = newSettings(cfg)
	}
	now := time.Now()
	b := &Breaker{
		name:       name,
		key:        key,
		changedAt:  now,
		epoch:      now,
		countCalls: cfg.countInFlight,
	}
	b.cur.Store(s)
	b.enforcement.Store(math.Float64bits(cfg.enforcement))
	b.win = s.window.newWindow(s.thresholds, now, s.needDur)
	b.timedWindow.Store(b.win.timed())
	b.stateGen.Store(uint64(sdk.StateClosed))
	for _, f := range s.register {
		if un := safeRegister(f, sdk.Registration{Name: name, Key: key, State: b.state, Window: b.windowSnapshot}); un != nil {
			b.unregister = append(b.unregister, un)
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

// mustBeBuilt panics if b is nil or was not built by New.
func (b *Breaker) mustBeBuilt() {
	if b == nil {
		panic("breaker: call through a nil *Breaker")
	}
	if b.cur.Load() == nil {
		panic("breaker: zero Breaker: build breakers with breaker.New (or a breaker.Group)")
	}
}

// Name returns the name given to New (for a breaker of a Group, the
// group's name).
func (b *Breaker) Name() string {
	b.mustBeBuilt()
	return b.name
}

// Key returns the breaker's key in its Group, or "" for a breaker built by
// New.
func (b *Breaker) Key() string { return b.key }

// State returns the current state. An open breaker whose retry delay has
// passed still reports StateOpen until the next call moves it to half-open.
// A half-open breaker whose half-open timeout has passed with every slot
// held (see WithHalfOpenTimeout) re-opens now, and State reports
// StateOpen.
func (b *Breaker) State() sdk.State {
	st := b.state()
	if st == sdk.StateHalfOpen && b.cur.Load() != nil && b.conf().halfOpenTO > 0 {
		now := time.Now()
		b.mu.Lock()
		if expired, _ := b.expireLocked(now, context.Background()); expired {
			b.deliverLocked()
		} else {
			b.mu.Unlock()
		}
		st = b.state()
	}
	return st
}

// state is the current state, read without moving the breaker.
func (b *Breaker) state() sdk.State { return sdk.State(b.stateGen.Load() & 0xff) }

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
	// RetryAt is, while the breaker is open, when its retry policy expects
	// to let the next call through as a half-open probe, without jitter (as
	// NotPermittedError.RetryAt); the zero time in any other state, and
	// when there is no estimate (Never, RetryFunc).
	RetryAt time.Time
	// Enforcement is the fraction of would-be refusals the breaker
	// enforces: 1 unless set otherwise, 0 in shadow mode (see
	// WithEnforcement).
	Enforcement float64
}

// Info returns a consistent snapshot of the breaker. Like State, it first
// re-opens a half-open breaker whose half-open timeout has passed.
func (b *Breaker) Info() Info {
	b.mustBeBuilt()
	var now time.Time
	if b.timedWindow.Load() || b.conf().halfOpenTO > 0 {
		now = time.Now()
	}
	b.mu.Lock()
	if now.IsZero() && b.conf().halfOpenTO > 0 { // reconfigured meanwhile
		now = time.Now()
	}
	now = b.nowLocked(now)
	expired, _ := b.expireLocked(now, context.Background())
	info := Info{
		Name:                b.name,
		State:               b.state(),
		ChangedAt:           b.changedAt,
		Reopens:             b.reopens,
		ConsecutiveFailures: max(b.streak, 0),
		Metric:              b.win.metric(now).clone(),
		Enforcement:         math.Float64frombits(b.enforcement.Load()),
	}
	if r := b.openErr.Load(); info.State == sdk.StateOpen && r != nil {
		info.RetryAt = r.retryAt
	}
	if expired {
		b.deliverLocked()
	} else {
		b.mu.Unlock()
	}
	return info
}

// Close calls the unregister funcs returned by the Register hooks (for
// example, otelbridge stops reporting this breaker's state). The breaker
// keeps working; Close is idempotent.
func (b *Breaker) Close() {
	b.mustBeBuilt()
	if !b.closed.CompareAndSwap(false, true) {
		return
	}
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
}

// transitionLocked moves the breaker to state to, with fluxgate's
// bookkeeping: reopens grows on half-open→open and is cleared on entering
// closed; the failure streak is cleared on entering half-open or closed;
// the window is reset; the generation grows, so outcomes of calls admitted
// before are dropped, and the half-open slots of the period that ends are
// void (waiters wake and go by the new state). Transitions to the same
// state are not suppressed.
//
// The transition is queued for the StateChange hooks with ctx, the
// context of the call or command that made it; a nil ctx queues it not
// ready (see markReadyLocked). It returns the delivery's sequence number,
// 0 when there are no StateChange hooks.
func (b *Breaker) transitionLocked(to sdk.State, reason sdk.Reason, now time.Time, ctx context.Context) uint64 {
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
	if b.cap != nil {
		b.cap.moved(from, to, reason)
	}
	if to == sdk.StateOpen {
		b.armOpenLocked()
	}
	b.stateGen.Store((sg>>8+1)<<8 | uint64(to))
	b.halfOpen.newPeriodLocked()
	if len(b.conf().hooks.stateChange) == 0 {
		return 0
	}
	return b.queue.pushLocked(delivery{ctx: ctx, ready: ctx != nil,
		tr: sdk.Transition{Name: b.name, Key: b.key, From: from, To: to, Reason: reason, Window: counts, At: now}})
}

// armOpenLocked sets the rejection error and the lock-free refusal
// deadline of the open breaker, from the retry policy and the time it
// opened (changedAt).
func (b *Breaker) armOpenLocked() {
	r := b.conf().retry
	var at time.Time
	if d := r.Delay(b.reopens); d >= 0 {
		at = b.changedAt.Add(d)
	}
	b.openErr.Store(newNotPermitted(b.name, b.key, sdk.StateOpen, at).r)
	until := int64(math.MinInt64) // always ask the retry policy
	if lo := r.minDelay(b.reopens); lo > 0 {
		until = int64(b.changedAt.Sub(b.epoch)) + int64(lo)
		if until < 0 { // overflow (Never)
			until = math.MaxInt64
		}
	}
	b.openUntil.Store(until)
}

// nowLocked returns now, or the time if now is zero and the window, as
// it is now, needs it; b.mu is held.
func (b *Breaker) nowLocked(now time.Time) time.Time {
	if now.IsZero() && b.timedWindow.Load() {
		return time.Now()
	}
	return now
}

// record is the window record of an outcome, by the settings s.
func (s *settings) record(success bool, dur time.Duration) record {
	r := record{ok: success}
	if success || s.failDur {
		r.dur = dur
		for _, th := range s.thresholds {
			if dur < th {
				break
			}
			r.slow++
		}
	}
	return r
}

// manual performs a manual command and reports its transition.
func (b *Breaker) manual(ctx context.Context, to sdk.State) {
	b.mustBeBuilt()
	if ctx == nil {
		ctx = context.Background()
	}
	now := time.Now()
	b.mu.Lock()
	b.transitionLocked(to, sdk.ReasonManual, now, ctx)
	b.deliverLocked()
}

// Reset moves the breaker to closed, clearing its window, re-open count and
// failure streak, whatever its state (closed included). ctx is passed to
// the StateChange hooks, so a span in it gets the transition event.
// Callers waiting for a half-open slot go on at once by the new state.
func (b *Breaker) Reset(ctx context.Context) { b.manual(ctx, sdk.StateClosed) }

// Disable moves the breaker to disabled: every call passes through and
// nothing is recorded, until another manual command.
func (b *Breaker) Disable(ctx context.Context) { b.manual(ctx, sdk.StateDisabled) }

// MetricsOnly moves the breaker to metrics_only: every call passes through
// and is recorded, but the breaker never trips, until another manual
// command. To see what a rule would refuse while refusing nothing, use
// shadow mode instead (WithEnforcement(0)): the breaker then trips, opens
// and probes as usual.
func (b *Breaker) MetricsOnly(ctx context.Context) { b.manual(ctx, sdk.StateMetricsOnly) }

// ForceOpen moves the breaker to forced_open: every call is refused, until
// another manual command.
func (b *Breaker) ForceOpen(ctx context.Context) { b.manual(ctx, sdk.StateForcedOpen) }

// settle applies the end of an admitted call under one lock: it gives back
// the call's half-open slot, if the slot still belongs to the current
// half-open period, and, if rec, records the outcome: the failure streak,
// the window, the tripper and the transition it calls for (queued with
// cctx). An outcome of a call admitted before the last transition is
// dropped (stale is true). If the outcome makes a transition and info is
// not nil, the call's CallEnd (info) is queued right behind it, so that
// the goroutine that delivers the transition delivers the CallEnd next.
func (b *Breaker) settle(cctx context.Context, t *ticket, rec, success bool, dur time.Duration, info *sdk.CallEnd) (stale bool) {
	if !rec && !t.slot {
		return false
	}
	var now time.Time
	if rec && b.timedWindow.Load() {
		now = time.Now()
	}
	s := b.conf()
	var r record
	if rec {
		r = s.record(success, dur)
	}
	b.mu.Lock()
	if rec {
		if cur := b.conf(); cur != s { // reconfigured meanwhile
			s = cur
			r = s.record(success, dur)
			now = b.nowLocked(now)
		}
	}
	current := b.stateGen.Load() == t.sg
	if t.slot {
		t.slot = false
		if current {
			b.halfOpen.releaseLocked()
		}
	}
	if !rec || !current {
		b.mu.Unlock()
		return rec
	}
	t.recorded = true
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
		if s.userCode {
			trip = b.tripGuarded(&c)
		} else {
			trip = s.tripper.trip(&c)
		}
		var seq uint64
		switch {
		case t.state == sdk.StateClosed && trip:
			if b.cap != nil && !b.cap.tryOpen() {
				b.cappedLocked(t, &c, now)
				break
			}
			seq = b.transitionLocked(sdk.StateOpen, sdk.ReasonTripped, now, cctx)
		case t.state == sdk.StateHalfOpen && success && !trip:
			seq = b.transitionLocked(sdk.StateClosed, sdk.ReasonRecovered, now, cctx)
		case t.state == sdk.StateHalfOpen && !success && trip:
			seq = b.transitionLocked(sdk.StateOpen, sdk.ReasonReopened, now, cctx)
		}
		if seq != 0 {
			t.seq = seq
			if info != nil && !t.ended && len(s.hooks.callEnd) > 0 {
				e := *info
				b.queue.pushLocked(delivery{ctx: cctx, end: &e, ready: true})
				t.ended = true
			}
		}
	}
	b.mu.Unlock()
	return false
}
