package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// reconfigs records Reconfigured hooks.
type reconfigs struct{ events[sdk.Reconfiguration] }

func (r *reconfigs) hooks() sdk.Hooks {
	return sdk.Hooks{Reconfigured: func(_ context.Context, c sdk.Reconfiguration) { r.add(c) }}
}

// Every problem at once, and nothing applied.
func TestReconfigureValidatesEverythingFirst(t *testing.T) {
	rec := &reconfigs{}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(2)), breaker.WithHooks(rec.hooks()))
	err := b.Reconfigure(context.Background(),
		breaker.WithTripper(breaker.FailureStreak(1)), // valid, but not applied
		breaker.WithMaxHalfOpenCalls(0),
		breaker.WithWindow(breaker.CountWindow(0)),
		breaker.WithEnforcement(3),
		breaker.WithHooks(sdk.Hooks{}),
		breaker.WithMaxKeys(3),
		nil)
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	msg := err.Error()
	for _, want := range []string{"WithMaxHalfOpenCalls(0)", "CountWindow(0)", "WithEnforcement(3)",
		"WithHooks: hooks cannot change at run time", "WithMaxKeys(3)", "option 6 is nil"} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, ce.Problems, 6)
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateClosed, b.State(), "FailureStreak(1) was not applied")
	assert.Empty(t, rec.list())
	assert.Equal(t, 1.0, b.Enforcement())
}

// The window is kept when it can serve the new settings, and replaced
// otherwise; the state and streak are kept, and the new tripper decides
// from the next outcome.
func TestReconfigureKeepsStateAndWindow(t *testing.T) {
	rec := &reconfigs{}
	tr := &transitions{}
	b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(10)), breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithHooks(rec.hooks(), tr.hooks()))
	for range 3 {
		_, _ = call(b, failing)
	}
	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithTripper(breaker.FailureStreak(4))))
	info := b.Info()
	assert.Equal(t, 3, info.Metric.TotalCount, "same window kind and size: kept")
	assert.Equal(t, 3, info.ConsecutiveFailures, "streak kept")
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateOpen, b.State(), "the fourth failure in a row trips by the new rule")
	assert.Equal(t, []string{"closed->open"}, tr.pairs())

	b.Reset(context.Background())
	_, _ = call(b, failing)
	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithWindow(breaker.CountWindow(50))))
	assert.Zero(t, b.Info().Metric.TotalCount, "another size: replaced")
	assert.Equal(t, sdk.StateClosed, b.State())
	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithTripper(breaker.SlowRate(0.5, time.Second))))
	got := rec.list()
	require.Len(t, got, 3)
	assert.Equal(t, []sdk.Change{{Setting: "tripper", From: "FailureStreak(10)", To: "FailureStreak(4)"}}, got[0].Changes)
	assert.False(t, got[0].WindowReplaced)
	assert.Equal(t, []sdk.Change{{Setting: "window", From: "CountWindow(20)", To: "CountWindow(50)"}}, got[1].Changes)
	assert.True(t, got[1].WindowReplaced)
	assert.True(t, got[2].WindowReplaced, "new slow-call thresholds need a new window")
	assert.Equal(t, "test", got[0].Name)

	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithTripper(breaker.SlowRate(0.5, time.Second))))
	assert.Len(t, rec.list(), 3, "a reconfiguration that changes nothing is not reported")
}

// An open breaker's retry time follows the new retry policy, counted from
// when it opened.
func TestReconfigureRetryOfAnOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1)), breaker.WithRetry(breaker.Cooldown(time.Hour, 0)),
			breaker.WithPermit(breaker.All()))
		_, _ = call(b, failing)
		time.Sleep(10 * time.Second)
		_, err := call(b, double(1))
		npe := requireRejected(t, err, sdk.StateOpen)
		assert.Equal(t, time.Hour-10*time.Second, time.Until(npe.RetryAt()))
		require.NoError(t, b.Reconfigure(context.Background(), breaker.WithRetry(breaker.Cooldown(30*time.Second, 0))))
		_, err = call(b, double(1))
		npe = requireRejected(t, err, sdk.StateOpen)
		assert.Equal(t, 20*time.Second, time.Until(npe.RetryAt()))
		time.Sleep(20 * time.Second)
		v, err := call(b, double(1))
		require.NoError(t, err)
		assert.Equal(t, 2, v)
		assert.Equal(t, sdk.StateClosed, b.State())
	})
}

// Raising the half-open slot limit lets the waiting callers in at once.
func TestReconfigureHalfOpenLimitWakesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.WithTripper(breaker.FailureStreak(1).Or(breaker.HalfOpened())),
			breaker.WithRetry(breaker.Always()), breaker.WithPermit(breaker.All()),
			breaker.WithMaxHalfOpenCalls(1), breaker.WithHalfOpenWait(time.Hour))
		_, _ = call(b, failing)
		probe, err := b.Allow(context.Background())
		require.NoError(t, err)
		defer probe.Done(nil)
		done := make(chan error, 1)
		go func() { _, err := call(b, double(1)); done <- err }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("the second caller should wait for the only slot")
		default:
		}
		require.NoError(t, b.Reconfigure(context.Background(), breaker.WithMaxHalfOpenCalls(2)))
		synctest.Wait()
		select {
		case err := <-done:
			assert.NoError(t, err)
		default:
			t.Fatal("the waiter did not get the new slot")
		}
	})
}

// A group's reconfiguration reaches every key, present and future, with
// each key's own options applied after the group's; a key option that
// fails makes the whole reconfiguration fail.
func TestGroupReconfigure(t *testing.T) {
	rec := &reconfigs{}
	g, err := breaker.NewGroup("hosts", breaker.WithHooks(rec.hooks()), breaker.WithTripper(breaker.FailureStreak(5)),
		breaker.WithKeyOptions(func(key string) []breaker.Option {
			switch key {
			case "strict":
				return []breaker.Option{breaker.WithMaxHalfOpenCalls(1)}
			case "pinned":
				return []breaker.Option{breaker.WithEnforcement(1)}
			}
			return nil
		}))
	require.NoError(t, err)
	defer g.Close()
	a, _ := g.Get("a")
	s, _ := g.Get("strict")
	require.NoError(t, g.Reconfigure(context.Background(), breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithMaxHalfOpenCalls(3), breaker.WithEnforcement(0.5), breaker.WithMaxOpenFraction(0.5)))
	c, _ := g.Get("c") // built after
	for _, b := range []*breaker.Breaker{a, s, c} {
		assert.Equal(t, 0.5, b.Enforcement(), b.Key())
		_, _ = breaker.Execute(context.Background(), b, failing)
	}
	assert.Equal(t, sdk.StateOpen, a.State())
	assert.Equal(t, sdk.StateClosed, s.State(), "capped: 1 of 2 keys may be open (floor of 0.5 x 2, at least 1)")
	assert.Equal(t, sdk.StateClosed, c.State(), "3 keys: still 1 (floor of 1.5)")
	d, _ := g.Get("d")
	_, _ = breaker.Execute(context.Background(), d, failing)
	assert.Equal(t, sdk.StateOpen, d.State(), "4 keys: room for 2")
	var strictChanges []sdk.Change
	for _, r := range rec.list() {
		if r.Key == "strict" {
			strictChanges = r.Changes
		}
	}
	var settings []string
	for _, ch := range strictChanges {
		settings = append(settings, ch.Setting)
	}
	assert.Equal(t, []string{"tripper", "enforcement"}, settings, "the key keeps its own max_half_open_calls (1)")

	require.NoError(t, g.SetEnforcement(0))
	for _, b := range []*breaker.Breaker{a, s, c, d} {
		assert.Equal(t, 0.0, b.Enforcement())
	}
	pinned, _ := g.Get("pinned")
	assert.Equal(t, 1.0, pinned.Enforcement(), "a key's own enforcement wins")
	n := len(rec.list())
	err = g.Reconfigure(context.Background(), breaker.WithMaxKeys(5), breaker.WithIdleTimeout(0), breaker.WithHooks(sdk.Hooks{}),
		breaker.WithMaxOpenFraction(0), breaker.WithTracker(tracker.All()))
	var ce *breaker.ConfigError
	require.ErrorAs(t, err, &ce)
	for _, want := range []string{"WithMaxKeys(5): cannot change at run time", "WithIdleTimeout(0s): cannot change at run time",
		"WithHooks", "WithMaxOpenFraction(0): must be greater than 0"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Len(t, rec.list(), n, "nothing applied")
}

func TestWithMaxOpenFractionIsValidated(t *testing.T) {
	for _, f := range []float64{0, -1, 1.5} {
		_, err := breaker.NewGroup("g", breaker.WithMaxOpenFraction(f))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "must be greater than 0 and at most 1")
	}
	_, err := breaker.New("b", breaker.WithMaxOpenFraction(0.1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "an option of NewGroup only")
}

// A forced-open key is never capped, and counts against the cap; the
// cap's room comes back when it is reset.
func TestGroupCapCountsForcedOpen(t *testing.T) {
	g, err := breaker.NewGroup("g", breaker.WithMaxOpenFraction(0.1), breaker.WithTripper(breaker.FailureStreak(1)))
	require.NoError(t, err)
	defer g.Close()
	a, _ := g.Get("a")
	b, _ := g.Get("b")
	require.NoError(t, g.ForceOpen(context.Background(), "c"))
	require.NoError(t, g.ForceOpen(context.Background(), "d"))
	assert.Equal(t, 2, g.OpenKeys(), "an operator's command is never capped")
	_, _ = call(a, failing)
	assert.Equal(t, sdk.StateClosed, a.State())
	assert.EqualValues(t, 1, g.TripsCapped())
	require.NoError(t, g.Reset(context.Background(), "c"))
	require.NoError(t, g.Reset(context.Background(), "d"))
	_, _ = call(a, failing)
	assert.Equal(t, sdk.StateOpen, a.State(), "room again: the next failure trips")
	_, _ = call(b, failing)
	assert.Equal(t, sdk.StateClosed, b.State(), "4 keys x 0.1: at least one")
	assert.Equal(t, 1, g.OpenKeys())
}

// Group reconfigurations race with Gets that build and evict keys and with
// calls: afterwards every breaker the group holds has the last settings.
func TestGroupReconfigureRacesWithNewKeys(t *testing.T) {
	g, err := breaker.NewGroup("race", breaker.WithMaxKeys(16), breaker.WithIdleTimeout(0),
		breaker.WithTripper(breaker.FailureStreak(3)), breaker.WithMaxOpenFraction(0.5),
		breaker.WithKeyOptions(func(key string) []breaker.Option {
			if key == "k1" {
				return []breaker.Option{breaker.WithMaxHalfOpenCalls(2)}
			}
			return nil
		}))
	require.NoError(t, err)
	defer g.Close()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 400 {
				b, err := g.Get(fmt.Sprintf("k%d", (w*31+i)%40))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = breaker.Execute(context.Background(), b, func(context.Context) (int, error) {
					if i%3 == 0 {
						return 0, errors.New("down")
					}
					return 1, nil
				})
			}
		})
	}
	last := 0.0
	wg.Go(func() {
		for i := range 100 {
			f := float64(i%5) / 4
			if err := g.Reconfigure(context.Background(), breaker.WithEnforcement(f),
				breaker.WithTripper(breaker.FailureStreak(2+i%3))); err != nil {
				t.Error(err)
			}
			last = f
		}
	})
	wg.Wait()
	for key := range g.Info() {
		if key == breaker.OverflowKey {
			continue
		}
		b, err := g.Get(key)
		require.NoError(t, err)
		assert.Equal(t, last, b.Enforcement(), key)
	}
	assert.LessOrEqual(t, g.OpenKeys(), max(1, g.Len()/2+1))
}

// The half-open timeout and the permit (AdmitFirst included) change at
// run time like any setting, and WithFluxgateDefaults switches a running
// breaker to fluxgate's components.
func TestReconfigureHalfOpenTimeoutAndPermit(t *testing.T) {
	rec := &reconfigs{}
	b := mustNew(t, breaker.WithHooks(rec.hooks()), breaker.WithPermit(breaker.All()))
	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithHalfOpenTimeout(0),
		breaker.WithPermit(breaker.AdmitFirst(breaker.Random(0.5)))))
	got := rec.list()
	require.Len(t, got, 1)
	var settings []string
	for _, c := range got[0].Changes {
		settings = append(settings, c.Setting)
	}
	assert.Equal(t, []string{"permit", "half_open_timeout"}, settings)
	assert.Equal(t, sdk.Change{Setting: "half_open_timeout", From: breaker.DefaultHalfOpenTimeout.String(), To: "0s"}, got[0].Changes[1])

	require.NoError(t, b.Reconfigure(context.Background(), breaker.WithFluxgateDefaults()))
	got = rec.list()
	require.Len(t, got, 2)
	settings = settings[:0]
	for _, c := range got[1].Changes {
		settings = append(settings, c.Setting)
	}
	assert.Contains(t, settings, "tripper")
	assert.Contains(t, settings, "permit")
	assert.False(t, got[1].WindowReplaced, "the default window stays")
}
