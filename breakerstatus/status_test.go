package breakerstatus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func TestStatusJSON(t *testing.T) {
	f := newFixture(t)
	fail(f.b)
	fail(f.b) // the second counted failure trips it
	hb, err := f.g.Get("b")
	require.NoError(t, err)
	hb.ForceOpen(t.Context())
	h, err := breakerstatus.NewHandler(f.reg)
	require.NoError(t, err)

	for _, tc := range []struct{ name, target, accept string }{
		{"format", "/debug/breakers?format=json", ""},
		{"accept", "/debug/breakers", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, h, tc.target, "Accept", tc.accept)
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))

			// Every documented field is present, null where documented.
			var raw map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
			for _, k := range []string{"schema", "generated_at", "commands", "breakers", "groups", "recent_transitions", "untracked"} {
				assert.Contains(t, raw, k)
			}
			pay := raw["breakers"].([]any)[0].(map[string]any)
			for _, k := range []string{"name", "key", "state", "since", "since_seconds", "window", "consecutive_failures",
				"reopens", "enforcement", "enforcement_mode", "probe", "probe_at", "last_counted_error", "recording", "transitions"} {
				assert.Contains(t, pay, k)
			}
			grp := raw["groups"].([]any)[0].(map[string]any)
			for _, k := range []string{"name", "keys", "breakers", "omitted", "max_open_fraction", "has_cap", "max_open_keys",
				"open_keys", "trips_capped"} {
				assert.Contains(t, grp, k)
			}
			assert.Nil(t, grp["max_open_keys"], "no cap: null")
			win := pay["window"].(map[string]any)
			for _, k := range []string{"calls", "failures", "failure_rate", "slow"} {
				assert.Contains(t, win, k)
			}
		})
	}

	st := status(t, h)
	assert.Equal(t, breakerstatus.Schema, st.Schema)
	assert.Equal(t, "fluxgate.breakerstatus/v1", st.Schema)
	assert.False(t, st.Commands, "no authorisation func: read-only")
	assert.WithinDuration(t, time.Now(), st.GeneratedAt, time.Minute)

	require.Len(t, st.Breakers, 1)
	p := st.Breakers[0]
	assert.Equal(t, "payments", p.Name)
	assert.Equal(t, "open", p.State)
	assert.True(t, p.Recording)
	assert.Equal(t, breakerstatus.ProbeAt, p.Probe)
	require.NotNil(t, p.ProbeAt)
	assert.Equal(t, p.Since.Add(60*time.Second), *p.ProbeAt, "the default cooldown")
	require.NotNil(t, p.LastCountedError)
	assert.Equal(t, "counted", p.LastCountedError.Decision)
	assert.Equal(t, "upstream_5xx", p.LastCountedError.Rule)
	assert.Equal(t, "503", p.LastCountedError.ErrorType)
	require.Len(t, p.Transitions, 1)
	tr := p.Transitions[0]
	assert.Equal(t, "closed", tr.From)
	assert.Equal(t, "open", tr.To)
	assert.Equal(t, "tripped", tr.Reason)
	assert.Equal(t, 2, tr.WindowCalls)
	assert.Equal(t, 2, tr.WindowFailures)
	require.NotNil(t, tr.Cause, "the call that tripped it")
	assert.Equal(t, breakerstatus.Cause{At: tr.Cause.At, Outcome: "error", Decision: "counted", Rule: "upstream_5xx", ErrorType: "503",
		DurationSeconds: tr.Cause.DurationSeconds}, *tr.Cause)
	assert.Equal(t, 0, p.Window.Calls, "the transition reset the window")
	assert.Nil(t, p.Window.FailureRate, "empty window: no rate")
	assert.Equal(t, 1.0, p.Enforcement, "the default")
	assert.Equal(t, breakerstatus.EnforcementFull, p.EnforcementMode)

	require.Len(t, st.Groups, 1)
	grp := st.Groups[0]
	assert.Equal(t, "hosts", grp.Name)
	assert.Equal(t, 2, grp.Keys)
	require.Len(t, grp.Breakers, 2)
	assert.Equal(t, "b", grp.Breakers[0].Key, "not closed first")
	assert.Equal(t, "forced_open", grp.Breakers[0].State)
	assert.Equal(t, breakerstatus.ProbeManual, grp.Breakers[0].Probe)
	assert.Equal(t, "a", grp.Breakers[1].Key)
	assert.Equal(t, breakerstatus.ProbePassing, grp.Breakers[1].Probe)
	assert.Equal(t, 1.0, grp.MaxOpenFraction, "the default: no cap")
	assert.False(t, grp.HasCap)
	assert.Nil(t, grp.MaxOpenKeys)
	assert.Equal(t, 1, grp.OpenKeys, "b is forced open")
	assert.Zero(t, grp.TripsCapped)

	require.Len(t, st.Recent, 2)
	assert.Equal(t, "hosts", st.Recent[0].Name, "newest first")
	assert.Equal(t, "b", st.Recent[0].Key)
	assert.Equal(t, "manual", st.Recent[0].Reason)
	assert.Equal(t, "payments", st.Recent[1].Name)
}

func TestStatusWindowFigures(t *testing.T) {
	reg, err := breakerstatus.NewRegistry()
	require.NoError(t, err)
	b, err := breaker.New("slow", breaker.WithHooks(reg.Hooks()),
		breaker.WithTripper(breaker.MinRequests(100).And(breaker.SlowRate(0.5, time.Nanosecond))))
	require.NoError(t, err)
	require.NoError(t, reg.Add(b))
	for range 3 {
		require.NoError(t, b.Do(t.Context(), func(context.Context) error { time.Sleep(time.Microsecond); return nil }))
	}
	fail(b)
	h, err := breakerstatus.NewHandler(reg)
	require.NoError(t, err)
	p := status(t, h).Breakers[0]
	assert.Equal(t, 4, p.Window.Calls)
	assert.Equal(t, 1, p.Window.Failures)
	require.NotNil(t, p.Window.FailureRate)
	assert.InDelta(t, 0.25, *p.Window.FailureRate, 1e-9)
	require.Len(t, p.Window.Slow, 1)
	assert.Equal(t, 1e-9, p.Window.Slow[0].ThresholdSeconds)
	assert.Equal(t, 3, p.Window.Slow[0].Calls, "failures are recorded with no duration")
	require.NotNil(t, p.Window.Slow[0].Rate)
	assert.InDelta(t, 0.75, *p.Window.Slow[0].Rate, 1e-9)
	assert.Equal(t, 1, p.ConsecutiveFailures)
	assert.Equal(t, "closed", p.State)
}

// A breaker in shadow mode, one enforcing half its refusals, and a group
// whose cap refused a trip: the JSON says so.
func TestStatusEnforcementAndCap(t *testing.T) {
	reg, err := breakerstatus.NewRegistry()
	require.NoError(t, err)
	opts := []breaker.Option{breaker.WithHooks(reg.Hooks()), breaker.WithTripper(breaker.FailureStreak(1))}
	shadow, err := breaker.New("shadowed", append(opts, breaker.WithEnforcement(0))...)
	require.NoError(t, err)
	require.NoError(t, reg.Add(shadow))
	partial, err := breaker.New("partial", opts...)
	require.NoError(t, err)
	require.NoError(t, partial.SetEnforcement(0.5))
	require.NoError(t, reg.Add(partial))
	g, err := breaker.NewGroup("capped", append(opts, breaker.WithMaxOpenFraction(0.25))...)
	require.NoError(t, err)
	require.NoError(t, reg.AddGroup(g))
	var keys []*breaker.Breaker
	for _, k := range []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"} {
		b, err := g.Get(k)
		require.NoError(t, err)
		keys = append(keys, b)
	}
	fail(shadow)
	for _, b := range keys[:3] {
		fail(b) // 8 keys × 0.25: two may open; the third trip is capped
	}
	h, err := breakerstatus.NewHandler(reg)
	require.NoError(t, err)

	w := get(t, h, "/debug/breakers?format=json")
	require.Equal(t, http.StatusOK, w.Code)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, w.Body.Bytes()))
	assert.Contains(t, compact.String(), `"enforcement":0,"enforcement_mode":"shadow"`)
	assert.Contains(t, compact.String(), `"max_open_fraction":0.25,"has_cap":true,"max_open_keys":2,"open_keys":2,"trips_capped":1`)

	st := status(t, h)
	s, err := findBreaker(st, "shadowed", "")
	require.NoError(t, err)
	assert.Equal(t, "open", s.State, "a shadow breaker trips as an enforcing one does")
	assert.Equal(t, 0.0, s.Enforcement)
	assert.Equal(t, breakerstatus.EnforcementShadow, s.EnforcementMode)
	require.NotNil(t, s.LastCountedError)
	fail(shadow) // open in shadow mode: it runs, and counts for nothing
	again, err := findBreaker(status(t, h), "shadowed", "")
	require.NoError(t, err)
	assert.Equal(t, s.LastCountedError, again.LastCountedError, "a call let through in shadow mode did not count")
	assert.Equal(t, 1, again.ConsecutiveFailures)
	p, err := findBreaker(st, "partial", "")
	require.NoError(t, err)
	assert.Equal(t, 0.5, p.Enforcement)
	assert.Equal(t, breakerstatus.EnforcementPartial, p.EnforcementMode)

	require.Len(t, st.Groups, 1)
	grp := st.Groups[0]
	assert.True(t, grp.HasCap)
	assert.Equal(t, 0.25, grp.MaxOpenFraction)
	require.NotNil(t, grp.MaxOpenKeys)
	assert.Equal(t, 2, *grp.MaxOpenKeys)
	assert.Equal(t, 2, grp.OpenKeys)
	assert.EqualValues(t, 1, grp.TripsCapped)
	k2, err := findBreaker(st, "capped", "k2")
	require.NoError(t, err)
	assert.Equal(t, "closed", k2.State, "its trip was capped")
	assert.Equal(t, breakerstatus.EnforcementFull, k2.EnforcementMode)

	// Without JavaScript, the page says so too.
	page := get(t, h, "/debug/breakers", "Accept", "text/html").Body.String()
	assert.Contains(t, page, "<li>shadowed: open (shadow) since ")
	assert.Contains(t, page, "<li>partial: closed (partial) since ")
	assert.Contains(t, page, "<li>capped: open keys 2 of at most 2; trips capped: 1</li>")

	require.NoError(t, g.SetEnforcement(0))
	k2, err = findBreaker(status(t, h), "capped", "k2")
	require.NoError(t, err)
	assert.Equal(t, breakerstatus.EnforcementShadow, k2.EnforcementMode, "the group's enforcement reaches every key")
}
