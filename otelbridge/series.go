package otelbridge

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fluxgate/fluxgate/sdk"
)

// series holds the metric attribute sets of one series identity: a
// breaker name, and its key unless the key is left off metrics. Breakers
// with the same identity share one series. Each set is built on first use
// and read without a lock afterwards, wrapped in the option slice that the
// instruments take, so that no call builds any of them.
type series struct {
	name string
	key  string // "" when the key is off metrics
	cfg  *config
	base []attribute.KeyValue // the user's metric attributes, name, key

	// The sets of circuit_breaker.calls and call.duration are indexed
	// first by would-reject (0: an ordinary call, 1: a call the breaker
	// would have refused and let through).
	callsOK [2][sdk.NumStates]atomic.Pointer[[]metric.AddOption]
	// The tables of the duration and transition sets are allocated at
	// their first use, so that a series that never sees one costs nothing
	// for them.
	duration    [2]atomic.Pointer[durationTable]
	transitions atomic.Pointer[transitionTable]
	// capped and reconfigs are the options of circuit_breaker.trips_capped
	// and circuit_breaker.reconfigurations, built on first use.
	capped, reconfigs atomic.Pointer[[]metric.AddOption]
	stateObs          [sdk.NumStates][]metric.ObserveOption
	windowObs         []metric.ObserveOption

	// errTypes maps an error.type value to its sets; nil until the first
	// error. It is replaced, never changed, under errMu.
	errTypes atomic.Pointer[map[string]*errTypeTel]
	other    *errTypeTel // the sets of _OTHER; built with errTypes

	// errMu guards errCount, overflowed, the replacement of errTypes and
	// slowObs.
	errMu      sync.Mutex
	errCount   int  // distinct values that count against the limit
	overflowed bool // the overflow has been reported
	slowObs    map[time.Duration][]metric.ObserveOption

	// refs counts the breaker telemetries that use this series; guarded
	// by bridge.mu.
	refs int
}

type (
	durationTable   [sdk.NumStates][numOutcomes][numDecisions]atomic.Pointer[[]metric.RecordOption]
	transitionTable [sdk.NumStates][sdk.NumStates]atomic.Pointer[[]metric.AddOption]
)

// table returns the table in p, allocating it on first use.
func table[T any](p *atomic.Pointer[T]) *T {
	if t := p.Load(); t != nil {
		return t
	}
	p.CompareAndSwap(nil, new(T))
	return p.Load()
}

// errTypeTel holds the circuit_breaker.calls attribute sets that carry one
// error.type value, built on first use: [would-reject][state][error,
// rejected][decision].
type errTypeTel struct {
	kv    attribute.KeyValue
	calls [2][sdk.NumStates][2][numDecisions]atomic.Pointer[[]metric.AddOption]
}

// wi is the would-reject index of the tables.
func wi(would bool) int {
	if would {
		return 1
	}
	return 0
}

// withWould appends the would_reject attribute to kvs when would is set.
func withWould(would bool, kvs ...attribute.KeyValue) []attribute.KeyValue {
	if would {
		return append(kvs, wouldRejectKV)
	}
	return kvs
}

func newSeries(cfg *config, name, key string) *series {
	base := make([]attribute.KeyValue, 0, len(cfg.metricAttrs)+2)
	base = append(base, cfg.metricAttrs...)
	base = append(base, NameKey.String(name))
	if key != "" {
		base = append(base, KeyKey.String(key))
	}
	s := &series{name: name, key: key, cfg: cfg, base: base}
	for _, st := range sdk.States() {
		s.stateObs[st] = []metric.ObserveOption{metric.WithAttributeSet(s.set(stateValues[st]))}
	}
	s.windowObs = []metric.ObserveOption{metric.WithAttributeSet(s.set())}
	return s
}

// set returns the attribute set of the series' base attributes and kvs
// (the bridge's attributes win over the user's).
func (s *series) set(kvs ...attribute.KeyValue) attribute.Set {
	all := make([]attribute.KeyValue, 0, len(s.base)+len(kvs))
	all = append(all, s.base...)
	all = append(all, kvs...)
	return attribute.NewSet(all...)
}

func addOpts(set attribute.Set) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(set)}
}

func recordOpts(set attribute.Set) []metric.RecordOption {
	return []metric.RecordOption{metric.WithAttributeSet(set)}
}

// lazyAdd stores the options of set in slot unless another goroutine was
// first, and returns those in slot. Callers load slot first, so that the
// fast path builds no closure.
func lazyAdd(slot *atomic.Pointer[[]metric.AddOption], set func() attribute.Set) []metric.AddOption {
	if p := slot.Load(); p != nil {
		return *p
	}
	opts := addOpts(set())
	slot.CompareAndSwap(nil, &opts)
	return *slot.Load()
}

func (s *series) successOpts(st sdk.State, would bool) []metric.AddOption {
	if !st.Valid() {
		return addOpts(s.set(withWould(would, stateKV(st), outcomeValues[sdk.OutcomeSuccess])...))
	}
	slot := &s.callsOK[wi(would)][st]
	if p := slot.Load(); p != nil {
		return *p
	}
	return lazyAdd(slot, func() attribute.Set {
		return s.set(withWould(would, stateValues[st], outcomeValues[sdk.OutcomeSuccess])...)
	})
}

func (s *series) durationSet(st sdk.State, o sdk.Outcome, d sdk.Decision, would bool) attribute.Set {
	if d == sdk.DecisionNone {
		return s.set(withWould(would, stateKV(st), outcomeKV(o))...)
	}
	return s.set(withWould(would, stateKV(st), outcomeKV(o), decisionKV(d))...)
}

func (s *series) durationOpts(st sdk.State, o sdk.Outcome, d sdk.Decision, would bool) []metric.RecordOption {
	if !st.Valid() || int(o) >= numOutcomes || int(d) >= numDecisions {
		return recordOpts(s.durationSet(st, o, d, would))
	}
	slot := &table(&s.duration[wi(would)])[st][o][d]
	if p := slot.Load(); p != nil {
		return *p
	}
	opts := recordOpts(s.durationSet(st, o, d, would))
	slot.CompareAndSwap(nil, &opts)
	return *slot.Load()
}

func (s *series) transitionOpts(from, to sdk.State) []metric.AddOption {
	if !from.Valid() || !to.Valid() {
		return addOpts(s.set(prevStateKV(from), stateKV(to)))
	}
	slot := &table(&s.transitions)[from][to]
	if p := slot.Load(); p != nil {
		return *p
	}
	return lazyAdd(slot, func() attribute.Set { return s.set(prevStateValues[from], stateValues[to]) })
}

// slowOpts returns the observe options of the slow_rate series of
// threshold; called at collection only.
func (s *series) slowOpts(threshold time.Duration) []metric.ObserveOption {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if o, ok := s.slowObs[threshold]; ok {
		return o
	}
	o := []metric.ObserveOption{metric.WithAttributeSet(s.set(SlowThresholdKey.Float64(threshold.Seconds())))}
	if s.slowObs == nil {
		s.slowObs = map[time.Duration][]metric.ObserveOption{}
	}
	if len(s.slowObs) < maxSlowThresholds {
		s.slowObs[threshold] = o
	}
	return o
}

// maxSlowThresholds bounds the cached slow_rate sets of a series; a breaker
// has a few thresholds, fixed by its configuration.
const maxSlowThresholds = 64

// maxErrTypeKeys bounds the keys of errTypes, including those that map to
// _OTHER after the limit.
func (s *series) maxErrTypeKeys() int { return 4*s.cfg.errorTypeLimit + 64 }

// errType returns the sets of the error.type value v, or those of _OTHER
// once the series has seen its limit of distinct values.
func (s *series) errType(v string) *errTypeTel {
	if m := s.errTypes.Load(); m != nil {
		if e, ok := (*m)[v]; ok {
			return e
		}
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.other == nil {
		s.other = &errTypeTel{kv: ErrorTypeKey.String(ErrorTypeOther)}
		m := map[string]*errTypeTel{ErrorTypeOther: s.other}
		s.errTypes.Store(&m)
	}
	old := *s.errTypes.Load()
	if e, ok := old[v]; ok {
		return e
	}
	var e *errTypeTel
	switch {
	case builtinErrorTypes[v]:
		e = &errTypeTel{kv: ErrorTypeKey.String(v)}
	case s.errCount < s.cfg.errorTypeLimit:
		s.errCount++
		e = &errTypeTel{kv: ErrorTypeKey.String(v)}
	default:
		e = s.other
		if !s.overflowed {
			s.overflowed = true
			otel.Handle(fmt.Errorf("otelbridge: breaker %s has more than %d distinct error.type values; reporting %q (and any further new value) as %q",
				s.describe(), s.cfg.errorTypeLimit, v, ErrorTypeOther))
		}
		if len(old) >= s.maxErrTypeKeys() {
			return e
		}
	}
	m := make(map[string]*errTypeTel, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[v] = e
	s.errTypes.Store(&m)
	return e
}

// describe names the series in messages.
func (s *series) describe() string {
	if s.key == "" {
		return fmt.Sprintf("%q", s.name)
	}
	return fmt.Sprintf("%q (key %q)", s.name, s.key)
}

// callsErr returns the circuit_breaker.calls options of an error or a
// rejection with the error.type of e, building them on first use.
func (s *series) callsErr(e *errTypeTel, st sdk.State, o sdk.Outcome, d sdk.Decision, would bool) []metric.AddOption {
	oi := 0
	if o == sdk.OutcomeRejected {
		oi = 1
	}
	if !st.Valid() || int(d) >= numDecisions {
		return addOpts(s.errSet(e, st, o, d, would))
	}
	slot := &e.calls[wi(would)][st][oi][d]
	if p := slot.Load(); p != nil {
		return *p
	}
	return lazyAdd(slot, func() attribute.Set { return s.errSet(e, st, o, d, would) })
}

func (s *series) errSet(e *errTypeTel, st sdk.State, o sdk.Outcome, d sdk.Decision, would bool) attribute.Set {
	if o == sdk.OutcomeRejected || d == sdk.DecisionNone {
		return s.set(withWould(would, stateKV(st), outcomeKV(o), e.kv)...)
	}
	return s.set(withWould(would, stateKV(st), outcomeKV(o), decisionKV(d), e.kv)...)
}

// cappedOpts are the options of circuit_breaker.trips_capped.
func (s *series) cappedOpts() []metric.AddOption {
	if p := s.capped.Load(); p != nil {
		return *p
	}
	return lazyAdd(&s.capped, func() attribute.Set { return s.set() })
}

// reconfigOpts are the options of circuit_breaker.reconfigurations.
func (s *series) reconfigOpts() []metric.AddOption {
	if p := s.reconfigs.Load(); p != nil {
		return *p
	}
	return lazyAdd(&s.reconfigs, func() attribute.Set { return s.set() })
}
