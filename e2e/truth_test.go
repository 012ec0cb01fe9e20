package e2e

import (
	"slices"

	"github.com/fluxgate/fluxgate/breakerhttp"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// expectation is the telemetry a class of call must produce.
type expectation struct {
	outcome, decision, rule string
}

// classes maps what a caller saw to what the bridge must report, with
// the replicas' tracker (see newTracker): 4xx answers are ignored (rule
// http_4xx), 5xx answers and timeouts counted (http_5xx, timeout), panics
// counted by the breaker itself.
var classes = map[string]expectation{
	"ok":           {outcome: "success"},
	"client_error": {outcome: "error", decision: "ignored", rule: ruleHTTP4xx},
	"server_error": {outcome: "error", decision: "counted", rule: breakerhttp.RuleServerError},
	"timeout":      {outcome: "error", decision: "counted", rule: breakerhttp.RuleTimeout},
	"panic":        {outcome: "error", decision: "counted", rule: breaker.RulePanic},
	"rejected":     {outcome: "rejected"},
}

// allowedErrorTypes is every error.type value the replicas may produce.
var allowedErrorTypes = []string{
	"400", "404", "500", "503",
	otelbridge.ErrorTypeDeadlineExceeded, otelbridge.ErrorTypePanic,
	"circuit_breaker_open", "circuit_breaker_half_open", "circuit_breaker_forced_open",
}

// exported returns the calls of tr whose spans were exported: those of
// batches whose flush succeeded.
func (tr *truth) exported() []callRecord {
	var out []callRecord
	for _, c := range tr.Calls {
		if c.Batch < tr.Flushes && !slices.Contains(tr.FailedFlushes, c.Batch) {
			out = append(out, c)
		}
	}
	return out
}

// exportedTransitions is exported for transitions.
func (tr *truth) exportedTransitions() []transitionRecord {
	var out []transitionRecord
	for _, x := range tr.Transitions {
		if x.Batch < tr.Flushes && !slices.Contains(tr.FailedFlushes, x.Batch) {
			out = append(out, x)
		}
	}
	return out
}

// callCounts counts the calls of tr by outcome, decision and error.type,
// the breakdown of circuit_breaker_calls_total.
func (tr *truth) callCounts() map[string]float64 {
	m := map[string]float64{}
	for _, c := range tr.Calls {
		e := classes[c.Class]
		if e.outcome == "" {
			e.outcome = "unknown class " + c.Class
		}
		m[key(e.outcome, e.decision, c.ErrorType)]++
	}
	return m
}

// transitionCounts counts the transitions of tr by previous and new state.
func (tr *truth) transitionCounts() map[string]float64 {
	m := map[string]float64{}
	for _, x := range tr.Transitions {
		m[key(x.From, x.To)]++
	}
	return m
}

// executed counts the calls the breaker ran (not rejected).
func (tr *truth) executed() map[string]float64 {
	n := 0
	for _, c := range tr.Calls {
		if c.Class != "rejected" {
			n++
		}
	}
	return map[string]float64{tr.Instance: float64(n)}
}

// addCounts adds b to a.
func addCounts(a, b map[string]float64) {
	for k, v := range b {
		a[k] += v
	}
}
