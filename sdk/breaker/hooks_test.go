package breaker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

func TestHookOrderForACallThatTrips(t *testing.T) {
	rec := &callRecorder{}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithHooks(rec.hooks()))
	_, err := call(b, failing)
	require.Same(t, errFail, err)
	_, err = call(b, double(1))
	requireRejected(t, err, sdk.StateOpen)
	assert.Equal(t, []string{
		"start:closed", "transition:closed->open(call)", "end:error",
		"start:open", "end:rejected",
	}, rec.eventList())
	ends := rec.endList()
	assert.Equal(t, sdk.DecisionCounted, ends[0].Decision)
	assert.Equal(t, "all", ends[0].Rule)
	assert.Same(t, errFail, ends[0].Err)
	assert.Equal(t, sdk.DecisionNone, ends[1].Decision)
	assert.ErrorIs(t, ends[1].Err, breaker.ErrNotPermitted)
}

func TestHookOrderForAProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		b := mustNew(t, append(halfOpenConfig(breaker.FailureStreak(1)), breaker.WithHooks(rec.hooks()))...)
		tripOpen(t, b, 1)
		time.Sleep(61 * time.Second)
		var seen any
		_, err := breaker.Execute(context.Background(), b, func(ctx context.Context) (int, error) {
			seen = ctx.Value(ctxKey{})
			return 1, nil
		})
		require.NoError(t, err)
		assert.Equal(t, "from-hook", seen, "fn runs under the ctx CallStart returned")
		assert.Equal(t, []string{
			"start:closed", "transition:closed->open(call)", "end:error",
			"start:half_open", "transition:open->half_open(call)", "transition:half_open->closed(call)", "end:success",
		}, rec.eventList())
	})
}

func TestTrackerSeesTheHookContext(t *testing.T) {
	rec := &callRecorder{}
	var seen any
	tr := tracker.Custom(func(ctx context.Context, err error) bool {
		seen = ctx.Value(ctxKey{})
		return true
	})
	b := mustNew(t, breaker.WithTracker(tr), breaker.WithHooks(rec.hooks()))
	_, _ = call(b, failing)
	assert.Equal(t, "from-hook", seen)
	assert.Equal(t, "custom", rec.endList()[0].Rule)
}

func TestCallEndCarriesDecisionAndDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &callRecorder{}
		b := mustNew(t, breaker.WithHooks(rec.hooks()),
			breaker.WithTracker(tracker.Named("value", tracker.TypeOf[*valueError]())))
		_, _ = call(b, func(context.Context) (int, error) { time.Sleep(3 * time.Second); return 0, &typeError{"t"} })
		_, _ = call(b, failWith(&valueError{"v"}))
		ends := rec.endList()
		require.Len(t, ends, 2)
		assert.Equal(t, sdk.DecisionIgnored, ends[0].Decision)
		assert.Empty(t, ends[0].Rule, "no rule matched the ignored error")
		assert.Equal(t, 3*time.Second, ends[0].Duration)
		assert.Equal(t, sdk.DecisionCounted, ends[1].Decision)
		assert.Equal(t, "value", ends[1].Rule)
		assert.Equal(t, sdk.StateClosed, ends[1].State)
	})
}

func TestManualTransitionUsesGivenContext(t *testing.T) {
	var got any
	b := mustNew(t, breaker.WithHooks(sdk.Hooks{StateChange: func(ctx context.Context, _ sdk.Transition) { got = ctx.Value(ctxKey{}) }}))
	b.ForceOpen(context.WithValue(context.Background(), ctxKey{}, "manual"))
	assert.Equal(t, "manual", got)
	//lint:ignore SA1012 a nil ctx is tolerated by manual commands
	b.Reset(nil)
	assert.Nil(t, got)
}

func TestRegisterAndClose(t *testing.T) {
	logs := captureDefaultLog(t)
	var reg sdk.Registration
	unregistered := 0
	h := sdk.Hooks{Register: func(r sdk.Registration) func() {
		reg = r
		return func() { unregistered++ }
	}}
	b := mustNew(t, breaker.WithHooks(h, sdk.Hooks{Register: func(sdk.Registration) func() { panic("bad register") }}))
	assert.Equal(t, "test", reg.Name)
	assert.Equal(t, sdk.StateClosed, reg.State())
	b.ForceOpen(context.Background())
	assert.Equal(t, sdk.StateForcedOpen, reg.State())
	b.Close()
	b.Close()
	assert.Equal(t, 1, unregistered, "Close is idempotent")
	assert.Contains(t, logs.String(), "hook=Register")
	_, err := call(b, double(1))
	requireRejected(t, err, sdk.StateForcedOpen)
}

func TestSlowHookDoesNotHoldTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		b := mustNew(t, breaker.WithTripper(breaker.MinRequests(1).And(breaker.FailureRate(0.5))),
			breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
			breaker.WithHooks(sdk.Hooks{StateChange: func(context.Context, sdk.Transition) {
				close(entered)
				<-release
			}}))
		done := make(chan error)
		go func() {
			_, err := call(b, failing)
			done <- err
		}()
		<-entered
		assert.Equal(t, sdk.StateOpen, b.Info().State)
		_, err := call(b, double(1))
		requireRejected(t, err, sdk.StateOpen)
		select {
		case <-done:
			t.Fatal("the tripping call returned before its hook finished")
		default:
		}
		close(release)
		assert.Same(t, errFail, <-done)
	})
}

func TestLogHooks(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name   string
		levels map[sdk.State]slog.Level
		want   map[string]string // new state -> level
	}{
		{"defaults", nil, map[string]string{"open": "WARN", "closed": "INFO", "forced_open": "WARN", "disabled": "INFO", "metrics_only": "INFO"}},
		{"custom", map[sdk.State]slog.Level{sdk.StateOpen: slog.LevelError, sdk.StateClosed: slog.LevelDebug},
			map[string]string{"open": "ERROR", "closed": "DEBUG", "forced_open": "WARN"}},
		{"partial", map[sdk.State]slog.Level{sdk.StateOpen: slog.LevelError + 4},
			map[string]string{"open": "ERROR+4", "closed": "INFO"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			b, err := breaker.New("payments", breaker.WithTripper(breaker.FailureStreak(1)),
				breaker.WithHooks(breaker.LogHooks(logger, tc.levels)))
			require.NoError(t, err)
			ctx := context.Background()
			_, _ = call(b, failing)
			b.Reset(ctx)
			b.ForceOpen(ctx)
			b.Disable(ctx)
			b.MetricsOnly(ctx)
			dec := json.NewDecoder(&buf)
			n := 0
			for dec.More() {
				var rec map[string]any
				require.NoError(t, dec.Decode(&rec))
				n++
				assert.Equal(t, "circuit breaker state changed", rec["msg"])
				assert.Equal(t, "payments", rec["circuit_name"])
				assert.Contains(t, rec, "old_state")
				assert.Contains(t, rec, "time")
				if want, ok := tc.want[rec["new_state"].(string)]; ok {
					assert.Equal(t, want, rec["level"], "new state %s", rec["new_state"])
				}
			}
			assert.Equal(t, 5, n, "one record per transition")
		})
	}
}

func TestLogHooksDefaultLogger(t *testing.T) {
	buf := captureDefaultLog(t)
	b := mustNew(t, breaker.WithHooks(breaker.LogHooks(nil, nil)))
	b.ForceOpen(context.Background())
	assert.Contains(t, buf.String(), "level=WARN")
	assert.Contains(t, buf.String(), "new_state=forced_open")
}
