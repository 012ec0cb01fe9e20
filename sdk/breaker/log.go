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
	return sdk.Hooks{StateChange: func(ctx context.Context, t sdk.Transition) {
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
