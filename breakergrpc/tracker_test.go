package breakergrpc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// nilStatus is an error whose GRPCStatus is nil.
type nilStatus struct{}

func (nilStatus) Error() string              { return "nil status" }
func (nilStatus) GRPCStatus() *status.Status { return nil }

func TestTrackerReadsCodes(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		counted bool
	}{
		{"status", status.Error(codes.Unavailable, "down"), true},
		{"ignored status", status.Error(codes.NotFound, "no"), false},
		{"wrapped status", fmt.Errorf("call: %w", status.Error(codes.Internal, "bug")), true},
		{"wrapped ignored status", fmt.Errorf("call: %w", status.Error(codes.Aborted, "retry")), false},
		{"joined status", errors.Join(errors.New("x"), status.Error(codes.PermissionDenied, "no")), false},
		{"deadline without a status", context.DeadlineExceeded, true},
		{"canceled without a status", fmt.Errorf("stop: %w", context.Canceled), false},
		{"plain error is Unknown", errors.New("boom"), true},
		{"nil status is Unknown", nilStatus{}, true},
		{"undefined code", status.Error(codes.Code(42), "?"), false},
	}
	rule := breakergrpc.Tracker()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := rule.Track(t.Context(), tc.err)
			assert.Equal(t, tc.counted, v.Counted())
			if tc.counted {
				assert.Equal(t, breakergrpc.RuleFailure, v.Rule, "a counted error names the rule that matched it")
			} else {
				assert.Empty(t, v.Rule, "an ignored error names no rule: none matched it")
			}
		})
	}
	assert.Equal(t, tracker.Verdict{}, rule.Track(t.Context(), nil), "nil is never classified")
}

func TestCodesComposes(t *testing.T) {
	// Count the ready codes and Aborted, but never a failure of the report
	// method (an example of a Custom rule on the context).
	type methodKey struct{}
	isReport := tracker.Named("report", tracker.Custom(func(ctx context.Context, _ error) bool {
		return ctx.Value(methodKey{}) == "report"
	}))
	rule := breakergrpc.Tracker().Or(breakergrpc.Codes(codes.Aborted)).And(tracker.Not(isReport))
	report := context.WithValue(t.Context(), methodKey{}, "report")

	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		counted bool
	}{
		{"ready code", t.Context(), status.Error(codes.Unavailable, ""), true},
		{"added code", t.Context(), status.Error(codes.Aborted, ""), true},
		{"other code", t.Context(), status.Error(codes.NotFound, ""), false},
		{"excluded method", report, status.Error(codes.Unavailable, ""), false},
	}
	// Which inner rule names a verdict is the tracker package's business;
	// a Named rule around the whole renames what matched inside it: the
	// counted codes, and the excluded method (its exclusion matched). A
	// code that nothing matched names no rule.
	named := tracker.Named("shop", rule)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.counted, rule.Track(tc.ctx, tc.err).Counted())
			want := tracker.Verdict{Decision: sdk.DecisionIgnored, Rule: "shop"}
			if tc.counted {
				want.Decision = sdk.DecisionCounted
			} else if tc.name == "other code" {
				want.Rule = ""
			}
			assert.Equal(t, want, named.Track(tc.ctx, tc.err))
		})
	}
	assert.NoError(t, rule.Err())
	assert.Equal(t, "(grpc_failure | grpc_code) & !report", rule.String())
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.OK:               "OK",
		codes.Canceled:         "CANCELLED",
		codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
		codes.Unauthenticated:  "UNAUTHENTICATED",
		codes.Code(17):         "CODE(17)",
	} {
		assert.Equal(t, want, breakergrpc.CodeName(c))
	}
}

func TestCodesBadInput(t *testing.T) {
	assert.PanicsWithValue(t, "breakergrpc: Codes requires at least one code", func() { breakergrpc.Codes() })
	assert.PanicsWithValue(t, "breakergrpc: codes.OK is not an error code", func() { breakergrpc.Codes(codes.Unavailable, codes.OK) })
	assert.PanicsWithValue(t, "breakergrpc: status code 64 is out of range", func() { breakergrpc.Codes(codes.Code(64)) })
}
