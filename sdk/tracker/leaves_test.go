package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

type trackCase struct {
	name string
	err  error
	want tracker.Verdict
}

// runCases tracks every case's error with r.
func runCases(t *testing.T, r tracker.Tracker, cases []trackCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, r.Track(t.Context(), tc.err))
		})
	}
}

// fluxgate: test_all_tracker_matches_all_exceptions.
func TestAllCountsEveryError(t *testing.T) {
	runCases(t, tracker.All(), []trackCase{
		{"plain", errPlain, counted("all")},
		{"value", errValue, counted("all")},
		{"network", errOp, counted("all")},
		{"wrapped", fmt.Errorf("call: %w", errValue), counted("all")},
		{"joined", errors.Join(errPlain, errValue), counted("all")},
		{"deadline", context.DeadlineExceeded, counted("all")},
		{"canceled", context.Canceled, counted("all")},
		{"status", err404, counted("all")},
	})
}

// fluxgate: test_all_tracker_with_not_excludes_type (All() & ~TypeOf(ValueError)).
func TestAllExcludingAType(t *testing.T) {
	r := tracker.All().And(tracker.Not(tracker.TypeOf[*valueError]()))
	runCases(t, r, []trackCase{
		{"value is ignored", errValue, ignored(labelValue)},
		{"wrapped value is ignored", fmt.Errorf("parse: %w", errValue), ignored(labelValue)},
		{"plain is counted", errPlain, counted("all")},
		{"network is counted", errOp, counted("all")},
	})
}

// fluxgate: test_typeof_single_type.
func TestTypeOfOneType(t *testing.T) {
	runCases(t, tracker.TypeOf[*net.OpError](), []trackCase{
		{"op error", errOp, counted(labelOp)},
		{"plain", errPlain, ignored("")},
		{"value", errValue, ignored("")},
		{"deadline", context.DeadlineExceeded, ignored("")},
	})
}

// fluxgate: test_typeof_multiple_types (TypeOf(A, B) is A | B in Go).
func TestTypeOfSeveralTypes(t *testing.T) {
	r := tracker.TypeOf[*net.OpError]().Or(tracker.TypeOf[*net.DNSError]())
	runCases(t, r, []trackCase{
		{"op error", errOp, counted(labelOp)},
		{"dns error", &net.DNSError{Err: "no such host", Name: "example.invalid"}, counted("type_of:*net.DNSError")},
		{"neither", errValue, ignored("")},
	})
}

// fluxgate: test_typeof_subclass. Go has no subclasses; their counterparts
// are wrapped errors, joined errors, interface types and errors.Is
// hierarchies such as fs.ErrNotExist.
func TestTypeOfMatchesWrappedAndInterfaceTypes(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/nope", Err: fs.ErrNotExist}

	t.Run("wrapped and joined", func(t *testing.T) {
		runCases(t, tracker.TypeOf[*fs.PathError](), []trackCase{
			{"direct", pathErr, counted("type_of:*fs.PathError")},
			{"wrapped once", fmt.Errorf("load config: %w", pathErr), counted("type_of:*fs.PathError")},
			{"wrapped twice", fmt.Errorf("start: %w", fmt.Errorf("load: %w", pathErr)), counted("type_of:*fs.PathError")},
			{"joined", errors.Join(errPlain, pathErr), counted("type_of:*fs.PathError")},
			{"multi %w", fmt.Errorf("%w and %w", errPlain, pathErr), counted("type_of:*fs.PathError")},
			{"other", errPlain, ignored("")},
		})
	})

	t.Run("interface net.Error", func(t *testing.T) {
		runCases(t, tracker.TypeOf[net.Error](), []trackCase{
			{"op error", errOp, counted("type_of:net.Error")},
			{"dns error", &net.DNSError{Err: "timeout", IsTimeout: true}, counted("type_of:net.Error")},
			// context.DeadlineExceeded implements net.Error (Timeout, Temporary).
			{"deadline", context.DeadlineExceeded, counted("type_of:net.Error")},
			{"wrapped op error", fmt.Errorf("fetch: %w", errOp), counted("type_of:net.Error")},
			{"plain", errPlain, ignored("")},
			{"canceled", context.Canceled, ignored("")},
		})
	})

	t.Run("is hierarchy", func(t *testing.T) {
		// FileNotFoundError and PermissionError as subclasses of OSError.
		r := tracker.Is(fs.ErrNotExist, fs.ErrPermission)
		_, notFound := os.Open("/definitely/not/here")
		require.Error(t, notFound)
		runCases(t, r, []trackCase{
			{"not found", notFound, counted("is")},
			{"permission", &fs.PathError{Op: "open", Path: "/root", Err: fs.ErrPermission}, counted("is")},
			{"exists", fs.ErrExist, ignored("")},
		})
	})
}

type asError struct{}

func (asError) Error() string { return "as" }

// As makes asError match TypeOf[*valueError] through errors.AsType.
func (asError) As(target any) bool {
	if p, ok := target.(**valueError); ok {
		*p = &valueError{msg: "converted"}
		return true
	}
	return false
}

func TestTypeOfUsesAsMethods(t *testing.T) {
	r := tracker.TypeOf[*valueError]()
	assert.Equal(t, counted(labelValue), r.Track(t.Context(), asError{}))
	assert.Equal(t, counted(labelValue), r.Track(t.Context(), fmt.Errorf("w: %w", asError{})))
}

func TestIs(t *testing.T) {
	r := tracker.Is(context.DeadlineExceeded, errPlain)
	runCases(t, r, []trackCase{
		{"first target", context.DeadlineExceeded, counted("is")},
		{"second target", errPlain, counted("is")},
		{"wrapped", fmt.Errorf("call: %w", errPlain), counted("is")},
		{"same message, other value", errors.New(errPlain.Error()), ignored("")},
		{"other", context.Canceled, ignored("")},
	})
}

// fluxgate: test_custom_tracker_on_message.
func TestCustomOnMessage(t *testing.T) {
	runCases(t, messageContains("timeout"), []trackCase{
		{"contains", errors.New("Connection TIMEOUT after 5s"), counted("custom")},
		{"wrapped", fmt.Errorf("call: %w", errTimeout), counted("custom")},
		{"does not contain", errPlain, ignored("")},
	})
}

// fluxgate: test_custom_tracker_on_attribute (5xx status codes).
func TestCustomOnAttribute(t *testing.T) {
	runCases(t, statusIs(is5xx), []trackCase{
		{"500", err500, counted("custom")},
		{"503", err503, counted("custom")},
		{"wrapped 503", fmt.Errorf("GET /: %w", err503), counted("custom")},
		{"404", err404, ignored("")},
		{"not a status error", errPlain, ignored("")},
	})
}

func TestCustomSeesTheCallsContext(t *testing.T) {
	type tenantKey struct{}
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), tenantKey{}, "acme"))
	defer cancel()

	var seen context.Context
	r := tracker.Custom(func(ctx context.Context, err error) bool {
		seen = ctx
		return ctx.Value(tenantKey{}) == "acme"
	})

	assert.Equal(t, counted("custom"), r.Track(ctx, errPlain))
	assert.Same(t, ctx, seen, "Custom receives the call's context unchanged")
	assert.Equal(t, ignored(""), r.Track(t.Context(), errPlain))

	// Through combinators and Named, the context still arrives unchanged.
	seen = nil
	composite := tracker.Named("tenant", tracker.All().And(tracker.Not(tracker.Not(r))))
	assert.Equal(t, counted("tenant"), composite.Track(ctx, errPlain))
	assert.Same(t, ctx, seen)

	// The deadline and cancellation of the call are visible as well.
	deadline := tracker.Custom(func(ctx context.Context, err error) bool {
		_, ok := ctx.Deadline()
		return ok && ctx.Err() == nil
	})
	dctx, dcancel := context.WithTimeout(ctx, time.Hour)
	defer dcancel()
	assert.True(t, deadline.Track(dctx, errPlain).Counted())
	assert.False(t, deadline.Track(ctx, errPlain).Counted())
}

func TestNilErrorIsNotClassified(t *testing.T) {
	calls := 0
	custom := tracker.Custom(func(context.Context, error) bool { calls++; return true })
	rules := map[string]tracker.Tracker{
		"all":       tracker.All(),
		"type_of":   tracker.TypeOf[*net.OpError](),
		"is":        tracker.Is(errPlain),
		"custom":    custom,
		"not":       tracker.Not(custom),
		"and":       tracker.All().And(custom),
		"or":        custom.Or(tracker.All()),
		"named":     tracker.Named("x", custom),
		"invalid":   tracker.Custom(nil),
		"nil rule":  (*tracker.Rule)(nil),
		"zero rule": &tracker.Rule{},
	}
	for name, r := range rules {
		t.Run(name, func(t *testing.T) {
			v := r.Track(t.Context(), nil)
			assert.Equal(t, tracker.Verdict{}, v)
			assert.Equal(t, sdk.DecisionNone, v.Decision)
			assert.False(t, v.Counted())
		})
	}
	assert.Zero(t, calls, "nothing is evaluated for a nil error")
}

func TestVerdictCounted(t *testing.T) {
	assert.True(t, tracker.Verdict{Decision: sdk.DecisionCounted}.Counted())
	assert.False(t, tracker.Verdict{Decision: sdk.DecisionIgnored}.Counted())
	assert.False(t, tracker.Verdict{}.Counted())
}

func TestZeroRuleIsAll(t *testing.T) {
	var r tracker.Rule
	assert.Equal(t, counted("all"), r.Track(t.Context(), errPlain))
	assert.NoError(t, r.Err())
	assert.Equal(t, "all", r.String())
}
