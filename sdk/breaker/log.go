package breaker

import (
	"context"
	"log/slog"

	"github.com/fluxgate/fluxgate/sdk"
)

// LogHooks returns hooks that log every state transition to logger, like
// fluxgate's LogListener: at slog.LevelWarn when the new state is open or
// forced_open, at slog.LevelInfo otherwise. levels overrides the level per
// new state and is merged over those defaults; it may be nil. A nil logger
// means slog.Default() at the time of each transition.
//
// Each record has the message "circuit breaker state changed" and the
// attributes circuit_name, old_state, new_state and reason, plus
// window_calls and window_failures (the window's counts before the
// transition reset it).
//
// The hooks also log, at slog.LevelInfo, every reconfiguration
// ("circuit breaker reconfigured": circuit_name, key when not empty,
// changes — one "setting: from -> to" string per change — and
// window_replaced), and, at slog.LevelWarn, every trip a Group's cap on
// open keys refused ("circuit breaker trip capped": circuit_name, key,
// open_keys, max_open_keys, window_calls, window_failures).
func LogHooks(logger *slog.Logger, levels map[sdk.State]slog.Level) sdk.Hooks {
	var lv [sdk.NumStates]slog.Level
	for _, s := range sdk.States() {
		lv[s] = slog.LevelInfo
	}
	lv[sdk.StateOpen] = slog.LevelWarn
	lv[sdk.StateForcedOpen] = slog.LevelWarn
	for s, l := range levels {
		if s.Valid() {
			lv[s] = l
		}
	}
	get := func() *slog.Logger {
		if logger == nil {
			return slog.Default()
		}
		return logger
	}
	return sdk.Hooks{Reconfigured: func(ctx context.Context, r sdk.Reconfiguration) {
		l := get()
		if !l.Enabled(ctx, slog.LevelInfo) {
			return
		}
		changes := make([]string, len(r.Changes))
		for i, c := range r.Changes {
			changes[i] = c.Setting + ": " + c.From + " -> " + c.To
		}
		attrs := []slog.Attr{slog.String("circuit_name", r.Name)}
		if r.Key != "" {
			attrs = append(attrs, slog.String("key", r.Key))
		}
		attrs = append(attrs, slog.Any("changes", changes), slog.Bool("window_replaced", r.WindowReplaced))
		l.LogAttrs(ctx, slog.LevelInfo, "circuit breaker reconfigured", attrs...)
	}, TripCapped: func(ctx context.Context, c sdk.TripCapped) {
		l := get()
		if !l.Enabled(ctx, slog.LevelWarn) {
			return
		}
		l.LogAttrs(ctx, slog.LevelWarn, "circuit breaker trip capped",
			slog.String("circuit_name", c.Name),
			slog.String("key", c.Key),
			slog.Int("open_keys", c.Open),
			slog.Int("max_open_keys", c.Limit),
			slog.Int("window_calls", c.Window.Calls),
			slog.Int("window_failures", c.Window.Failures),
		)
	}, StateChange: func(ctx context.Context, t sdk.Transition) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		level := slog.LevelInfo
		if t.To.Valid() {
			level = lv[t.To]
		}
		if !l.Enabled(ctx, level) {
			return
		}
		l.LogAttrs(ctx, level, "circuit breaker state changed",
			slog.String("circuit_name", t.Name),
			slog.String("old_state", t.From.String()),
			slog.String("new_state", t.To.String()),
			slog.String("reason", t.Reason.String()),
			slog.Int("window_calls", t.Window.Calls),
			slog.Int("window_failures", t.Window.Failures),
		)
	}}
}
