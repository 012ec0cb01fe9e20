// Package tracker classifies errors for a circuit breaker: it decides, for
// every error a protected call returns, whether the error is counted
// against the breaker or ignored.
//
// # Model
//
// A [Tracker] receives the call's context and the error and returns a
// [Verdict]: a [sdk.Decision] and the label of the rule that decided.
// A counted error ([sdk.DecisionCounted]) is a failure: the breaker records
// it and may trip. An ignored error ([sdk.DecisionIgnored]) is returned to
// the caller like any other, but nothing is recorded. A nil error is never
// classified: Track returns the zero Verdict ([sdk.DecisionNone], no rule).
//
// The package provides four leaf rules, three combinators and a way to
// label rules, all of type *[Rule]:
//
//   - [All] counts every error. It is the breaker's default tracker.
//   - [TypeOf] counts errors that [errors.AsType] finds in the chain, so
//     wrapped errors and interface types such as [net.Error] match.
//   - [Is] counts errors that match one of its targets with [errors.Is].
//   - [Custom] counts errors for which a func of the context and the error
//     returns true. The func sees the call's context unchanged, with its
//     request values, deadline and the active span.
//   - [And], [Or] and [Not] (or the methods [Rule.And], [Rule.Or] and
//     [Rule.Not]) combine trackers. [Not] of [Not] of a rule is the rule
//     itself.
//   - [Named] labels a rule (see below).
//
// For example, to count network errors and 5xx responses, but never a 401:
//
//	network := tracker.TypeOf[*net.OpError]().Or(tracker.Is(context.DeadlineExceeded))
//	server := tracker.Custom(func(ctx context.Context, err error) bool { ... })
//	auth := tracker.Custom(func(ctx context.Context, err error) bool { ... })
//	t := network.Or(server).And(auth.Not())
//
// # Short-circuit evaluation and rule labels
//
// Combinators evaluate their children in argument order and stop as soon as
// the result is known: And stops at the first child that ignores the error,
// Or at the first child that counts it. A child that is not evaluated is not
// called, so a [Custom] func placed after a cheap [TypeOf] runs only when it
// has to.
//
// Every leaf has a label: "all", "type_of:" followed by the type's name (for
// example "type_of:*net.OpError"), "is" and "custom". [Named] gives a rule a
// label of its own. The breaker reports the verdict's label with every
// error, so the label is what telemetry shows as the rule that counted or
// ignored an error; [Rule.String] shows the whole rule as an expression such
// as "(type_of:*net.OpError | custom) & !is".
//
// # Which rule a verdict names
//
// A verdict names only a rule that matched the error, so that "ignored by
// rule timeout" never appears for an error the timeout rule knows nothing
// about. A leaf matches when its test is true; [Named] renames whatever
// matched inside it. breakerhttp and breakergrpc follow the same
// convention. [Verdict.Rule] is "" when no rule is named. For every kind of
// rule:
//
//	rule              counts the error when    verdict when it counts          verdict when it ignores
//	----------------  -----------------------  ------------------------------  ---------------------------------
//	All               always                   counted, "all"                  (never ignores)
//	TypeOf, Is,       its test matches         counted, its own label          ignored, no rule
//	Custom
//	Named(label, t)   t counts it              counted, label                  ignored, label if t's verdict
//	                                                                           names a rule, else no rule
//	Not(t)            t ignores it             counted, no rule                ignored, the rule t counted it by
//	And(t1, ..., tn)  every ti counts it       counted, the label of the last  the verdict of the first ti that
//	                                           ti whose verdict names a rule   ignored it
//	Or(t1, ..., tn)   some ti counts it        the verdict of the first ti     ignored, no rule
//	                                           that counted it
//
// So Named("5xx", a).Or(Named("timeout", b)) and Named("transient", a.Or(b))
// both ignore a 404 naming no rule (nothing matched it), and
// Named("not_probe", All().And(isProbe.Not())) ignores a probe error as
// "not_probe" (the exclusion matched it). All().And(Is(sql.ErrNoRows).Not()) counts io.EOF as "all" and
// ignores sql.ErrNoRows as "is", the exclusion that matched. When names
// are nested, the outermost one wins. [Not] of [Not] of a *Rule is the rule
// itself, so it names what the rule names. A [Tracker] that is not a *Rule
// names whatever its verdict says; combinators treat its verdict like a
// rule's.
//
// # Validation
//
// Constructors never panic. A rule built from invalid arguments, such as
// [Is] with no targets or [Custom] with a nil func, records the problem;
// [Rule.Err] (or [Validate]) returns every problem in the rule's tree at
// once, and the breaker refuses a tracker that does not validate. An invalid
// rule that is used anyway counts every error, like [All].
//
// # Concurrency and cost
//
// A *Rule is immutable once built and safe for concurrent use by any number
// of goroutines; the funcs given to [Custom] and any other [Tracker] used
// inside a rule must be safe for concurrent use too. Labels are computed
// when a rule is built, and Track on any rule built from this package's
// constructors allocates nothing (except what a [Custom] func or a foreign
// [Tracker] allocates, and a [TypeOf] test against an error whose chain has
// an As method). A panic in a [Custom] func or a foreign tracker is not
// recovered here; the breaker records it like a panic of the protected call.
package tracker
