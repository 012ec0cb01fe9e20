package e2e

import (
	"fmt"
	"slices"
	"sort"

	"github.com/fluxgate/fluxgate/otelbridge"
)

// breakerSpanName is the name otelbridge gives the spans of breakerName.
const breakerSpanName = "circuit_breaker " + breakerName

// checkSpans compares the breaker spans the Collector delivered for one
// replica with the replica's truth.
func checkSpans(c *checks, tr *truth, spans []span) {
	scope := tr.Instance
	byParent := map[string][]span{}
	bySpanID := map[string]span{}
	var breakerSpans []span
	for _, s := range spans {
		if s.Name != breakerSpanName {
			continue
		}
		breakerSpans = append(breakerSpans, s)
		byParent[s.parentID()] = append(byParent[s.parentID()], s)
		bySpanID[s.spanID()] = s
	}

	// One span per call, child of the caller's span, with the attributes
	// the caller's view implies.
	calls := tr.exported()
	var bad []string
	matched := 0
	known := map[string]bool{}
	for _, call := range calls {
		known[call.SpanID] = true
		got := byParent[call.SpanID]
		if len(got) != 1 {
			bad = append(bad, fmt.Sprintf("call %d (%s): %d breaker spans", call.Seq, call.Class, len(got)))
			continue
		}
		if d := spanMismatch(got[0], call, tr.Key); d != "" {
			bad = append(bad, fmt.Sprintf("call %d (%s): %s", call.Seq, call.Class, d))
			continue
		}
		matched++
	}
	c.expect("collector", "one span per call, attributes as seen", scope, len(calls), matched, firstN(bad, 5)...)

	extra := 0
	for _, s := range breakerSpans {
		if !known[s.parentID()] {
			extra++
		}
	}
	c.expect("collector", "spans of no exported call", scope, 0, extra)

	// Every error span carries its decision and rule.
	errSpans, complete := 0, 0
	for _, s := range breakerSpans {
		if o, _ := s.attr(string(otelbridge.OutcomeKey)); o != "error" {
			continue
		}
		errSpans++
		_, hasDecision := s.attr(string(otelbridge.DecisionKey))
		_, hasRule := s.attr(string(otelbridge.RuleKey))
		if hasDecision && hasRule {
			complete++
		}
	}
	c.expect("collector", "error spans with decision and rule", scope, errSpans, complete)

	// Every transition is an event on the span of the call that caused it.
	trs := tr.exportedTransitions()
	onSpan := 0
	var trBad []string
	for _, x := range trs {
		s, ok := bySpanID[x.SpanID]
		if !ok {
			trBad = append(trBad, fmt.Sprintf("%s→%s: span %s not received", x.From, x.To, x.SpanID))
			continue
		}
		if hasStateChange(s, x.From, x.To) {
			onSpan++
		} else {
			trBad = append(trBad, fmt.Sprintf("%s→%s: no such event on span %s", x.From, x.To, x.SpanID))
		}
	}
	c.expect("collector", "transitions as events on the causing span", scope, len(trs), onSpan, firstN(trBad, 5)...)
	events := 0
	for _, s := range breakerSpans {
		for _, e := range s.Events {
			if e.Name == otelbridge.StateChangeEvent {
				events++
			}
		}
	}
	c.expect("collector", "state_change events in all", scope, len(trs), events)

	// error.type is bounded: only the values the replicas can produce.
	var foreign []string
	for _, s := range breakerSpans {
		if v, ok := s.attr(string(otelbridge.ErrorTypeKey)); ok && !slices.Contains(allowedErrorTypes, v) && !slices.Contains(foreign, v) {
			foreign = append(foreign, v)
		}
	}
	sort.Strings(foreign)
	c.expect("collector", "error.type values outside the known set", scope, 0, len(foreign), foreign...)
}

// spanMismatch describes how a breaker span differs from what its call
// implies, or returns "".
func spanMismatch(s span, call callRecord, key string) string {
	e, ok := classes[call.Class]
	if !ok {
		return "the caller saw an unexpected result: " + call.ErrorType
	}
	want := map[string]string{
		string(otelbridge.NameKey):      breakerName,
		string(otelbridge.KeyKey):       key,
		string(otelbridge.OutcomeKey):   e.outcome,
		string(otelbridge.DecisionKey):  e.decision,
		string(otelbridge.RuleKey):      e.rule,
		string(otelbridge.ErrorTypeKey): call.ErrorType,
	}
	for k, v := range want {
		got, _ := s.attr(k)
		if got != v {
			return fmt.Sprintf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := s.attr(string(otelbridge.StateKey)); !ok {
		return "no " + string(otelbridge.StateKey)
	}
	return ""
}

func hasStateChange(s span, from, to string) bool {
	for _, e := range s.Events {
		if e.Name != otelbridge.StateChangeEvent {
			continue
		}
		p, _ := attrOf(e.Attributes, string(otelbridge.PreviousStateKey))
		n, _ := attrOf(e.Attributes, string(otelbridge.StateKey))
		if p == from && n == to {
			return true
		}
	}
	return false
}

// spansByState counts the breaker spans by the state of admission and
// outcome: the same breakdown Prometheus has of the calls.
func spansByState(spans []span) map[string]float64 {
	m := map[string]float64{}
	for _, s := range spans {
		if s.Name != breakerSpanName {
			continue
		}
		st, _ := s.attr(string(otelbridge.StateKey))
		o, _ := s.attr(string(otelbridge.OutcomeKey))
		m[key(st, o)]++
	}
	return m
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}
