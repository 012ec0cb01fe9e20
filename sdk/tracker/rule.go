package tracker

import (
	"context"
	"errors"

	"github.com/fluxgate/fluxgate/sdk"
)

// labelAll is the label of All, and of the verdicts of invalid rules.
const labelAll = "all"

// kind says what a Rule does.
type kind uint8

const (
	kindAll    kind = iota // count every error
	kindTypeOf             // count errors for which match returns true
	kindIs                 // count errors that errors.Is one of targets
	kindCustom             // count errors for which fn returns true
	kindNamed              // evaluate kids[0], report label
	kindNot                // evaluate kids[0], flip the decision
	kindAnd                // evaluate kids until one ignores the error
	kindOr                 // evaluate kids until one counts the error
)

// Rule is an immutable, composable [Tracker]. Rules are built with [All],
// [TypeOf], [Is], [Custom], [Named], [And], [Or] and [Not], and combined with
// the methods [Rule.And], [Rule.Or] and [Rule.Not]. A *Rule is safe for
// concurrent use, and its Track method allocates nothing.
//
// The zero Rule counts every error, like [All]. A nil *Rule is not a valid
// tracker: [Rule.Err] reports it, and its Track counts every error.
type Rule struct {
	kind  kind
	label string // the label of a leaf or of Named; "" otherwise

	match   func(error) bool                  // TypeOf
	targets []error                           // Is
	fn      func(context.Context, error) bool // Custom
	kids    []child                           // Named and Not: one; And and Or: one or more

	problems []error // every validation problem in the tree, without duplicates
	err      error   // errors.Join(problems...), nil if valid
}

// child is one operand of a combinator. Operands that are *Rule are called
// directly, without going through the Tracker interface.
type child struct {
	rule *Rule   // the operand, when it is a non-nil *Rule
	t    Tracker // the operand, when it is any other Tracker
}

// newChild returns the child for t and reports whether t is nil (a nil
// interface or a nil *Rule).
func newChild(t Tracker) (child, bool) {
	switch t := t.(type) {
	case nil:
		return child{}, false
	case *Rule:
		if t == nil {
			return child{}, false
		}
		return child{rule: t}, true
	}
	return child{t: t}, true
}

// track evaluates the child. The decision of a foreign Tracker is
// normalised: anything other than DecisionCounted is DecisionIgnored.
func (c child) track(ctx context.Context, err error) Verdict {
	if c.rule != nil {
		return c.rule.eval(ctx, err)
	}
	if c.t == nil { // only in invalid rules, which are never evaluated
		return Verdict{Decision: sdk.DecisionCounted, Rule: labelAll}
	}
	v := c.t.Track(ctx, err)
	if v.Decision != sdk.DecisionCounted {
		v.Decision = sdk.DecisionIgnored
	}
	return v
}

// Track classifies err. A nil err gives the zero Verdict without evaluating
// anything. Otherwise the rule is evaluated with short-circuit semantics and
// the verdict names only a rule that matched err (see the table in the
// package documentation).
//
// A nil or invalid rule (one whose [Rule.Err] is not nil) counts every error
// and reports the rule "all".
func (r *Rule) Track(ctx context.Context, err error) Verdict {
	if err == nil {
		return Verdict{}
	}
	if r == nil || r.err != nil {
		return Verdict{Decision: sdk.DecisionCounted, Rule: labelAll}
	}
	return r.eval(ctx, err)
}

// eval evaluates a valid rule for a non-nil err. Every rule below a valid
// rule is valid, since problems propagate upwards.
func (r *Rule) eval(ctx context.Context, err error) Verdict {
	switch r.kind {
	case kindTypeOf:
		return r.leaf(r.match(err))
	case kindIs:
		for _, target := range r.targets {
			if errors.Is(err, target) {
				return r.leaf(true)
			}
		}
		return r.leaf(false)
	case kindCustom:
		return r.leaf(r.fn(ctx, err))
	case kindNamed:
		// The label replaces the name of whatever matched inside: the
		// verdict is counted, or it names an exclusion that matched. An
		// error that nothing inside matched stays unnamed.
		v := r.kids[0].track(ctx, err)
		if v.Decision == sdk.DecisionCounted || v.Rule != "" {
			v.Rule = r.label
		}
		return v
	case kindNot:
		// An error the operand counts is excluded, under the name of the
		// rule that matched it; an error the operand ignores is counted,
		// and no rule matched it.
		if v := r.kids[0].track(ctx, err); v.Decision == sdk.DecisionCounted {
			return Verdict{Decision: sdk.DecisionIgnored, Rule: v.Rule}
		}
		return Verdict{Decision: sdk.DecisionCounted}
	case kindAnd:
		// The first operand that ignores err decides; when every operand
		// counts it, each one matched, and the last one that names a rule
		// gives its label.
		v := Verdict{Decision: sdk.DecisionCounted}
		for _, c := range r.kids {
			cv := c.track(ctx, err)
			if cv.Decision != sdk.DecisionCounted {
				return cv
			}
			if cv.Rule != "" {
				v.Rule = cv.Rule
			}
		}
		return v
	case kindOr:
		// The first operand that counts err decides; when none does, no
		// rule matched and none is named.
		for _, c := range r.kids {
			if v := c.track(ctx, err); v.Decision == sdk.DecisionCounted {
				return v
			}
		}
		return Verdict{Decision: sdk.DecisionIgnored}
	}
	return Verdict{Decision: sdk.DecisionCounted, Rule: labelAll} // kindAll
}

// leaf returns the verdict of a leaf rule: counted under the leaf's label if
// it matched, and ignored with no rule if it did not.
func (r *Rule) leaf(matched bool) Verdict {
	if matched {
		return Verdict{Decision: sdk.DecisionCounted, Rule: r.label}
	}
	return Verdict{Decision: sdk.DecisionIgnored}
}
