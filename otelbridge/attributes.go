package otelbridge

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/fluxgate/fluxgate/sdk"
)

// Attribute keys used on spans, span events and metrics. The telemetry
// reference of the repository (docs/telemetry.md) describes each one; all of
// them are at the "Development" stability level of this module's own
// conventions, as no OpenTelemetry semantic convention for circuit breakers
// exists yet.
const (
	// NameKey is the breaker's name (spans, events and every metric).
	NameKey = attribute.Key("circuit_breaker.name")
	// KeyKey is the key of a breaker of a breaker.Group: on spans, span
	// events and, unless [WithKeyOnMetrics](false), on every metric. It is
	// absent for breakers built by breaker.New (whose key is empty).
	KeyKey = attribute.Key("circuit_breaker.key")
	// StateKey is the breaker state: the state in which a call was admitted
	// or rejected (spans, circuit_breaker.calls), the state a breaker is in
	// (circuit_breaker.state), or the state after a transition (the
	// state_change event, circuit_breaker.transitions).
	StateKey = attribute.Key("circuit_breaker.state")
	// PreviousStateKey is the state before a transition.
	PreviousStateKey = attribute.Key("circuit_breaker.previous_state")
	// OutcomeKey is what became of a call: "success", "error" or
	// "rejected".
	OutcomeKey = attribute.Key("circuit_breaker.outcome")
	// DecisionKey is the tracker's verdict on a call's error: "counted" or
	// "ignored". Present only for the outcome "error".
	DecisionKey = attribute.Key("circuit_breaker.decision")
	// RuleKey is the label of the tracker rule that decided (spans only).
	RuleKey = attribute.Key("circuit_breaker.rule")
	// ErrorTypeKey is the semantic-convention attribute error.type: a
	// low-cardinality class of the error, never its message.
	ErrorTypeKey = attribute.Key("error.type")
	// TransitionReasonKey says why a transition happened: "tripped",
	// "retry", "recovered", "reopened", "manual" or "half_open_timeout"
	// (the state_change event).
	TransitionReasonKey = attribute.Key("circuit_breaker.transition.reason")
	// WindowCallsKey is the number of calls in the breaker's window just
	// before a transition reset it (the state_change event).
	WindowCallsKey = attribute.Key("circuit_breaker.window.calls")
	// WindowFailuresKey is the number of failures in the breaker's window
	// just before a transition reset it (the state_change event).
	WindowFailuresKey = attribute.Key("circuit_breaker.window.failures")
	// SlowThresholdKey is the slow-call threshold, in seconds, of a
	// circuit_breaker.window.slow_rate series.
	SlowThresholdKey = attribute.Key("circuit_breaker.slow_call.threshold")
	// WouldRejectKey is true on a call the breaker would have refused but
	// let run because its enforcement is below 1 (shadow mode; see
	// breaker.WithEnforcement): on its span and on its circuit_breaker.calls
	// and circuit_breaker.call.duration measurements. Absent otherwise.
	WouldRejectKey = attribute.Key("circuit_breaker.would_reject")
	// OpenKeysKey is the number of a group's keys counted against its cap
	// on open keys when a trip was capped (the trip_capped event).
	OpenKeysKey = attribute.Key("circuit_breaker.open_keys")
	// MaxOpenKeysKey is a group's cap on open keys at that moment (the
	// trip_capped event).
	MaxOpenKeysKey = attribute.Key("circuit_breaker.max_open_keys")
	// ReconfiguredSettingsKey lists the settings a reconfiguration changed
	// (the reconfigured event): "tripper", "enforcement", ...
	ReconfiguredSettingsKey = attribute.Key("circuit_breaker.reconfigured.settings")
	// ReconfiguredChangesKey describes each change of a reconfiguration,
	// "setting: from -> to" (the reconfigured event).
	ReconfiguredChangesKey = attribute.Key("circuit_breaker.reconfigured.changes")
	// WindowReplacedKey says whether a reconfiguration replaced the window
	// by an empty one (the reconfigured event).
	WindowReplacedKey = attribute.Key("circuit_breaker.window.replaced")
)

// Span event names.
const (
	// StateChangeEvent is the name of the span event added for a
	// transition.
	StateChangeEvent = "circuit_breaker.state_change"
	// TripCappedEvent is the name of the span event added to the span of a
	// call whose outcome fired its key's tripper while the group was at its
	// cap on open keys (breaker.WithMaxOpenFraction): the key stayed closed.
	TripCappedEvent = "circuit_breaker.trip_capped"
	// ReconfiguredEvent is the name of the span event added to the span in
	// the context of a reconfiguration (breaker.Breaker.Reconfigure).
	ReconfiguredEvent = "circuit_breaker.reconfigured"
)

// Metric instrument names.
const (
	// CallsMetric counts the calls that reached a breaker.
	CallsMetric = "circuit_breaker.calls"
	// CallDurationMetric records how long executed calls ran, in seconds.
	CallDurationMetric = "circuit_breaker.call.duration"
	// StateMetric is 1 for the state a breaker is in and 0 for the others.
	StateMetric = "circuit_breaker.state"
	// TransitionsMetric counts state transitions.
	TransitionsMetric = "circuit_breaker.transitions"
	// WindowCallsMetric is the number of calls in a breaker's window.
	WindowCallsMetric = "circuit_breaker.window.calls"
	// WindowFailureRateMetric is the share of the window's calls that
	// failed (counted errors), from 0 to 1; not reported while the window
	// is empty.
	WindowFailureRateMetric = "circuit_breaker.window.failure_rate"
	// WindowSlowRateMetric is the share of the window's calls that took at
	// least a slow-call threshold, one series per threshold; not reported
	// while the window is empty.
	WindowSlowRateMetric = "circuit_breaker.window.slow_rate"
	// FailureStreakMetric is the current number of consecutive counted
	// failures.
	FailureStreakMetric = "circuit_breaker.failure_streak"
	// TripsCappedMetric counts the trips that a group's cap on open keys
	// refused.
	TripsCappedMetric = "circuit_breaker.trips_capped"
	// ReconfigurationsMetric counts the reconfigurations of a breaker that
	// changed something.
	ReconfigurationsMetric = "circuit_breaker.reconfigurations"
)

// The error.type values the bridge itself produces.
const (
	// ErrorTypeOther is the error.type of errors that have no better class
	// (errors.New sentinels, unnamed types) and of every class beyond the
	// per-series limit (see [WithErrorTypeLimit]).
	ErrorTypeOther = "_OTHER"
	// ErrorTypePanic is the error.type of a call whose function panicked.
	ErrorTypePanic = "panic"
	// ErrorTypeCanceled is the error.type of errors that match
	// context.Canceled.
	ErrorTypeCanceled = "context_canceled"
	// ErrorTypeDeadlineExceeded is the error.type of errors that match
	// context.DeadlineExceeded.
	ErrorTypeDeadlineExceeded = "context_deadline_exceeded"
)

// numOutcomes and numDecisions size the precomputed tables.
const (
	numOutcomes  = 3
	numDecisions = 3
)

var (
	stateValues     [sdk.NumStates]attribute.KeyValue
	prevStateValues [sdk.NumStates]attribute.KeyValue
	outcomeValues   [numOutcomes]attribute.KeyValue
	decisionValues  [numDecisions]attribute.KeyValue
	reasonValues    [sdk.ReasonHalfOpenTimeout + 1]attribute.KeyValue
	wouldRejectKV   = WouldRejectKey.Bool(true)
)

func init() {
	for _, s := range sdk.States() {
		stateValues[s] = StateKey.String(s.String())
		prevStateValues[s] = PreviousStateKey.String(s.String())
	}
	for o := range numOutcomes {
		outcomeValues[o] = OutcomeKey.String(sdk.Outcome(o).String())
	}
	for d := range numDecisions {
		decisionValues[d] = DecisionKey.String(sdk.Decision(d).String())
	}
	for r := range reasonValues {
		reasonValues[r] = TransitionReasonKey.String(sdk.Reason(r).String())
	}
}

func stateKV(s sdk.State) attribute.KeyValue {
	if s.Valid() {
		return stateValues[s]
	}
	return StateKey.String(s.String())
}

func prevStateKV(s sdk.State) attribute.KeyValue {
	if s.Valid() {
		return prevStateValues[s]
	}
	return PreviousStateKey.String(s.String())
}

func outcomeKV(o sdk.Outcome) attribute.KeyValue {
	if int(o) < numOutcomes {
		return outcomeValues[o]
	}
	return OutcomeKey.String(o.String())
}

func decisionKV(d sdk.Decision) attribute.KeyValue {
	if int(d) < numDecisions {
		return decisionValues[d]
	}
	return DecisionKey.String(d.String())
}

func reasonKV(r sdk.Reason) attribute.KeyValue {
	if int(r) < len(reasonValues) {
		return reasonValues[r]
	}
	return TransitionReasonKey.String(r.String())
}
