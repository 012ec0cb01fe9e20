package tracker

import (
	"errors"
	"fmt"
)

// Named returns a rule that classifies errors exactly as t does, and reports
// label as the Rule of every verdict in which a rule inside t matched the
// error, whichever rule that was: every error t counts, and an error t
// ignores by an exclusion that matched it (under [Not]). An error that no
// rule inside t matched is ignored naming no rule, so that telemetry grouped
// by rule never shows "ignored by http_5xx" for a 404 the rule knows nothing
// about. When named rules are nested, the outermost label wins. Use it to give a composite rule a name that
// telemetry can show:
//
//	tracker.Named("http_5xx", tracker.Custom(isServerError))
//
// Named requires a non-empty label and a non-nil t; otherwise the rule is
// invalid (see [Rule.Err]).
func Named(label string, t Tracker) *Rule {
	c, ok := newChild(t)
	r := &Rule{kind: kindNamed, label: label, kids: []child{c}}
	if label == "" {
		r.addProblems(errors.New("tracker: Named requires a non-empty label"))
	}
	if !ok {
		r.addProblems(fmt.Errorf("tracker: Named(%q) requires a non-nil tracker", label))
	}
	r.inherit(c)
	return r
}
