package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// testFleet runs three replicas of the service; one is killed mid-run,
// after a deliberate flush. The other two finish and flush. Then every
// count in the Collector's spans and in Prometheus must equal the ground
// truth: all of it for the survivors, and for the killed one what it had
// exported before the kill.
func testFleet(t *testing.T, e *env) {
	const phase = 150
	cfgs := []replicaConfig{
		e.replica("replica-1", 0, 500*time.Millisecond),
		e.replica("replica-2", 20, 500*time.Millisecond),
		// The replica to kill exports only when told to, so that what it
		// exported before the kill is known exactly.
		e.replica("replica-3", 40, 0),
	}
	reps := make([]*replicaProc, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Go(func() { reps[i] = startReplica(t, cfg) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, r := range reps {
		check(t, r.startRun(phase))
	}
	for _, r := range reps {
		check(t, r.finishRun())
	}
	victim := reps[2]
	exported := must[*truth](t)(victim.flush())
	if exported.FlushError != "" {
		t.Fatalf("flush of %s: %s", victim.name, exported.FlushError)
	}

	// Second phase: the victim goes on calling and is killed with SIGKILL
	// after some calls; those calls were never exported.
	for _, r := range reps {
		check(t, r.startRun(phase))
	}
	before := victim.calls.Load()
	deadline := time.Now().Add(30 * time.Second)
	for victim.calls.Load() < before+20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	victim.proc.kill()
	lost := victim.calls.Load() - before
	t.Logf("killed %s after %d calls it never exported (at least: it may have made one more)", victim.name, lost)

	truths := map[string]*truth{victim.name: exported}
	e.windowReported = exported.WindowReported
	for _, r := range reps[:2] {
		check(t, r.finishRun())
		tr := must[*truth](t)(r.quit())
		if tr.FlushError != "" {
			t.Fatalf("final flush of %s: %s", r.name, tr.FlushError)
		}
		truths[r.name] = tr
	}

	c := &checks{}
	names := make([]string, len(reps))
	for i, r := range reps {
		names[i] = r.name
	}
	fleet := fmt.Sprintf(`{job="checkout", instance=~%q}`, strings.Join(names, "|"))
	fleetCalls := map[string]float64{}
	fleetTransitions := map[string]float64{}
	for _, r := range reps {
		tr := truths[r.name]
		addCounts(fleetCalls, tr.callCounts())
		addCounts(fleetTransitions, tr.transitionCounts())
		checkInstance(t, c, e, tr, r.first)
	}
	c.eventually("prometheus", "calls by outcome/decision/error_type", "fleet", fleetCalls, func() (map[string]float64, error) {
		return e.prom.counts(`sum by (circuit_breaker_outcome, circuit_breaker_decision, error_type) (circuit_breaker_calls_total`+fleet+`)`,
			"circuit_breaker_outcome", "circuit_breaker_decision", "error_type")
	})
	c.eventually("prometheus", "transitions by previous/new state", "fleet", fleetTransitions, func() (map[string]float64, error) {
		return e.prom.counts(`sum by (circuit_breaker_previous_state, circuit_breaker_state) (circuit_breaker_transitions_total`+fleet+`)`,
			"circuit_breaker_previous_state", "circuit_breaker_state")
	})
	c.report(t)
}

// checkInstance compares one replica's spans and series with its truth.
func checkInstance(t *testing.T, c *checks, e *env, tr, first *truth) {
	inst := tr.Instance
	// The spans: wait until as many breaker spans as exported calls came
	// in (the Collector forwards them on its own time).
	want := len(tr.exported())
	var spans []span
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_ = waitFor(ctx, 100*time.Millisecond, func() error {
		spans = e.sink.of(inst)
		n := 0
		for _, s := range spans {
			if s.Name == breakerSpanName {
				n++
			}
		}
		if n >= want {
			return nil
		}
		return fmt.Errorf("%d of %d spans", n, want)
	})
	checkSpans(c, tr, spans)

	sel := fmt.Sprintf(`{job="checkout", instance=%q}`, inst)
	c.eventually("prometheus", "calls by outcome/decision/error_type", inst, tr.callCounts(), func() (map[string]float64, error) {
		return e.prom.counts(`sum by (circuit_breaker_outcome, circuit_breaker_decision, error_type) (circuit_breaker_calls_total`+sel+`)`,
			"circuit_breaker_outcome", "circuit_breaker_decision", "error_type")
	})
	c.eventually("prometheus", "transitions by previous/new state", inst, tr.transitionCounts(), func() (map[string]float64, error) {
		return e.prom.counts(`sum by (circuit_breaker_previous_state, circuit_breaker_state) (circuit_breaker_transitions_total`+sel+`)`,
			"circuit_breaker_previous_state", "circuit_breaker_state")
	})
	c.eventually("prometheus", "executed calls (duration histogram count)", inst, tr.executed(), func() (map[string]float64, error) {
		return e.prom.counts(`sum by (instance) (circuit_breaker_call_duration_seconds_count`+sel+`)`, "instance")
	})
	// The calls by admission state, as Prometheus counts them and as the
	// spans say.
	// (Not where spans were dropped: their states are unknown.)
	if len(tr.FailedFlushes) == 0 {
		c.eventually("collector×prometheus", "calls by state/outcome", inst, spansByState(spans), func() (map[string]float64, error) {
			return e.prom.counts(`sum by (circuit_breaker_state, circuit_breaker_outcome) (circuit_breaker_calls_total`+sel+`)`,
				"circuit_breaker_state", "circuit_breaker_outcome")
		})
	}

	// The state gauge from construction on: at the first flush, right
	// after the breaker was built and before any call, every state is
	// reported, closed with 1.
	atConstruction := map[string]float64{}
	for _, s := range sdk.States() {
		atConstruction[s.String()] = 0
	}
	atConstruction[sdk.StateClosed.String()] = 1
	c.eventually("prometheus", "state gauge at construction", inst, atConstruction, func() (map[string]float64, error) {
		v, err := e.prom.query(`circuit_breaker_state`+sel, first.ConstructedAt)
		return stateValues(v), err
	})
	c.eventually("prometheus", "state gauge at the last export", inst, map[string]float64{tr.State: 1}, func() (map[string]float64, error) {
		v, err := e.prom.query(`circuit_breaker_state`+sel+` == 1`, time.Time{})
		return stateValues(v), err
	})

	// The window gauges at the last export: the window as the breaker's
	// Info had it when that flush began.
	wantWindow := map[string]float64{"calls": float64(tr.Window.Calls), "failure_streak": float64(tr.Window.Streak)}
	if tr.Window.FailureRate >= 0 {
		wantWindow["failure_rate"] = tr.Window.FailureRate
		wantWindow["slow_rate"] = tr.Window.SlowRate
	}
	if tr.WindowReported {
		c.eventually("prometheus", "window gauges at the last export", inst, wantWindow, func() (map[string]float64, error) {
			return windowGauges(e.prom, sel)
		})
	} else {
		// The breaker of this build gives its hooks no window snapshot
		// (sdk.Registration.Window is nil), so the bridge has no window
		// to report; nothing to compare.
		t.Logf("%s: the breaker reports no window to its hooks; window gauges not compared", inst)
	}

	// Exemplars of the duration histogram point at spans the Collector
	// delivered.
	ids := map[string]bool{}
	for _, s := range spans {
		if s.Name == breakerSpanName {
			ids[s.traceID()+"/"+s.spanID()] = true
		}
	}
	// The spans of a failed export are gone; an exemplar may still point
	// at one of them.
	droppedTraces := map[string]bool{}
	for _, call := range tr.Calls {
		if slices.Contains(tr.FailedFlushes, call.Batch) {
			droppedTraces[call.TraceID] = true
		}
	}
	ex, err := e.prom.exemplars(`circuit_breaker_call_duration_seconds_bucket`+sel, first.ConstructedAt, time.Now())
	if err != nil {
		c.expect("prometheus", "exemplars pointing at recorded spans", inst, 1, 0, err.Error())
		return
	}
	recorded, dropped := 0, 0
	for _, x := range ex {
		switch {
		case ids[x.Labels["trace_id"]+"/"+x.Labels["span_id"]]:
			recorded++
		case droppedTraces[x.Labels["trace_id"]]:
			dropped++
		}
	}
	c.expect("prometheus", "exemplars pointing at recorded spans", inst, len(ex)-dropped, recorded)
	if len(ex) == 0 {
		c.expect("prometheus", "exemplars stored", inst, 1, 0, "no exemplars")
	}
}

// stateValues maps the circuit_breaker_state label of a vector to the
// values.
func stateValues(v []sample) map[string]float64 {
	m := map[string]float64{}
	for _, s := range v {
		m[s.Metric["circuit_breaker_state"]] += s.value()
	}
	return m
}

// windowGauges reads the window gauges of the series sel as of the
// replica's last export. The rates are absent from an export while the
// window is empty, and remote write sends no staleness marker, so
// Prometheus still answers with the last rate reported before: a rate
// counts only if its sample came with the last export of the window's
// calls.
func windowGauges(p *prometheus, sel string) (map[string]float64, error) {
	last, err := p.query(`timestamp(circuit_breaker_window_calls`+sel+`)`, time.Time{})
	if err != nil || len(last) != 1 {
		return nil, fmt.Errorf("circuit_breaker_window_calls%s: %d series, %v", sel, len(last), err)
	}
	m := map[string]float64{}
	for name, metric := range map[string]string{
		"calls":          "circuit_breaker_window_calls",
		"failure_rate":   "circuit_breaker_window_failure_rate_ratio",
		"slow_rate":      "circuit_breaker_window_slow_rate_ratio",
		"failure_streak": "circuit_breaker_failure_streak",
	} {
		// The value of every series whose sample is as recent as the
		// window's calls.
		q := fmt.Sprintf(`%[1]s%[2]s and on () (timestamp(%[1]s%[2]s) >= %[3]s)`, metric, sel, num(last[0].value()))
		v, err := p.query(q, time.Time{})
		if err != nil {
			return nil, err
		}
		for _, s := range v {
			m[name] += s.value()
		}
	}
	return m, nil
}
