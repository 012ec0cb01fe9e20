package sdk

import "context"

// Hooks are optional callbacks through which a breaker reports what it does.
// Any field may be nil. A breaker accepts several Hooks values and calls
// them in the order they were given.
//
// A breaker never calls a hook while holding its lock, so any hook may call
// the breaker back: Execute and Do (a StateChange hook may even probe a
// breaker that has just entered half-open), State, Info and the manual
// commands. A call made from inside a hook never waits for hooks to be
// delivered; what it reports is delivered after the running hook returns.
// A panic raised by a hook is recovered and reported through log/slog's
// default logger; it never changes the breaker's state or the caller's
// result. A hook that ends its goroutine (runtime.Goexit, as t.FailNow
// does) does not make the breaker record a call twice or report it twice.
//
// Order and goroutines. For each call, CallStart comes first, then the
// transitions the call caused, then its CallEnd; every call that reaches a
// breaker, admitted or refused, gets exactly one CallStart and one CallEnd.
// A breaker's transitions reach StateChange in the order they happened,
// each exactly once, even when different goroutines made them. CallStart
// always runs on the caller's goroutine, before the protected function. A
// StateChange, and the CallEnd of a call whose transition had not been
// delivered yet when it ended, may run on the goroutine of another call
// (or manual command) of the same breaker, and after the call that caused
// it returned: one goroutine at a time delivers a breaker's transitions,
// so a slow StateChange hook delays later transitions of that breaker, but
// not calls that have none to report. Everything else runs on the caller's
// goroutine and adds to the call's latency: keep hooks fast.
type Hooks struct {
	// Register is called once, when the breaker is built, with its name and
	// a way to read its state. It may return a func that the breaker calls
	// from Close, to release what the hook keeps for this breaker.
	Register func(Registration) (unregister func())

	// CallStart is called for every call that reaches the breaker, after
	// admission was decided and before the protected function runs. The
	// context it returns is the one the protected function, StateChange
	// and CallEnd receive; return ctx itself to leave it unchanged.
	CallStart func(ctx context.Context, info CallStart) context.Context

	// CallEnd is called once for every call for which CallStart was called,
	// after its outcome was recorded (and its half-open slot given back),
	// usually before the caller gets the result (see the order above). For
	// a panic it is called before the panic continues.
	CallEnd func(ctx context.Context, info CallEnd)

	// StateChange is called for every transition, in order, with the
	// context of the call that caused it (as derived by its CallStart
	// hooks; between its CallStart and CallEnd), or with the context given
	// to the manual command.
	StateChange func(ctx context.Context, t Transition)

	// TripCapped is called when a breaker.Group's cap on open keys keeps a
	// key closed although its tripper fired, with the context of the call
	// whose outcome fired it, before that call's CallEnd.
	TripCapped func(ctx context.Context, info TripCapped)

	// Reconfigured is called after a breaker's settings changed at run
	// time, with the context given to the reconfiguration
	// (context.Background for SetEnforcement). A reconfiguration that
	// changes nothing is not reported.
	Reconfigured func(ctx context.Context, r Reconfiguration)
}

// Registration identifies a breaker to a Register hook.
type Registration struct {
	// Name is the breaker's name.
	Name string
	// Key is the breaker's key within its breaker.Group; empty for a
	// breaker built by breaker.New. Breakers of one group share Name and
	// differ by Key.
	Key string
	// State returns the breaker's current state. It is safe to call at any
	// time from any goroutine, and cheap (one atomic load).
	State func() State
	// Window returns a snapshot of the breaker's window, for gauges read at
	// collection time; nil when the breaker does not provide one. It is safe
	// to call at any time from any goroutine; it may take the breaker's lock
	// briefly, never a hook's.
	Window func() WindowSnapshot
}
