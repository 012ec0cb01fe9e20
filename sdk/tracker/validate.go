package tracker

import (
	"errors"
	"slices"
)

// errNilTracker is reported for a nil Tracker or a nil *Rule.
var errNilTracker = errors.New("tracker: nil tracker")

// Err returns every validation problem in r's tree, joined with
// [errors.Join], or nil if r is valid. The problems of a rule's operands are
// problems of the rule too, so Err of the outermost rule reports them all.
// Each message starts with "tracker: ". Err of a nil *Rule reports a nil
// tracker.
func (r *Rule) Err() error {
	if r == nil {
		return errNilTracker
	}
	return r.err
}

// Validate reports whether t can be used as a tracker. It returns an error
// for a nil t (or a nil *Rule), the result of [Rule.Err] for a *Rule, and nil
// for any other Tracker.
func Validate(t Tracker) error {
	switch t := t.(type) {
	case nil:
		return errNilTracker
	case *Rule:
		return t.Err()
	}
	return nil
}

// addProblems records validation problems of r, skipping any that r already
// holds (an invalid rule used twice in a tree is reported once).
func (r *Rule) addProblems(problems ...error) {
	n := len(r.problems)
	for _, p := range problems {
		if !slices.Contains(r.problems, p) {
			r.problems = append(r.problems, p)
		}
	}
	if len(r.problems) != n {
		r.err = errors.Join(r.problems...)
	}
}

// inherit records the validation problems of an operand.
func (r *Rule) inherit(c child) {
	if c.rule != nil {
		r.addProblems(c.rule.problems...)
	}
}
