package breakergrpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Labels of the rules of this package, as [tracker.Verdict.Rule] and the
// breaker's telemetry (circuit_breaker.rule) report them.
const (
	// RuleFailure labels the verdicts of [Tracker].
	RuleFailure = "grpc_failure"
	// RuleCode labels the verdicts of [Codes].
	RuleCode = "grpc_code"
)

// failureCodes are the status codes Tracker counts.
var failureCodes = []codes.Code{
	codes.Unavailable,
	codes.DeadlineExceeded,
	codes.ResourceExhausted,
	codes.Internal,
	codes.Unknown,
	codes.DataLoss,
}

// Tracker returns the ready rule for gRPC. It counts an error whose status
// code says that the server, or the way to it, is failing or overloaded:
// Unavailable, DeadlineExceeded, ResourceExhausted, Internal, Unknown and
// DataLoss. It ignores every other error: Canceled (the caller gave up)
// and the codes that describe the request rather than the server's health
// (InvalidArgument, NotFound, AlreadyExists, PermissionDenied,
// Unauthenticated, FailedPrecondition, OutOfRange, Unimplemented, Aborted).
// An error
// that carries no gRPC status counts as gRPC would send it: the context
// errors as DeadlineExceeded (counted) and Canceled (ignored), anything
// else as Unknown (counted). A counted error names the rule [RuleFailure];
// an ignored one names no rule, since no rule matched it (as an ignored 404
// names none through breakerhttp.DefaultTracker), so that telemetry
// grouped by circuit_breaker.rule shows only the errors a rule matched.
// Wrap it in [tracker.Named] to give its counted errors another label.
//
// Give it to the breaker that the interceptors use:
//
//	b, err := breaker.New("inventory", breaker.WithTracker(breakergrpc.Tracker()))
//
// It is an ordinary [tracker.Rule], so every combinator applies; to count
// Aborted as well, and never a failure of one method:
//
//	breakergrpc.Tracker().Or(breakergrpc.Codes(codes.Aborted)).And(tracker.Not(isReport))
func Tracker() *tracker.Rule {
	return labelled(RuleFailure, codeRule(failureCodes))
}

// Codes returns a rule that counts an error whose status code (read as
// [Tracker] reads it) is one of cs, and ignores every other error. A
// counted error names the rule [RuleCode]; an ignored one names none.
//
// Codes panics if cs is empty or holds codes.OK, which no error has.
func Codes(cs ...codes.Code) *tracker.Rule {
	if len(cs) == 0 {
		panic("breakergrpc: Codes requires at least one code")
	}
	return labelled(RuleCode, codeRule(cs))
}

// labelled returns a rule that decides as r does and names label only on
// the verdicts of errors r matched, as every [tracker.Named] rule does.
func labelled(label string, r *tracker.Rule) *tracker.Rule {
	return tracker.Named(label, r)
}

// codeRule returns the unnamed rule that counts the codes cs.
func codeRule(cs []codes.Code) *tracker.Rule {
	var set codeSet
	for _, c := range cs {
		if c == codes.OK {
			panic("breakergrpc: codes.OK is not an error code")
		}
		set = set.with(c)
	}
	return tracker.Custom(func(_ context.Context, err error) bool {
		return set.has(codeOf(err))
	})
}

// codeSet is a set of status codes. The codes gRPC defines (0 to 16) are
// bits; the set holds at most 64 codes, which is all any gRPC
// implementation defines.
type codeSet uint64

func (s codeSet) with(c codes.Code) codeSet {
	if c >= 64 {
		panic(fmt.Sprintf("breakergrpc: status code %d is out of range", c))
	}
	return s | 1<<c
}

func (s codeSet) has(c codes.Code) bool { return c < 64 && s&(1<<c) != 0 }
