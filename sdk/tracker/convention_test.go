package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// labelled is the shape of the ready rules of the integrations
// (breakerhttp's DefaultTracker is an Or of such rules, breakergrpc's
// Tracker is one): a Named rule, which names label when r matched the
// error and no rule when it did not.
func labelled(label string, r tracker.Tracker) *tracker.Rule {
	return tracker.Named(label, r)
}

// TestIgnoredNamesARuleOnlyWhenOneMatched pins the convention that core,
// breakerhttp and breakergrpc share, so that telemetry grouped by
// circuit_breaker.rule shows only errors a rule matched: an ignored error
// names a rule only when a rule matched it (an exclusion, under Not), for
// labelled rules under every combinator, and for Named itself.
func TestIgnoredNamesARuleOnlyWhenOneMatched(t *testing.T) {
	server := labelled("5xx", statusIs(is5xx))
	timeout := labelled("timeout", tracker.Is(context.DeadlineExceeded))
	skip := labelled("skip", tracker.Is(errValue))
	tests := []struct {
		name string
		rule tracker.Tracker
		err  error
		want tracker.Verdict
	}{
		{"labelled, matched", server, err503, counted("5xx")},
		{"labelled, not matched", server, err404, ignored("")},
		{"or, none matched", server.Or(timeout), err404, ignored("")},
		{"or, the second matched", server.Or(timeout), context.DeadlineExceeded, counted("timeout")},
		{"and, the first did not match", server.And(timeout), err404, ignored("")},
		{"and, the second did not match", server.And(timeout), err503, ignored("")},
		{"and of an exclusion, not matched", server.And(skip.Not()), err503, counted("5xx")},
		{"and of an exclusion, matched", server.And(skip.Not()), errors.Join(err503, errValue), ignored("skip")},
		{"not, matched: excluded under its name", tracker.Not(server), err503, ignored("5xx")},
		{"not, not matched", tracker.Not(server), err404, counted("")},
		{"not not", tracker.Not(tracker.Not(server)), err404, ignored("")},
		{"nested", tracker.Or(server.And(skip.Not()), timeout), err404, ignored("")},
		// Named renames what matched inside it, and nothing else.
		{"named around the whole, none matched", tracker.Named("upstream", server.Or(timeout)), err404, ignored("")},
		{"named around the whole, matched", tracker.Named("upstream", server.Or(timeout)), err503, counted("upstream")},
		{"bare named, not matched", tracker.Named("5xx", statusIs(is5xx)), err404, ignored("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rule.Track(t.Context(), tt.err))
		})
	}
}

// maskErr is an error that leaf i of a generated rule matches when bit i
// is set.
type maskErr uint

func (maskErr) Error() string { return "mask" }

// convNode is a generated rule over labelled leaves, and its evaluation
// by hand.
type convNode struct {
	op   string // "leaf", "and", "or", "not"
	leaf int
	kids []*convNode
}

func drawConvNode(t *rapid.T, depth int) *convNode {
	if depth == 0 || rapid.IntRange(0, 3).Draw(t, "leaf?") == 0 {
		return &convNode{op: "leaf", leaf: rapid.IntRange(0, 5).Draw(t, "leaf")}
	}
	switch op := rapid.SampledFrom([]string{"and", "or", "not"}).Draw(t, "op"); op {
	case "not":
		return &convNode{op: op, kids: []*convNode{drawConvNode(t, depth-1)}}
	default:
		n := rapid.IntRange(1, 3).Draw(t, "n")
		node := &convNode{op: op}
		for range n {
			node.kids = append(node.kids, drawConvNode(t, depth-1))
		}
		return node
	}
}

func (n *convNode) build() tracker.Tracker {
	switch n.op {
	case "leaf":
		i := n.leaf
		return labelled(fmt.Sprintf("rule%d", i), tracker.Custom(func(_ context.Context, err error) bool {
			var m maskErr
			return errors.As(err, &m) && m&(1<<i) != 0
		}))
	case "not":
		return tracker.Not(n.kids[0].build())
	}
	ts := make([]tracker.Tracker, len(n.kids))
	for i, k := range n.kids {
		ts[i] = k.build()
	}
	if n.op == "and" {
		return tracker.And(ts...)
	}
	return tracker.Or(ts...)
}

// counts evaluates n by hand.
func (n *convNode) counts(m maskErr) bool {
	switch n.op {
	case "leaf":
		return m&(1<<n.leaf) != 0
	case "not":
		return !n.kids[0].counts(m)
	case "and":
		for _, k := range n.kids {
			if !k.counts(m) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if k.counts(m) {
			return true
		}
	}
	return false
}

// TestConventionProperty: for any rule built from labelled leaves with
// And, Or and Not, and any error, the decision is the rule's logic, and a
// verdict, counted or ignored, names a rule only if that rule matched the
// error.
func TestConventionProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := drawConvNode(t, 4)
		m := maskErr(rapid.UintRange(0, 63).Draw(t, "mask"))
		v := n.build().Track(context.Background(), m)
		want := sdk.DecisionIgnored
		if n.counts(m) {
			want = sdk.DecisionCounted
		}
		if v.Decision != want {
			t.Fatalf("decision %v, want %v", v.Decision, want)
		}
		if v.Rule == "" {
			return
		}
		var i int
		if _, err := fmt.Sscanf(v.Rule, "rule%d", &i); err != nil {
			t.Fatalf("unexpected rule %q", v.Rule)
		}
		if m&(1<<i) == 0 {
			t.Fatalf("verdict %v names %s, which did not match the error (mask %06b)", v, v.Rule, m)
		}
	})
}
