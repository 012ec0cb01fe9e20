package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// fluxgate: test_and_operator.
func TestAnd(t *testing.T) {
	// A network error whose message mentions a timeout.
	r := tracker.TypeOf[*net.OpError]().And(messageContains("timeout"))
	runCases(t, r, []trackCase{
		{"both", errTimeout, counted("custom")},
		{"type only", errOp, ignored("")},
		{"message only", errors.New("timeout"), ignored("")},
		{"neither", errPlain, ignored("")},
	})
	// The function form is the same rule.
	runCases(t, tracker.And(tracker.TypeOf[*net.OpError](), messageContains("timeout")), []trackCase{
		{"both", errTimeout, counted("custom")},
		{"type only", errOp, ignored("")},
	})
}

// fluxgate: test_or_operator.
func TestOr(t *testing.T) {
	r := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))
	runCases(t, r, []trackCase{
		{"first", errOp, counted(labelOp)},
		{"second", context.DeadlineExceeded, counted("is")},
		{"wrapped second", fmt.Errorf("call: %w", context.DeadlineExceeded), counted("is")},
		{"neither", errValue, ignored("")},
	})
	runCases(t, tracker.Or(tracker.TypeOf[*net.OpError](), tracker.Is(context.DeadlineExceeded)), []trackCase{
		{"second", context.DeadlineExceeded, counted("is")},
		{"neither", errValue, ignored("")},
	})
}

// fluxgate: test_not_operator.
func TestNot(t *testing.T) {
	for name, r := range map[string]*tracker.Rule{
		"func":   tracker.Not(tracker.TypeOf[*valueError]()),
		"method": tracker.TypeOf[*valueError]().Not(),
	} {
		t.Run(name, func(t *testing.T) {
			runCases(t, r, []trackCase{
				{"excluded type", errValue, ignored(labelValue)},
				{"other", errPlain, counted("")},
			})
		})
	}
}

// fluxgate: test_complex_combination ((network | 5xx) & !401).
func TestComplexCombination(t *testing.T) {
	network := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))
	server := tracker.Named("http_5xx", statusIs(is5xx))
	auth := tracker.Named("http_401", statusIs(is401))
	r := network.Or(server).And(tracker.Not(auth))

	runCases(t, r, []trackCase{
		{"network", errOp, counted(labelOp)},
		{"deadline", context.DeadlineExceeded, counted("is")},
		{"5xx", err503, counted("http_5xx")},
		// No branch of the Or matched these: no rule is named.
		{"401", err401, ignored("")},
		{"404", err404, ignored("")},
		{"other", errValue, ignored("")},
		// A network error joined with a 401: the 401 exclusion wins.
		{"network joined with 401", errors.Join(errOp, err401), ignored("http_401")},
	})
	assert.Equal(t, "(type_of:*net.OpError | is | http_5xx) & !http_401", r.String())
}

// fluxgate: test_nested_combinations ((A&B)&C and (A|B)|C).
func TestNesting(t *testing.T) {
	isOp := tracker.TypeOf[*net.OpError]()
	hasTimeout := messageContains("timeout")
	isRead := tracker.Custom(func(_ context.Context, err error) bool {
		oe, ok := errors.AsType[*net.OpError](err)
		return ok && oe.Op == "read"
	})

	t.Run("(A&B)&C", func(t *testing.T) {
		for name, r := range map[string]*tracker.Rule{
			"(A&B)&C": isOp.And(hasTimeout).And(isRead),
			"A&(B&C)": isOp.And(hasTimeout.And(isRead)),
			"flat":    tracker.And(isOp, hasTimeout, isRead),
			"nested":  tracker.And(tracker.And(isOp, hasTimeout), isRead),
		} {
			t.Run(name, func(t *testing.T) {
				runCases(t, r, []trackCase{
					{"all three", errTimeout, counted("custom")},
					{"not a read", &net.OpError{Op: "dial", Err: errors.New("timeout")}, ignored("")},
					{"no timeout", errOp, ignored("")},
					{"not an op error", errors.New("read timeout"), ignored("")},
				})
				assert.Equal(t, "type_of:*net.OpError & custom & custom", r.String())
			})
		}
	})

	t.Run("(A|B)|C", func(t *testing.T) {
		a := tracker.TypeOf[*net.OpError]()
		b := tracker.Is(context.DeadlineExceeded)
		c := statusIs(is5xx)
		for name, r := range map[string]*tracker.Rule{
			"(A|B)|C": a.Or(b).Or(c),
			"A|(B|C)": a.Or(b.Or(c)),
			"flat":    tracker.Or(a, b, c),
		} {
			t.Run(name, func(t *testing.T) {
				runCases(t, r, []trackCase{
					{"A", errOp, counted(labelOp)},
					{"B", context.DeadlineExceeded, counted("is")},
					{"C", err500, counted("custom")},
					{"none", err404, ignored("")},
				})
				assert.Equal(t, "type_of:*net.OpError | is | custom", r.String())
			})
		}
	})
}

// fluxgate: test_mixed_operators.
func TestMixingOperators(t *testing.T) {
	// (op error & timeout) | 5xx, and its distributed form.
	timeoutOp := tracker.TypeOf[*net.OpError]().And(messageContains("timeout"))
	r := timeoutOp.Or(statusIs(is5xx))
	runCases(t, r, []trackCase{
		{"timeout op", errTimeout, counted("custom")},
		{"5xx", err500, counted("custom")},
		{"op without timeout", errOp, ignored("")},
		{"4xx", err404, ignored("")},
	})
	assert.Equal(t, "(type_of:*net.OpError & custom) | custom", r.String())

	// A & (B | !C)
	r2 := tracker.TypeOf[*statusError]().And(statusIs(is5xx).Or(tracker.Not(statusIs(is4xx))))
	runCases(t, r2, []trackCase{
		{"5xx", err503, counted("custom")},
		{"4xx", err404, ignored("")}, // the Or ignored it: neither branch counted
		{"3xx", &statusError{code: 302}, counted(labelStatus)},
		{"not a status", errPlain, ignored("")},
	})
	assert.Equal(t, "type_of:*tracker_test.statusError & (custom | !custom)", r2.String())
}

// fluxgate: test_not_of_or (~(A|B)).
func TestNotOfOr(t *testing.T) {
	r := tracker.Not(tracker.TypeOf[*valueError]().Or(tracker.TypeOf[*statusError]()))
	runCases(t, r, []trackCase{
		{"A", errValue, ignored(labelValue)},
		{"B", err404, ignored(labelStatus)},
		{"neither", errOp, counted("")},
	})
	assert.Equal(t, "!(type_of:*tracker_test.valueError | type_of:*tracker_test.statusError)", r.String())

	// De Morgan: !(A|B) classifies like !A & !B.
	dm := tracker.Not(tracker.TypeOf[*valueError]()).And(tracker.Not(tracker.TypeOf[*statusError]()))
	for _, err := range []error{errValue, err404, errOp, errPlain} {
		assert.Equal(t, r.Track(t.Context(), err).Decision, dm.Track(t.Context(), err).Decision, "%v", err)
	}
}

// fluxgate: test_double_negation.
func TestDoubleNegationIsIdentity(t *testing.T) {
	a := tracker.TypeOf[*valueError]()
	assert.Same(t, a, tracker.Not(tracker.Not(a)))
	assert.Same(t, a, a.Not().Not())
	assert.Same(t, a, tracker.Not(a.Not()))
	assert.Same(t, a, tracker.Not(tracker.Tracker(a.Not())).Not().Not())

	composite := a.Or(tracker.Is(errPlain))
	assert.Same(t, composite, composite.Not().Not())

	named := tracker.Named("x", a.Not())
	assert.Same(t, named, named.Not().Not())
	assert.NotSame(t, a.Not(), a.Not(), "a single negation is a new rule")

	runCases(t, a.Not().Not(), []trackCase{
		{"A", errValue, counted(labelValue)},
		{"other", errPlain, ignored("")},
	})
}

func TestShortCircuitOrder(t *testing.T) {
	var rec recorder
	tests := []struct {
		name  string
		rule  *tracker.Rule
		calls []string
		want  tracker.Verdict
	}{
		{"and stops at first ignored", tracker.And(rec.rule("a", true), rec.rule("b", false), rec.rule("c", true)),
			[]string{"a", "b"}, ignored("")},
		{"and evaluates all when all count", tracker.And(rec.rule("a", true), rec.rule("b", true), rec.rule("c", true)),
			[]string{"a", "b", "c"}, counted("c")},
		{"and stops at once", tracker.And(rec.rule("a", false), rec.rule("b", true)),
			[]string{"a"}, ignored("")},
		{"or stops at first counted", tracker.Or(rec.rule("a", false), rec.rule("b", true), rec.rule("c", true)),
			[]string{"a", "b"}, counted("b")},
		{"or evaluates all when none counts", tracker.Or(rec.rule("a", false), rec.rule("b", false), rec.rule("c", false)),
			[]string{"a", "b", "c"}, ignored("")},
		{"or stops at once", rec.rule("a", true).Or(rec.rule("b", true)),
			[]string{"a"}, counted("a")},
		{"not evaluates its operand", tracker.Not(rec.rule("a", true)),
			[]string{"a"}, ignored("a")},
		{"nested in argument order", rec.rule("a", false).Or(rec.rule("b", true)).And(rec.rule("c", false).Or(rec.rule("d", true))).And(rec.rule("e", true)),
			[]string{"a", "b", "c", "d", "e"}, counted("e")},
		{"nested and short-circuits the rest", rec.rule("a", true).Or(rec.rule("b", true)).And(tracker.Not(rec.rule("c", true))).And(rec.rule("d", true)),
			[]string{"a", "c"}, ignored("c")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			assert.Equal(t, tc.want, tc.rule.Track(t.Context(), errPlain))
			assert.Equal(t, tc.calls, rec.take())
		})
	}
}

func TestRuleLabels(t *testing.T) {
	op := tracker.TypeOf[*net.OpError]()
	deadline := tracker.Is(context.DeadlineExceeded)
	yes := tracker.Custom(func(context.Context, error) bool { return true })
	no := tracker.Custom(func(context.Context, error) bool { return false })

	tests := []struct {
		name string
		rule *tracker.Rule
		err  error
		want tracker.Verdict
	}{
		{"all", tracker.All(), errPlain, counted("all")},
		{"type_of pointer", op, errOp, counted("type_of:*net.OpError")},
		{"type_of interface", tracker.TypeOf[net.Error](), errPlain, ignored("")},
		{"type_of error", tracker.TypeOf[error](), errPlain, counted("type_of:error")},
		{"type_of local type", tracker.TypeOf[*valueError](), errValue, counted("type_of:*tracker_test.valueError")},
		{"is", deadline, errPlain, ignored("")},
		{"custom", yes, errPlain, counted("custom")},
		{"and: the last label when all count", op.And(yes), errOp, counted("custom")},
		{"and: the one that ignored, which did not match", op.And(yes), errPlain, ignored("")},
		{"and: the one that ignored, an exclusion", op.And(yes.Not()), errOp, ignored("custom")},
		{"or: the one that counted", op.Or(deadline), context.DeadlineExceeded, counted("is")},
		{"or: no rule when none counted", op.Or(deadline), errPlain, ignored("")},
		{"not of a rule that did not match names nothing", tracker.Not(no), errPlain, counted("")},
		{"not of a rule that matched names it", tracker.Not(yes), errPlain, ignored("custom")},
		{"named replaces the label", tracker.Named("network", op.Or(deadline)), context.DeadlineExceeded, counted("network")},
		{"named when nothing matched names nothing", tracker.Named("network", op.Or(deadline)), errPlain, ignored("")},
		{"named inside a composite", tracker.Named("network", op.Or(deadline)).And(tracker.Named("yes", yes)), errOp, counted("yes")},
		{"named stops at the composite", tracker.Named("network", op.Or(deadline)).And(yes), errPlain, ignored("")},
		{"outermost named wins", tracker.Named("outer", tracker.Named("inner", op)), errOp, counted("outer")},
		{"not of named", tracker.Named("network", op).Not(), errOp, ignored("network")},
		{"named of not", tracker.Named("not_network", op.Not()), errOp, ignored("not_network")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.rule.Track(t.Context(), tc.err))
		})
	}
}

func TestNamed(t *testing.T) {
	server := tracker.Named("http_5xx", statusIs(is5xx))
	runCases(t, server, []trackCase{
		{"503", err503, counted("http_5xx")},
		{"404", err404, ignored("")},
	})
	assert.Equal(t, "http_5xx", server.String())
	assert.Equal(t, "http_5xx | !http_4xx", server.Or(tracker.Not(tracker.Named("http_4xx", statusIs(is4xx)))).String())
	require.NoError(t, server.Err())

	// Named over a foreign tracker.
	f := tracker.Named("foreign", foreign{v: counted("inner")})
	assert.Equal(t, counted("foreign"), f.Track(t.Context(), errPlain))
	assert.Equal(t, ignored("foreign"), tracker.Named("foreign", foreign{v: ignored("inner")}).Track(t.Context(), errPlain))
	assert.Equal(t, ignored(""), tracker.Named("foreign", foreign{v: ignored("")}).Track(t.Context(), errPlain))
}

func TestForeignTrackers(t *testing.T) {
	yes := foreign{v: counted("yes")}
	no := foreign{v: ignored("no")}
	none := foreign{v: tracker.Verdict{Decision: sdk.DecisionNone, Rule: "none"}}

	tests := []struct {
		name string
		rule *tracker.Rule
		want tracker.Verdict
	}{
		{"and", tracker.And(yes, no), ignored("no")},
		{"or", tracker.Or(no, yes), counted("yes")},
		{"not wraps", tracker.Not(yes), ignored("yes")},
		{"not not", tracker.Not(tracker.Not(no)), ignored("")}, // a real double negation: no rule matched
		{"none is ignored by and", tracker.And(none, yes), ignored("none")},
		{"none is ignored by or", tracker.Or(none, no), ignored("")},
		{"none is negated to counted", tracker.Not(none), counted("")},
		{"mixed with rules", tracker.All().And(yes).And(tracker.Is(errValue).Or(no)), ignored("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.rule.Track(t.Context(), errPlain))
			require.NoError(t, tc.rule.Err())
		})
	}
}

func TestString(t *testing.T) {
	op := tracker.TypeOf[*net.OpError]()
	custom := tracker.Custom(func(context.Context, error) bool { return true })
	is := tracker.Is(context.DeadlineExceeded)

	tests := []struct {
		rule *tracker.Rule
		want string
	}{
		{tracker.All(), "all"},
		{op, "type_of:*net.OpError"},
		{is, "is"},
		{custom, "custom"},
		{op.Or(custom).And(is.Not()), "(type_of:*net.OpError | custom) & !is"},
		{op.And(custom).Or(is), "(type_of:*net.OpError & custom) | is"},
		{tracker.Not(op.And(custom)), "!(type_of:*net.OpError & custom)"},
		{tracker.Not(tracker.Named("net", op.And(custom))), "!net"},
		{tracker.Named("net", op).And(tracker.All()), "net & all"},
		{tracker.And(op), "type_of:*net.OpError"},
		{tracker.And(foreign{}, stringer{}), "tracker_test.foreign & my_tracker"},
		{tracker.Not(stringer{}), "!my_tracker"},
		// Invalid rules still print.
		{tracker.And(), "And()"},
		{tracker.Or(), "Or()"},
		{tracker.And(op, nil), "type_of:*net.OpError & <nil>"},
		{tracker.Not(nil), "!<nil>"},
		{tracker.Named("", op), `""`},
		{tracker.And(tracker.Or(), op), "Or() & type_of:*net.OpError"},
		{tracker.Or(tracker.And(op), is), "type_of:*net.OpError | is"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.rule.String())
		})
	}
	assert.Equal(t, "<nil>", (*tracker.Rule)(nil).String())
	assert.Equal(t, "!is", fmt.Sprint(is.Not()), "a Rule is a fmt.Stringer")
}
