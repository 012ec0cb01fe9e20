package breaker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Reconfigure changes the breaker's settings while it serves calls: opts
// are the options of [New], applied on top of the breaker's current
// settings. It can change the window, tracker, tripper, retry policy,
// permit (such as [AdmitFirst] of another permit), half-open limits
// ([WithMaxHalfOpenCalls], [WithHalfOpenWait], [WithHalfOpenTimeout]),
// [WithFailureDurations], [WithRand] and [WithEnforcement];
// [WithFluxgateDefaults] switches a running breaker to fluxgate's
// components.
//
// The whole new configuration is validated first: if any part is invalid,
// or an option cannot change at run time ([WithHooks], and the options of
// [NewGroup]), Reconfigure returns one [*ConfigError] listing every problem
// and changes nothing.
//
// Otherwise the new settings replace the old ones at once, for every call
// that decides anything afterwards, and:
//
//   - the state, the failure streak and the re-open count are kept: the
//     new rules decide from the next outcome (the tripper) or the next
//     call (the retry policy and the permit). An open breaker's retry
//     time is computed again by the new retry policy, from the time it
//     opened.
//   - the window is kept, with its contents, when its kind and size, the
//     tripper's SlowRate thresholds and the need to store durations are
//     unchanged; otherwise it is replaced by an empty one (as a
//     transition would empty it, without a transition).
//   - the hooks and their registrations are kept, so telemetry series
//     continue. Calls in flight end by the settings they were admitted
//     under for their hooks and duration, and by the new ones for their
//     outcome.
//   - a half-open breaker whose slot limit grew wakes the callers waiting
//     for a slot; one whose limit shrank admits no new probe until enough
//     probes in flight have ended.
//
// A reconfiguration that changes something is reported to the
// Reconfigured hooks ([sdk.Reconfiguration], listing what changed) with
// ctx (nil means context.Background()); otelbridge counts it in
// circuit_breaker.reconfigurations and adds an event to the span in ctx.
// Reconfigure is safe for concurrent use with calls, manual commands and
// other reconfigurations (each applies its options on top of the one
// before); the hot path reads the settings with one atomic load and takes
// no lock for them.
//
// A breaker of a [Group] may be reconfigured on its own; [Group.Reconfigure]
// later replaces its settings again, and a key evicted and built anew gets
// the group's.
func (b *Breaker) Reconfigure(ctx context.Context, opts ...Option) error {
	b.mustBeBuilt()
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		old := b.conf()
		cfg, err := reconfigured(b.name, &old.cfg, b.Enforcement(), opts)
		if err != nil {
			return err
		}
		if b.apply(ctx, cfg, old) {
			return nil
		}
		// Another reconfiguration came first: apply opts on top of it.
	}
}

// reconfigured applies opts on top of base (whose enforcement is now
// enforcement) and validates the result, whose settings it builds; it
// returns a *ConfigError naming every problem.
func reconfigured(name string, base *config, enforcement float64, opts []Option) (*config, error) {
	cfg := *base
	cfg.hooks, cfg.errs, cfg.s = nil, nil, nil
	cfg.enforcement = enforcement
	var errs []error
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.apply(&cfg)
	}
	if len(cfg.hooks) > 0 {
		errs = append(errs, errors.New("WithHooks: hooks cannot change at run time (build a new breaker)"))
	}
	cfg.hooks = base.hooks
	errs = cfg.validate(errs)
	if len(errs) > 0 {
		return nil, &ConfigError{Name: name, Problems: errs}
	}
	cfg.s = newSettings(&cfg)
	return &cfg, nil
}

// apply puts the validated configuration cfg in place and reports what
// changed. If base is not nil and the breaker's settings are no longer
// base (another reconfiguration came first), it changes nothing and
// returns false.
func (b *Breaker) apply(ctx context.Context, cfg *config, base *settings) bool {
	s := cfg.s
	now := time.Now()
	b.mu.Lock()
	old := b.conf()
	if base != nil && old != base {
		b.mu.Unlock()
		return false
	}
	changes := diff(&old.cfg, cfg, b.Enforcement())
	if len(changes) == 0 {
		b.mu.Unlock()
		return true
	}
	replace := !sameWindow(old, s)
	if replace {
		b.win = s.window.newWindow(s.thresholds, now, s.needDur)
		b.timedWindow.Store(b.win.timed())
	}
	b.cur.Store(s)
	b.enforcement.Store(math.Float64bits(cfg.enforcement))
	if b.state() == sdk.StateOpen {
		b.armOpenLocked()
	}
	if old.maxHalfOpen != s.maxHalfOpen {
		// A lower limit may leave every slot taken with no take that
		// filled the last one: the half-open timeout counts from now.
		b.halfOpen.lastAt = now
	}
	b.halfOpen.wakeLocked() // waiters look again, by the new slot limit
	b.mu.Unlock()
	if len(s.hooks.reconfig) > 0 {
		s.hooks.reconfigured(ctx, sdk.Reconfiguration{Name: b.name, Key: b.key, Changes: changes, WindowReplaced: replace, At: now})
	}
	return true
}

// sameWindow reports whether the window built for a can serve b.
func sameWindow(a, b *settings) bool {
	return a.window.kind == b.window.kind && a.window.size == b.window.size &&
		slices.Equal(a.thresholds, b.thresholds) && a.needDur == b.needDur
}

// diff lists the settings that differ between old (whose enforcement is
// now enforcement) and cfg.
func diff(old, cfg *config, enforcement float64) []sdk.Change {
	var cs []sdk.Change
	add := func(setting, from, to string, differ bool) {
		if differ || from != to {
			cs = append(cs, sdk.Change{Setting: setting, From: from, To: to})
		}
	}
	add("window", old.window.String(), cfg.window.String(), false)
	add("tracker", describeTracker(old.tracker), describeTracker(cfg.tracker), !sameTracker(old.tracker, cfg.tracker))
	add("tripper", old.tripper.String(), cfg.tripper.String(),
		(old.tripper.hasFunc() || cfg.tripper.hasFunc()) && old.tripper.n != cfg.tripper.n)
	add("retry", old.retry.String(), cfg.retry.String(), !sameFunc(old.retry.fn, cfg.retry.fn))
	add("permit", old.permit.String(), cfg.permit.String(), !sameFunc(old.permit.fn, cfg.permit.fn))
	add("max_half_open_calls", strconv.Itoa(old.maxHalfOpen), strconv.Itoa(cfg.maxHalfOpen), false)
	add("half_open_wait", old.halfOpenWait.String(), cfg.halfOpenWait.String(), false)
	add("half_open_timeout", old.halfOpenTimeout.String(), cfg.halfOpenTimeout.String(), false)
	add("failure_durations", strconv.FormatBool(old.failDurations), strconv.FormatBool(cfg.failDurations), false)
	add("rand", describeRand(old.rand), describeRand(cfg.rand), !sameFunc(old.rand, cfg.rand))
	add("enforcement", fmtFloat(enforcement), fmtFloat(cfg.enforcement), false)
	return cs
}

func describeTracker(t tracker.Tracker) string {
	if s, ok := t.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", t)
}

// sameTracker reports whether a and b are the same tracker value; values
// of a type that == cannot compare are taken as different.
func sameTracker(a, b tracker.Tracker) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

func describeRand(f func() float64) string {
	if f == nil {
		return "default"
	}
	return "WithRand"
}

// sameFunc reports whether a and b are both nil or the same func.
func sameFunc[F any](a, b F) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.IsNil() || vb.IsNil() {
		return va.IsNil() == vb.IsNil()
	}
	return va.Pointer() == vb.Pointer()
}
