package tracker_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// TestVerdictNamesOnlyAMatchingRule checks the rule of the package
// documentation's table, combinator by combinator: a verdict names a rule
// only if that rule matched the error (a Named rule renames what matched
// inside it).
func TestVerdictNamesOnlyAMatchingRule(t *testing.T) {
	op := tracker.TypeOf[*net.OpError]()
	deadline := tracker.Is(context.DeadlineExceeded)
	server := tracker.Named("5xx", statusIs(is5xx))
	timeout := tracker.Named("timeout", deadline)
	tests := []struct {
		name string
		rule tracker.Tracker
		err  error
		want tracker.Verdict
	}{
		// Leaves name themselves when they match, and nothing when they do not.
		{"all", tracker.All(), errPlain, counted("all")},
		{"type_of matches", op, errOp, counted(labelOp)},
		{"type_of does not match", op, errPlain, ignored("")},
		{"is matches", deadline, context.DeadlineExceeded, counted("is")},
		{"is does not match", deadline, errPlain, ignored("")},
		{"custom matches", statusIs(is5xx), err503, counted("custom")},
		{"custom does not match", statusIs(is5xx), err404, ignored("")},

		// Named renames what matched inside it; nothing matched, no name.
		{"named, matched", server, err503, counted("5xx")},
		{"named, not matched", server, err404, ignored("")},
		{"outermost name wins", tracker.Named("outer", server), err503, counted("outer")},
		{"named exclusion, matched", tracker.Named("skip", tracker.Not(deadline)), context.DeadlineExceeded, ignored("skip")},
		{"named exclusion, not matched", tracker.Named("skip", tracker.Not(deadline)), errPlain, counted("skip")},

		// Or names the first branch that matched; none matched: no rule.
		{"or: first branch matched", server.Or(timeout), err503, counted("5xx")},
		{"or: second branch matched", server.Or(timeout), context.DeadlineExceeded, counted("timeout")},
		{"or: no branch matched (a 404 under 5xx | timeout)", server.Or(timeout), err404, ignored("")},
		{"or of leaves, none matched", op.Or(deadline), errPlain, ignored("")},
		{"named or, none matched", tracker.Named("transient", server.Or(timeout)), err404, ignored("")},

		// And: the first operand that ignored decides; when all matched,
		// the last operand whose verdict names a rule.
		{"and: an unmatched leaf ignores, naming nothing", op.And(statusIs(is5xx)), errPlain, ignored("")},
		{"and: a named operand that did not match names nothing", server.And(tracker.All()), err404, ignored("")},
		{"and: every operand matched, the last one named", op.And(tracker.Named("read", messageContains("timeout"))), errTimeout, counted("read")},
		{"and: an exclusion that did not match names nothing", tracker.All().And(tracker.Is(errValue).Not()), errPlain, counted("all")},
		{"and: nothing named", tracker.Is(errValue).Not().And(deadline.Not()), errPlain, counted("")},

		// Not: an error its operand counts is ignored under the name of the
		// rule that matched it (an exclusion); an error its operand ignores
		// is counted, naming no rule (nothing matched it).
		{"not: the operand matched", tracker.Not(tracker.Is(errValue)), errValue, ignored("is")},
		{"not: the operand did not match", tracker.Not(tracker.Is(errValue)), errPlain, counted("")},
		{"not of named, not matched", tracker.Not(server), err404, counted("")},
		{"not of named, matched", tracker.Not(server), err503, ignored("5xx")},
		{"not not of a foreign tracker drops its label", tracker.Not(tracker.Not(foreign{v: ignored("no")})), errPlain, ignored("")},
		{"not of an or, no branch matched", tracker.Not(server.Or(timeout)), err404, counted("")},
		{"not of an or, a branch matched", tracker.Not(server.Or(timeout)), err503, ignored("5xx")},
		{"exclusion under and", tracker.All().And(tracker.Is(errValue).Not()), errValue, ignored("is")},

		// (network | 5xx) & !401: a network error is counted, naming the rule that
		// matched it, not the exclusion that did not.
		{"exclusion of a named rule", op.Or(server).And(tracker.Named("http_401", statusIs(is401)).Not()), errOp, counted(labelOp)},
		{"the exclusion matched", op.Or(server).And(tracker.Named("http_401", statusIs(is401)).Not()), errors.Join(errOp, err401), ignored("http_401")},

		// Foreign trackers: their label is kept where their verdict decides.
		{"or drops an ignoring foreign tracker's label", tracker.Or(foreign{v: ignored("no")}), errPlain, ignored("")},
		{"and keeps it", tracker.And(foreign{v: ignored("no")}), errPlain, ignored("no")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rule.Track(t.Context(), tt.err))
		})
	}
}
