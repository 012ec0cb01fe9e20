package breaker

import (
	"context"
	"log/slog"

	"github.com/fluxgate/fluxgate/sdk"
)

// hookSet is the breaker's hooks, split by kind with nil funcs dropped, so
// that a breaker without hooks pays one length check per call.
type hookSet struct {
	callStart   []func(context.Context, sdk.CallStart) context.Context
	callEnd     []func(context.Context, sdk.CallEnd)
	stateChange []func(context.Context, sdk.Transition)
	tripCapped  []func(context.Context, sdk.TripCapped)
	reconfig    []func(context.Context, sdk.Reconfiguration)
}

func newHookSet(hs []sdk.Hooks) hookSet {
	var s hookSet
	for _, h := range hs {
		if h.CallStart != nil {
			s.callStart = append(s.callStart, h.CallStart)
		}
		if h.CallEnd != nil {
			s.callEnd = append(s.callEnd, h.CallEnd)
		}
		if h.StateChange != nil {
			s.stateChange = append(s.stateChange, h.StateChange)
		}
		if h.TripCapped != nil {
			s.tripCapped = append(s.tripCapped, h.TripCapped)
		}
		if h.Reconfigured != nil {
			s.reconfig = append(s.reconfig, h.Reconfigured)
		}
	}
	return s
}

// calls reports whether any per-call hook is set.
func (s *hookSet) calls() bool { return len(s.callStart) > 0 || len(s.callEnd) > 0 }

// any reports whether any per-call or StateChange hook is set.
func (s *hookSet) any() bool { return s.calls() || len(s.stateChange) > 0 }

func (s *hookSet) start(ctx context.Context, info sdk.CallStart) context.Context {
	for _, f := range s.callStart {
		ctx = safeStart(f, ctx, info)
	}
	return ctx
}

func (s *hookSet) end(ctx context.Context, info sdk.CallEnd) {
	for _, f := range s.callEnd {
		safeEnd(f, ctx, info)
	}
}

func (s *hookSet) transition(ctx context.Context, t sdk.Transition) {
	for _, f := range s.stateChange {
		safeTransition(f, ctx, t)
	}
}

func (s *hookSet) capped(ctx context.Context, info sdk.TripCapped) {
	for _, f := range s.tripCapped {
		func() {
			defer func() {
				if r := recover(); r != nil {
					hookPanicked("TripCapped", info.Name, r)
				}
			}()
			f(ctx, info)
		}()
	}
}

func (s *hookSet) reconfigured(ctx context.Context, r sdk.Reconfiguration) {
	for _, f := range s.reconfig {
		func() {
			defer func() {
				if p := recover(); p != nil {
					hookPanicked("Reconfigured", r.Name, p)
				}
			}()
			f(ctx, r)
		}()
	}
}

func safeStart(f func(context.Context, sdk.CallStart) context.Context, ctx context.Context, info sdk.CallStart) (out context.Context) {
	out = ctx
	defer func() {
		if r := recover(); r != nil {
			out = ctx
			hookPanicked("CallStart", info.Name, r)
		}
	}()
	if c := f(ctx, info); c != nil {
		out = c
	}
	return out
}

func safeEnd(f func(context.Context, sdk.CallEnd), ctx context.Context, info sdk.CallEnd) {
	defer func() {
		if r := recover(); r != nil {
			hookPanicked("CallEnd", info.Name, r)
		}
	}()
	f(ctx, info)
}

func safeTransition(f func(context.Context, sdk.Transition), ctx context.Context, t sdk.Transition) {
	defer func() {
		if r := recover(); r != nil {
			hookPanicked("StateChange", t.Name, r)
		}
	}()
	f(ctx, t)
}

func hookPanicked(hook, name string, r any) {
	slog.Default().Error("fluxgate: a breaker hook panicked; the breaker is unaffected",
		slog.String("hook", hook), slog.String("circuit_name", name), slog.Any("panic", r))
}
