package otelbridge

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"
	"weak"

	"go.opentelemetry.io/otel/metric"

	"github.com/fluxgate/fluxgate/sdk"
)

// registration is one registered breaker. Only the unregister func that
// Register returned holds it strongly (the breaker keeps that func until
// Close); the bridge's list holds it weakly, so that a breaker dropped
// without Close is collected, and a cleanup then removes its entry.
type registration struct {
	tel    *breakerTel
	state  func() sdk.State
	window func() sdk.WindowSnapshot
	entry  *regEntry
	done   bool // unregistered; guarded by bridge.mu
}

// regEntry is the bridge's entry for a registration.
type regEntry struct {
	reg     weak.Pointer[registration]
	tel     *breakerTel
	cleanup runtime.Cleanup
	idx     int // in bridge.regs, -1 once removed; guarded by bridge.regsMu
}

// maxUnreferenced bounds the breaker telemetries kept for identities
// without a registration (hooks driven by hand, a breaker used after its
// Close); beyond it such calls build their telemetry afresh.
const maxUnreferenced = 1024

// tel returns the telemetry of the breaker identity, creating it on first
// use.
func (b *bridge) tel(name, key string) *breakerTel {
	k := telKey{name, key}
	if t, ok := b.tels.Load(k); ok {
		return t.(*breakerTel)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, stored := b.telLocked(k, false)
	if !stored {
		b.releaseSeriesLocked(t.series)
	}
	return t
}

// telLocked returns the telemetry of k, creating it if needed; it is stored
// (and reported as stored) if it has or gets a registration, or if there is
// room for one more without.
func (b *bridge) telLocked(k telKey, registering bool) (*breakerTel, bool) {
	if t, ok := b.tels.Load(k); ok {
		return t.(*breakerTel), true
	}
	t := newBreakerTel(&b.cfg, k, b.seriesLocked(k))
	if !registering {
		if b.unreferenced >= maxUnreferenced {
			return t, false
		}
		b.unreferenced++
	}
	b.tels.Store(k, t)
	return t, true
}

// seriesLocked returns the series of the breaker identity k, counting one
// more user of it.
func (b *bridge) seriesLocked(k telKey) *series {
	switch {
	case !b.cfg.keyOnMetrics:
		k.key = ""
	case k.key != "":
		k.key = b.metricKeyLocked(k.name, k.key)
	}
	s, ok := b.series[k]
	if !ok {
		s = newSeries(&b.cfg, k.name, k.key)
		b.series[k] = s
	}
	s.refs++
	return s
}

func (b *bridge) releaseSeriesLocked(s *series) {
	s.refs--
	if s.refs == 0 {
		delete(b.series, telKey{s.name, s.key})
	}
}

// dropTelLocked forgets t once nothing refers to it.
func (b *bridge) dropTelLocked(t *breakerTel) {
	if !b.tels.CompareAndDelete(t.telKey, t) {
		return
	}
	b.releaseSeriesLocked(t.series)
}

// register adds a breaker to those the observable instruments report. The
// returned func undoes that; it is the only strong reference the bridge
// hands out to the registration.
func (b *bridge) register(r sdk.Registration) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := telKey{r.Name, r.Key}
	var t *breakerTel
	if v, ok := b.tels.Load(k); ok {
		t = v.(*breakerTel)
		if t.refs == 0 {
			b.unreferenced-- // kept without a registration until now
		}
	} else {
		t, _ = b.telLocked(k, true)
	}
	t.refs++
	reg := &registration{tel: t, state: r.State, window: r.Window}
	if reg.state != nil || reg.window != nil {
		e := &regEntry{reg: weak.Make(reg), tel: t}
		e.cleanup = runtime.AddCleanup(reg, b.collected, e)
		reg.entry = e
		b.regsMu.Lock()
		e.idx = len(b.regs)
		b.regs = append(b.regs, e)
		b.regsMu.Unlock()
		b.nregs++
		if b.callback == nil {
			cb, err := b.meter.RegisterCallback(b.observe, b.state, b.windowCalls, b.failureRate, b.slowRate, b.failureStreak)
			handle(err)
			b.callback = cb
		}
	}
	return func() { b.unregister(reg) }
}

func (b *bridge) unregister(reg *registration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if reg.done {
		return
	}
	reg.done = true
	if reg.entry != nil {
		reg.entry.cleanup.Stop()
		b.removeEntryLocked(reg.entry)
	}
	b.releaseTelLocked(reg.tel)
}

// collected runs once a registration was garbage-collected without its
// unregister func having run: the breaker was dropped without Close.
func (b *bridge) collected(e *regEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removeEntryLocked(e)
	b.releaseTelLocked(e.tel)
}

func (b *bridge) releaseTelLocked(t *breakerTel) {
	t.refs--
	if t.refs == 0 {
		b.dropTelLocked(t)
	}
}

func (b *bridge) removeEntryLocked(e *regEntry) {
	b.regsMu.Lock()
	removed := e.idx >= 0
	if removed {
		last := len(b.regs) - 1
		b.regs[e.idx] = b.regs[last]
		b.regs[e.idx].idx = e.idx
		b.regs[last] = nil
		b.regs = b.regs[:last]
		e.idx = -1
	}
	b.regsMu.Unlock()
	if !removed {
		return
	}
	b.nregs--
	if b.nregs == 0 && b.callback != nil {
		handle(b.callback.Unregister())
		b.callback = nil
	}
}

// seriesObs is what observe adds up for one series over the breakers that
// report to it.
type seriesObs struct {
	states   [sdk.NumStates]int64
	state    bool // some breaker of the series reports its state
	window   bool // some breaker of the series gave a window snapshot
	calls    int64
	failures int64
	streak   int64 // the longest streak among the breakers
	slow     map[time.Duration]int64
}

// observe reports the observable instruments of every registered breaker,
// added up per series: for circuit_breaker.state every state, the number
// of breakers in it (1 or 0 for a breaker of its own series); the window
// gauges from the breakers' window snapshots.
func (b *bridge) observe(_ context.Context, o metric.Observer) error {
	b.regsMu.Lock()
	entries := slices.Clone(b.regs)
	b.regsMu.Unlock()
	byseries := make(map[*series]*seriesObs, len(entries))
	order := make([]*series, 0, len(entries))
	for _, e := range entries {
		reg := e.reg.Value()
		if reg == nil {
			continue // collected; its cleanup removes the entry
		}
		s := e.tel.series
		so := byseries[s]
		if so == nil {
			so = &seriesObs{}
			byseries[s] = so
			order = append(order, s)
		}
		if reg.state != nil {
			if st, ok := readState(reg); ok {
				so.state = true
				if st.Valid() {
					so.states[st]++
				}
			}
		}
		if reg.window != nil {
			w, ok := readWindow(reg)
			if !ok {
				continue
			}
			so.window = true
			so.calls += int64(w.Calls)
			so.failures += int64(w.Failures)
			so.streak = max(so.streak, int64(w.ConsecutiveFailures))
			for _, sc := range w.Slow {
				if so.slow == nil {
					so.slow = map[time.Duration]int64{}
				}
				so.slow[sc.Threshold] += int64(sc.Calls)
			}
		}
	}
	for _, s := range order {
		so := byseries[s]
		if so.state {
			for _, st := range sdk.States() {
				o.ObserveInt64(b.state, so.states[st], s.stateObs[st]...)
			}
		}
		if !so.window {
			continue
		}
		o.ObserveInt64(b.windowCalls, so.calls, s.windowObs...)
		o.ObserveInt64(b.failureStreak, so.streak, s.windowObs...)
		if so.calls > 0 {
			o.ObserveFloat64(b.failureRate, float64(so.failures)/float64(so.calls), s.windowObs...)
			for th, n := range so.slow {
				o.ObserveFloat64(b.slowRate, float64(n)/float64(so.calls), s.slowOpts(th)...)
			}
		}
	}
	return nil
}

// readState calls the registration's State func; a panic is reported
// through otel.Handle, and the breaker's state is then left out of this
// collection.
func readState(reg *registration) (st sdk.State, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			reg.tel.reportOnce(fmt.Errorf("otelbridge: reading the state of breaker %q panicked (reported once per breaker): %v", reg.tel.name, r))
		}
	}()
	return reg.state(), true
}

// readWindow calls the registration's Window func, as readState does.
func readWindow(reg *registration) (w sdk.WindowSnapshot, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			reg.tel.reportOnce(fmt.Errorf("otelbridge: reading the window of breaker %q panicked (reported once per breaker): %v", reg.tel.name, r))
		}
	}()
	return reg.window(), true
}
