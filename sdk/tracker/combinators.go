package tracker

import (
	"errors"
	"fmt"
)

// And returns a rule that counts an error when every one of ts counts it.
// The trackers are evaluated in order and evaluation stops at the first one
// that ignores the error; its verdict is the And's verdict. When every
// tracker counts the error, the verdict names the rule of the last one whose
// verdict names a rule (see "Which rule a verdict names" in the package
// documentation).
//
// And requires at least one tracker, and none may be nil; otherwise the rule
// is invalid (see [Rule.Err]).
func And(ts ...Tracker) *Rule { return compose(kindAnd, "And", ts) }

// Or returns a rule that counts an error when at least one of ts counts it.
// The trackers are evaluated in order and evaluation stops at the first one
// that counts the error; its verdict is the Or's verdict. When none counts
// the error, no rule matched it, and the verdict (ignored) names no rule;
// wrap the Or in [Named] to give such verdicts a label.
//
// Or requires at least one tracker, and none may be nil; otherwise the rule
// is invalid (see [Rule.Err]).
func Or(ts ...Tracker) *Rule { return compose(kindOr, "Or", ts) }

// Not returns a rule that counts the errors t ignores and ignores the errors
// t counts. An ignored error names the rule by which t counted it (the rule
// that matched it, which the Not excludes); a counted error names no rule,
// since t matched nothing.
//
// If t is itself the negation of a *Rule r, Not returns r: Not(Not(r)) is r.
// A nil t makes the rule invalid (see [Rule.Err]).
func Not(t Tracker) *Rule {
	if r, ok := t.(*Rule); ok && r != nil {
		return r.Not()
	}
	return negate(t)
}

// And returns a rule that counts an error when both r and t count it; it is
// [And](r, t).
func (r *Rule) And(t Tracker) *Rule { return And(r.tracker(), t) }

// Or returns a rule that counts an error when r or t counts it; it is
// [Or](r, t).
func (r *Rule) Or(t Tracker) *Rule { return Or(r.tracker(), t) }

// Not returns the negation of r; it is [Not](r). The negation of a negation
// is the original rule: r.Not().Not() == r for any r that is not itself a
// negation (for r = x.Not(), r.Not() is x and r.Not().Not() is a new
// negation of x, which decides exactly like r).
func (r *Rule) Not() *Rule {
	if r != nil && r.kind == kindNot && r.kids[0].rule != nil {
		return r.kids[0].rule
	}
	return negate(r.tracker())
}

// tracker returns r as a Tracker, and a nil Tracker for a nil r.
func (r *Rule) tracker() Tracker {
	if r == nil {
		return nil
	}
	return r
}

// negate returns a new Not rule around t.
func negate(t Tracker) *Rule {
	c, ok := newChild(t)
	r := &Rule{kind: kindNot, kids: []child{c}}
	if !ok {
		r.addProblems(errors.New("tracker: Not requires a non-nil tracker"))
	}
	r.inherit(c)
	return r
}

// compose builds an And or Or rule. Operands that are valid rules of the
// same kind are flattened into the new rule, which changes neither the
// order of evaluation nor any verdict.
func compose(k kind, op string, ts []Tracker) *Rule {
	r := &Rule{kind: k, kids: make([]child, 0, len(ts))}
	if len(ts) == 0 {
		r.addProblems(fmt.Errorf("tracker: %s requires at least one tracker", op))
	}
	for i, t := range ts {
		c, ok := newChild(t)
		if !ok {
			r.addProblems(fmt.Errorf("tracker: nil tracker passed to %s (argument %d)", op, i+1))
		}
		if c.rule != nil && c.rule.kind == k && c.rule.err == nil {
			r.kids = append(r.kids, c.rule.kids...)
			continue
		}
		r.kids = append(r.kids, c)
		r.inherit(c)
	}
	return r
}
