package tracker

import (
	"context"

	"github.com/fluxgate/fluxgate/sdk"
)

// Verdict is a tracker's decision about one error plus the label of the rule
// that decided.
type Verdict struct {
	// Decision is DecisionCounted or DecisionIgnored for a non-nil error,
	// and DecisionNone when there was no error to classify.
	Decision sdk.Decision
	// Rule is the label of the rule that decided: a rule that matched the
	// error, or a [Named] rule. It is "" when no rule matched, for example
	// when no branch of an [Or] counted the error (see "Which rule a
	// verdict names" in the package documentation).
	Rule string
}

// Counted reports whether the error counts against the breaker, that is
// whether v.Decision is sdk.DecisionCounted.
func (v Verdict) Counted() bool { return v.Decision == sdk.DecisionCounted }

// Tracker classifies errors.
//
// Track is called with the context of the call and the error it returned.
// For a nil error it returns the zero Verdict; for a non-nil error it returns
// DecisionCounted or DecisionIgnored and the label of the rule that decided.
// Combinators treat any decision other than DecisionCounted as ignored.
//
// Implementations must be safe for concurrent use, must not retain ctx, and
// should be fast: Track runs on the caller's goroutine after every failed
// call.
type Tracker interface {
	Track(ctx context.Context, err error) Verdict
}
