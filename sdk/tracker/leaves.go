package tracker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// All returns a rule that counts every error. Its label is "all". It is the
// breaker's default tracker, and is often combined with [Not] to exclude a
// few expected errors:
//
//	tracker.All().And(tracker.Not(tracker.Is(sql.ErrNoRows)))
func All() *Rule {
	return &Rule{kind: kindAll, label: labelAll}
}

// TypeOf returns a rule that counts an error when [errors.AsType] with type
// E finds it: when an error in err's chain (followed through Unwrap and
// joined errors) has type E, or, if E is an interface type such as
// [net.Error], implements it, or has an As method that accepts E. This is
// the Go counterpart of fluxgate's isinstance test: subclasses become
// wrapped errors and interface types. To count several types, combine
// rules with [Or]:
//
//	tracker.TypeOf[*net.OpError]().Or(tracker.TypeOf[*net.DNSError]())
//
// Its label is "type_of:" followed by the name of E as reflect prints it,
// for example "type_of:*net.OpError" or "type_of:net.Error".
func TypeOf[E error]() *Rule {
	return &Rule{
		kind:  kindTypeOf,
		label: "type_of:" + reflect.TypeFor[E]().String(),
		match: matchType[E],
	}
}

// matchType reports whether err's chain holds an E.
func matchType[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// Is returns a rule that counts an error when [errors.Is] matches it with
// at least one of targets, tried in order. Its label is "is".
//
// Is requires at least one target, and no target may be nil; otherwise the
// rule is invalid (see [Rule.Err]).
func Is(targets ...error) *Rule {
	r := &Rule{kind: kindIs, label: "is", targets: append([]error(nil), targets...)}
	var problems []error
	if len(targets) == 0 {
		problems = append(problems, errors.New("tracker: Is requires at least one target error"))
	}
	for i, t := range targets {
		if t == nil {
			problems = append(problems, fmt.Errorf("tracker: nil target error passed to Is (argument %d)", i+1))
		}
	}
	r.addProblems(problems...)
	return r
}

// Custom returns a rule that counts an error when fn returns true. Its label
// is "custom"; wrap it in [Named] to give it a more telling one.
//
// fn receives the context of the call unchanged, so it can decide on request
// values, the deadline or the active span as well as on the error. It must
// be safe for concurrent use and should be fast: it runs on the caller's
// goroutine after every failed call that reaches it. A nil fn makes the rule
// invalid (see [Rule.Err]).
func Custom(fn func(ctx context.Context, err error) bool) *Rule {
	r := &Rule{kind: kindCustom, label: "custom", fn: fn}
	if fn == nil {
		r.addProblems(errors.New("tracker: Custom requires a non-nil func"))
	}
	return r
}
