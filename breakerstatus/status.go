package breakerstatus

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Schema is the value of [Status.Schema]: the name and major version of
// the JSON document the handler serves. Fields may be added within a
// version; none is removed or changes meaning.
const Schema = "fluxgate.breakerstatus/v1"

// Status is the whole status document: what the page shows, and what the
// handler serves as JSON (see docs/status-page.md for the schema).
type Status struct {
	// Schema is [Schema].
	Schema string `json:"schema"`
	// GeneratedAt is when the document was built.
	GeneratedAt time.Time `json:"generated_at"`
	// Commands reports whether the handler accepts commands (it was given
	// an authorisation func); false means the page is read-only.
	Commands bool `json:"commands"`
	// Breakers are the breakers given to [Registry.Add], by name.
	Breakers []Breaker `json:"breakers"`
	// Groups are the groups given to [Registry.AddGroup], by name.
	Groups []Group `json:"groups"`
	// Recent are the last transitions of every breaker the registry's
	// hooks saw, newest first (at most [WithRecentTransitions]).
	Recent []Transition `json:"recent_transitions"`
	// Untracked counts the breakers whose history the registry refused to
	// keep, since it was built, because it was at its [WithMaxTracked]
	// limit.
	Untracked int `json:"untracked"`
}

// Group is a [breaker.Group] in a [Status].
type Group struct {
	// Name is the group's name (the name of each of its breakers).
	Name string `json:"name"`
	// Keys is the number of keys that have a breaker of their own
	// ([breaker.Group.Len]); the overflow breaker is not counted.
	Keys int `json:"keys"`
	// Breakers are the group's breakers, the overflow breaker included
	// (Overflow set): those not closed first, then by key; at most
	// [WithMaxKeysListed].
	Breakers []Breaker `json:"breakers"`
	// Omitted is how many of the group's breakers are not listed.
	Omitted int `json:"omitted"`
	// MaxOpenFraction is the group's cap on open keys as a share of its
	// keys ([breaker.WithMaxOpenFraction]); 1 means no cap.
	MaxOpenFraction float64 `json:"max_open_fraction"`
	// HasCap reports whether the group caps its open keys
	// (MaxOpenFraction below 1).
	HasCap bool `json:"has_cap"`
	// MaxOpenKeys is how many of its breakers may be open at once now
	// ([breaker.Group.MaxOpenKeys]); null when the group has no cap.
	MaxOpenKeys *int `json:"max_open_keys"`
	// OpenKeys is how many of its breakers count against the cap now:
	// open, half_open or forced_open, the overflow breaker included
	// ([breaker.Group.OpenKeys]). It is counted whether or not the group
	// has a cap, and may exceed MaxOpenKeys after keys were forced open.
	OpenKeys int `json:"open_keys"`
	// TripsCapped is how many trips of its keys the cap refused since the
	// group was built ([breaker.Group.TripsCapped]).
	TripsCapped int64 `json:"trips_capped"`
}

// Breaker is one breaker in a [Status].
type Breaker struct {
	// Name is the breaker's name.
	Name string `json:"name"`
	// Key is the breaker's key in its group; "" for a breaker of New.
	Key string `json:"key"`
	// Overflow reports whether this is its group's overflow breaker, which
	// keys share when the group is full ([breaker.OverflowKey]).
	Overflow bool `json:"overflow,omitempty"`
	// State is the current state: closed, open, half_open, metrics_only,
	// disabled or forced_open.
	State string `json:"state"`
	// Since is when the breaker entered State (or was built).
	Since time.Time `json:"since"`
	// SinceSeconds is how long it has been in State, in seconds, as of
	// [Status.GeneratedAt].
	SinceSeconds float64 `json:"since_seconds"`
	// Window holds the figures of the breaker's window.
	Window Window `json:"window"`
	// ConsecutiveFailures is the current streak of counted failures.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// Reopens is the number of half-open→open transitions since the
	// breaker last closed.
	Reopens int `json:"reopens"`
	// Enforcement is the fraction, from 0 to 1, of the calls the breaker
	// would refuse that it does refuse ([breaker.WithEnforcement]); 0 is
	// shadow mode.
	Enforcement float64 `json:"enforcement"`
	// EnforcementMode names Enforcement: see the Enforcement* constants.
	EnforcementMode string `json:"enforcement_mode"`
	// Probe says when the breaker admits its next probe call; see the
	// Probe* constants.
	Probe string `json:"probe"`
	// ProbeAt is, for Probe "at", when the retry policy expects to let the
	// next call through (without jitter).
	ProbeAt *time.Time `json:"probe_at,omitempty"`
	// LastCountedError is the last call whose error counted against the
	// breaker, as the registry's hooks saw it. A call that an enforcement
	// below 1 let through while the breaker would have refused it counts
	// for nothing, and is not shown.
	LastCountedError *Cause `json:"last_counted_error,omitempty"`
	// Recording reports whether the registry's hooks record this breaker's
	// history (it was built with them, and the registry had room); without
	// it Transitions and LastCountedError stay empty.
	Recording bool `json:"recording"`
	// Transitions are the breaker's last transitions, newest first (at
	// most [WithTransitionsPerBreaker]).
	Transitions []Transition `json:"transitions"`
}

// The values of [Breaker.Probe].
const (
	// ProbePassing: the breaker is closed, metrics_only or disabled; calls
	// pass, there is nothing to probe.
	ProbePassing = "passing"
	// ProbeAt: open; the retry policy expects to let a call through at
	// ProbeAt.
	ProbeAt = "at"
	// ProbeNextCall: open and the retry delay has passed; the next call
	// is the probe.
	ProbeNextCall = "next_call"
	// ProbeUnknown: open, with a retry policy that gives no estimate
	// (Never, RetryFunc).
	ProbeUnknown = "unknown"
	// ProbeNow: half_open; probes are being admitted.
	ProbeNow = "now"
	// ProbeManual: forced_open; only a command lets calls through.
	ProbeManual = "manual"
)

// The values of [Breaker.EnforcementMode].
const (
	// EnforcementFull: enforcement 1; the breaker refuses every call it
	// would refuse (the default).
	EnforcementFull = "enforcing"
	// EnforcementPartial: enforcement between 0 and 1; the breaker
	// refuses that fraction of the calls it would refuse.
	EnforcementPartial = "partial"
	// EnforcementShadow: enforcement 0, shadow mode; the breaker runs its
	// state machine and reports what it would refuse, but refuses nothing
	// (except while forced_open).
	EnforcementShadow = "shadow"
)

// enforcementMode names an enforcement.
func enforcementMode(f float64) string {
	switch {
	case f >= 1:
		return EnforcementFull
	case f <= 0:
		return EnforcementShadow
	}
	return EnforcementPartial
}

// Window holds the figures of a breaker's window.
type Window struct {
	// Calls is the number of calls the window holds.
	Calls int `json:"calls"`
	// Failures is the number of them whose error counted.
	Failures int `json:"failures"`
	// FailureRate is Failures/Calls; null when the window is empty.
	FailureRate *float64 `json:"failure_rate"`
	// Slow holds, for each SlowRate threshold of the breaker's tripper
	// that at least one call of the window reached, in ascending order,
	// the calls that took at least that long.
	Slow []Slow `json:"slow"`
}

// Slow is the slow calls of a window at one threshold.
type Slow struct {
	// ThresholdSeconds is the duration from which a call is slow.
	ThresholdSeconds float64 `json:"threshold_seconds"`
	// Calls is how many calls of the window took at least that long.
	Calls int `json:"calls"`
	// Rate is Calls over the window's calls; null when it is empty.
	Rate *float64 `json:"rate"`
}

// Transition is one state transition a registry's hooks saw.
type Transition struct {
	// At is when it happened.
	At time.Time `json:"at"`
	// Name and Key identify the breaker.
	Name string `json:"name"`
	Key  string `json:"key"`
	// From and To are the states before and after.
	From string `json:"from"`
	To   string `json:"to"`
	// Reason is tripped, retry, recovered, reopened or manual (or a
	// reason a later fluxgate adds).
	Reason string `json:"reason"`
	// WindowCalls and WindowFailures are the window's counts just before
	// the transition reset it.
	WindowCalls    int `json:"window_calls"`
	WindowFailures int `json:"window_failures"`
	// Cause is the call whose outcome made the transition (tripped,
	// reopened, recovered), once its CallEnd was seen.
	Cause *Cause `json:"cause,omitempty"`
	// By is who gave the command, for a manual transition made through
	// the handler (what the authorisation func returned).
	By string `json:"by,omitempty"`
}

// Cause describes a call: the one that made a transition, or the last
// whose error counted.
type Cause struct {
	// At is when the call ended.
	At time.Time `json:"at"`
	// Outcome is success or error.
	Outcome string `json:"outcome"`
	// Decision is counted or ignored for an error; empty otherwise.
	Decision string `json:"decision,omitempty"`
	// Rule is the label of the tracker rule that decided, if any.
	Rule string `json:"rule,omitempty"`
	// ErrorType is the error's class, as otelbridge's error.type
	// attribute spells it: an ErrorType() method anywhere in the error's
	// tree, context_canceled, context_deadline_exceeded, panic, the Go
	// type name, or _OTHER.
	ErrorType string `json:"error_type,omitempty"`
	// DurationSeconds is how long the protected function ran (zero for
	// failures unless the breaker records failure durations).
	DurationSeconds float64 `json:"duration_seconds"`
}

// Hooks returns the hooks through which the registry records its
// breakers' history: give them to every breaker and group it lists, with
// breaker.WithHooks(r.Hooks()). The Register hook tracks the breaker (and
// forgets it when it is closed or dropped), the StateChange hook records
// each transition, and the CallEnd hook the last counted error and the
// call that caused each transition.
//
// Cost: a success or a rejection takes no lock and allocates nothing (one
// atomic load), unless a transition of some breaker still waits for the
// end of the call that caused it; a counted error and a transition take
// the registry's history lock briefly and allocate their record. As with
// any CallEnd hook, the breaker measures the duration of every call.
func (r *Registry) Hooks() sdk.Hooks { return r.hist.hooks() }

// Status returns the status document: every listed breaker and group
// with their history. It takes each breaker's lock briefly, one after
// another, and never holds two locks at once.
func (r *Registry) Status() Status {
	now := time.Now()
	bs, gs := r.listed()
	st := Status{Schema: Schema, GeneratedAt: now, Breakers: make([]Breaker, 0, len(bs)), Groups: make([]Group, 0, len(gs))}
	for _, b := range bs {
		st.Breakers = append(st.Breakers, r.breakerStatus(b.Info(), "", false, now))
	}
	for _, g := range gs {
		infos := g.Info()
		grp := Group{Name: g.Name(), Keys: g.Len(), Breakers: make([]Breaker, 0, min(len(infos), r.cfg.keysListed)),
			MaxOpenFraction: g.MaxOpenFraction(), OpenKeys: g.OpenKeys(), TripsCapped: g.TripsCapped()}
		if n, capped := g.MaxOpenKeys(); capped {
			grp.HasCap, grp.MaxOpenKeys = true, &n
		}
		keys := make([]string, 0, len(infos))
		for k := range infos {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if ra, rb := severity(infos[a].State), severity(infos[b].State); ra != rb {
				return rb - ra
			}
			return strings.Compare(a, b)
		})
		if len(keys) > r.cfg.keysListed {
			grp.Omitted = len(keys) - r.cfg.keysListed
			keys = keys[:r.cfg.keysListed]
		}
		for _, k := range keys {
			grp.Breakers = append(grp.Breakers, r.breakerStatus(infos[k], k, k == breaker.OverflowKey, now))
		}
		st.Groups = append(st.Groups, grp)
	}
	st.Recent, st.Untracked = r.hist.recentView()
	return st
}

// severity orders states for listing: the ones an operator looks for first
// come first.
func severity(s sdk.State) int {
	switch s {
	case sdk.StateForcedOpen:
		return 5
	case sdk.StateOpen:
		return 4
	case sdk.StateHalfOpen:
		return 3
	case sdk.StateMetricsOnly:
		return 2
	case sdk.StateDisabled:
		return 1
	}
	return 0
}

func (r *Registry) breakerStatus(info breaker.Info, key string, overflow bool, now time.Time) Breaker {
	b := Breaker{
		Name:                info.Name,
		Key:                 key,
		Overflow:            overflow,
		State:               info.State.String(),
		Since:               info.ChangedAt,
		SinceSeconds:        max(now.Sub(info.ChangedAt), 0).Seconds(),
		ConsecutiveFailures: info.ConsecutiveFailures,
		Reopens:             info.Reopens,
		Window:              window(info.Metric),
		Enforcement:         info.Enforcement,
		EnforcementMode:     enforcementMode(info.Enforcement),
	}
	switch info.State {
	case sdk.StateOpen:
		switch {
		case info.RetryAt.IsZero():
			b.Probe = ProbeUnknown
		case info.RetryAt.After(now):
			b.Probe = ProbeAt
			at := info.RetryAt
			b.ProbeAt = &at
		default:
			b.Probe = ProbeNextCall
		}
	case sdk.StateHalfOpen:
		b.Probe = ProbeNow
	case sdk.StateForcedOpen:
		b.Probe = ProbeManual
	default:
		b.Probe = ProbePassing
	}
	b.Transitions, b.LastCountedError, b.Recording = r.hist.view(info.Name, key)
	return b
}

func window(m breaker.Metric) Window {
	w := Window{Calls: m.TotalCount, Failures: m.FailureCount, Slow: []Slow{}}
	if rate, ok := m.FailureRate(); ok {
		w.FailureRate = &rate
	}
	counts := m.SlowCounts()
	ths := make([]time.Duration, 0, len(counts))
	for th := range counts {
		ths = append(ths, th)
	}
	slices.Sort(ths)
	for _, th := range ths {
		s := Slow{ThresholdSeconds: th.Seconds(), Calls: counts[th]}
		if rate, ok := m.SlowRate(th); ok {
			s.Rate = &rate
		}
		w.Slow = append(w.Slow, s)
	}
	return w
}

// actorKey is the context key under which the handler tells the
// StateChange hook who gave a command.
type actorKey struct{}

type actor struct{ who string }

func withActor(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor{who: who})
}
