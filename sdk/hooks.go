package sdk

import "context"

// Hooks are optional callbacks through which a breaker reports what it does.
// Any field may be nil. A breaker accepts several Hooks values and calls
// them in the order they were given.
//
// A breaker never calls a hook while holding its lock, so hooks may call
// the breaker's methods (State, Info, even Reset). A panic raised by a hook
// is recovered and reported through log/slog's default logger; it never
// changes the breaker's state or the caller's result. Hooks run on the
// caller's goroutine and add to the call's latency: keep them fast.
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
	// after its outcome was recorded and before the caller gets the result.
	// For a panic it is called before the panic continues.
	CallEnd func(ctx context.Context, info CallEnd)

	// StateChange is called for every transition, with the context of the
	// call that caused it (between its CallStart and CallEnd), or with the
	// context given to the manual command.
	StateChange func(ctx context.Context, t Transition)
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
