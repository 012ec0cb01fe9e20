package tracker_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// problems splits a joined validation error into its messages.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestValidation(t *testing.T) {
	valid := tracker.TypeOf[*net.OpError]()
	badCustom := tracker.Custom(nil)
	tests := []struct {
		name string
		rule *tracker.Rule
		want []string
	}{
		{"all", tracker.All(), nil},
		{"type_of", valid, nil},
		{"is", tracker.Is(context.DeadlineExceeded, errPlain), nil},
		{"custom", tracker.Custom(func(context.Context, error) bool { return true }), nil},
		{"composite", tracker.Named("x", valid.Or(tracker.Is(errPlain)).And(tracker.All().Not())), nil},
		{"foreign operands", tracker.And(foreign{}, tracker.Not(foreign{})), nil},

		{"is without targets", tracker.Is(),
			[]string{"tracker: Is requires at least one target error"}},
		{"is with nil targets", tracker.Is(nil, errPlain, nil),
			[]string{"tracker: nil target error passed to Is (argument 1)", "tracker: nil target error passed to Is (argument 3)"}},
		{"custom nil", tracker.Custom(nil),
			[]string{"tracker: Custom requires a non-nil func"}},
		{"named empty label", tracker.Named("", valid),
			[]string{"tracker: Named requires a non-empty label"}},
		{"named nil tracker", tracker.Named("x", nil),
			[]string{`tracker: Named("x") requires a non-nil tracker`}},
		{"named both", tracker.Named("", (*tracker.Rule)(nil)),
			[]string{"tracker: Named requires a non-empty label", `tracker: Named("") requires a non-nil tracker`}},
		{"and empty", tracker.And(),
			[]string{"tracker: And requires at least one tracker"}},
		{"or empty", tracker.Or(),
			[]string{"tracker: Or requires at least one tracker"}},
		{"and nil", tracker.And(valid, nil),
			[]string{"tracker: nil tracker passed to And (argument 2)"}},
		{"or nil rule", tracker.Or((*tracker.Rule)(nil), valid),
			[]string{"tracker: nil tracker passed to Or (argument 1)"}},
		{"method and nil", valid.And(nil),
			[]string{"tracker: nil tracker passed to And (argument 2)"}},
		{"method on nil rule", (*tracker.Rule)(nil).Or(valid),
			[]string{"tracker: nil tracker passed to Or (argument 1)"}},
		{"not nil", tracker.Not(nil),
			[]string{"tracker: Not requires a non-nil tracker"}},
		{"not nil rule", (*tracker.Rule)(nil).Not(),
			[]string{"tracker: Not requires a non-nil tracker"}},
		{"child problems propagate", tracker.Not(valid.Or(badCustom)),
			[]string{"tracker: Custom requires a non-nil func"}},
		{"every problem at once",
			tracker.Named("outer", tracker.And(
				tracker.Is(),
				tracker.Or(valid, nil, tracker.Custom(nil)),
				tracker.Not(tracker.Named("", valid)),
				tracker.Or(),
			)),
			[]string{
				"tracker: Is requires at least one target error",
				"tracker: nil tracker passed to Or (argument 2)",
				"tracker: Custom requires a non-nil func",
				"tracker: Named requires a non-empty label",
				"tracker: Or requires at least one tracker",
			}},
		{"the same invalid rule is reported once", tracker.And(badCustom, tracker.Not(badCustom)),
			[]string{"tracker: Custom requires a non-nil func"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Err()
			assert.Equal(t, tc.want, problems(err))
			assert.Equal(t, err, tracker.Validate(tc.rule))
			for _, p := range problems(err) {
				assert.True(t, strings.HasPrefix(p, "tracker: "), p)
			}
			if err != nil {
				// Every problem is its own error in the join.
				joined, ok := err.(interface{ Unwrap() []error })
				require.True(t, ok)
				assert.Len(t, joined.Unwrap(), len(tc.want))
			}
		})
	}
}

func TestValidate(t *testing.T) {
	assert.EqualError(t, tracker.Validate(nil), "tracker: nil tracker")
	assert.EqualError(t, tracker.Validate((*tracker.Rule)(nil)), "tracker: nil tracker")
	assert.EqualError(t, (*tracker.Rule)(nil).Err(), "tracker: nil tracker")
	assert.NoError(t, tracker.Validate(foreign{}))
	assert.NoError(t, tracker.Validate(tracker.All()))
	assert.EqualError(t, tracker.Validate(tracker.Custom(nil)), "tracker: Custom requires a non-nil func")
}

func TestInvalidRulesCountEveryError(t *testing.T) {
	var rec recorder
	for name, r := range map[string]*tracker.Rule{
		"custom nil":      tracker.Custom(nil),
		"is empty":        tracker.Is(),
		"is nil target":   tracker.Is(nil),
		"and empty":       tracker.And(),
		"or empty":        tracker.Or(),
		"or with nil":     tracker.Or(rec.rule("a", false), nil),
		"not nil":         tracker.Not(nil),
		"named nil":       tracker.Named("x", nil),
		"named no label":  tracker.Named("", rec.rule("a", false)),
		"invalid operand": tracker.Not(rec.rule("a", true).And(tracker.Custom(nil))),
		"nil rule":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, r.Err())
			assert.Equal(t, counted("all"), r.Track(t.Context(), errPlain))
			assert.Equal(t, counted("all"), r.Track(t.Context(), errors.New("x")))
			assert.Empty(t, rec.take(), "an invalid rule evaluates nothing")
		})
	}
}
