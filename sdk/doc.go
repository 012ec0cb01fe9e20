// Package sdk holds the vocabulary that every part of fluxgate shares: the
// breaker [State], the [Outcome] of a call and the tracker's [Decision] about
// an error, the event structs that describe calls and state transitions, and
// the [Hooks] contract through which a breaker reports what it does.
//
// The package has no behaviour of its own and imports only the standard
// library. The breaker lives in package
// github.com/fluxgate/fluxgate/sdk/breaker, error classification in
// github.com/fluxgate/fluxgate/sdk/tracker, and the OpenTelemetry integration,
// which turns [Hooks] into spans and metrics, in
// github.com/fluxgate/fluxgate/otelbridge.
//
// # Hooks
//
// [Hooks] follows the style of net/http/httptrace.ClientTrace: a struct of
// optional funcs, each receiving the call's context and an info struct. A
// breaker calls them outside its lock, recovers any panic they raise, and
// calls them in the order the hooks were given. Every call that reaches a
// breaker, admitted or rejected, produces exactly one CallStart and exactly
// one CallEnd, and every state transition produces exactly one StateChange.
package sdk
