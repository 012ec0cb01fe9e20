package breaker_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

var errFail = errors.New("fail")

// valueError and typeError stand in for Python's ValueError and TypeError.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

type typeError struct{ msg string }

func (e *typeError) Error() string { return e.msg }

func double(x int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return x * 2, nil }
}

func failing(context.Context) (int, error) { return 0, errFail }

func failWith(err error) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return 0, err }
}

func mustNew(t testing.TB, opts ...breaker.Option) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New("test", opts...)
	require.NoError(t, err)
	return b
}

func call(b *breaker.Breaker, fn func(context.Context) (int, error)) (int, error) {
	return breaker.Execute(context.Background(), b, fn)
}

// events records what hooks report, safe for concurrent use.
type events[T any] struct {
	mu  sync.Mutex
	all []T
}

func (r *events[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, v)
}

// list returns a copy of what was recorded, in order.
func (r *events[T]) list() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.all...)
}

// transitions records StateChange hooks.
type transitions struct{ events[sdk.Transition] }

func (r *transitions) hooks() sdk.Hooks {
	return sdk.Hooks{StateChange: func(_ context.Context, t sdk.Transition) { r.add(t) }}
}

// pairs returns "from->to" for each transition.
func (r *transitions) pairs() []string {
	var out []string
	for _, t := range r.list() {
		out = append(out, t.From.String()+"->"+t.To.String())
	}
	return out
}

func requireRejected(t testing.TB, err error, state sdk.State) breaker.NotPermittedError {
	t.Helper()
	require.ErrorIs(t, err, breaker.ErrNotPermitted)
	var npe breaker.NotPermittedError
	require.ErrorAs(t, err, &npe)
	require.Equal(t, state, npe.State())
	return npe
}

// callRecorder records every hook in order.
type callRecorder struct {
	mu     sync.Mutex
	events []string
	starts []sdk.CallStart
	ends   []sdk.CallEnd
}

type ctxKey struct{}

func (r *callRecorder) hooks() sdk.Hooks {
	return sdk.Hooks{
		CallStart: func(ctx context.Context, info sdk.CallStart) context.Context {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, "start:"+info.State.String())
			r.starts = append(r.starts, info)
			return context.WithValue(ctx, ctxKey{}, "from-hook")
		},
		CallEnd: func(ctx context.Context, info sdk.CallEnd) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if ctx.Value(ctxKey{}) != "from-hook" {
				panic("CallEnd did not get the CallStart ctx")
			}
			r.events = append(r.events, "end:"+info.Outcome.String())
			r.ends = append(r.ends, info)
		},
		StateChange: func(ctx context.Context, t sdk.Transition) {
			r.mu.Lock()
			defer r.mu.Unlock()
			tag := ""
			if ctx.Value(ctxKey{}) == "from-hook" {
				tag = "(call)"
			}
			r.events = append(r.events, "transition:"+t.From.String()+"->"+t.To.String()+tag)
		},
	}
}

func (r *callRecorder) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *callRecorder) endList() []sdk.CallEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.CallEnd(nil), r.ends...)
}

// captureDefaultLog sends slog's default logger to a buffer for the test.
func captureDefaultLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	return &buf
}
