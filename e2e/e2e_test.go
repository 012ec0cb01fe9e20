package e2e

import (
	"testing"
	"time"
)

// env is what every end-to-end sub-test shares: one Prometheus, one
// Collector (which a sub-test may restart), one span sink, one dependency.
type env struct {
	prom *prometheus
	col  *collector
	sink *spanSink
	dep  string // URL of the dependency

	begin          time.Time    // when the test began
	open           *replicaProc // a replica whose breaker trips at the start and stays open
	windowReported bool         // the breaker gives its hooks its window (see truth.WindowReported)
}

// replica returns the configuration of a replica of the fleet.
func (e *env) replica(instance string, offset int, interval time.Duration) replicaConfig {
	return replicaConfig{
		Instance:       instance,
		OTLP:           e.col.otlpAddr,
		Dependency:     e.dep,
		MetricInterval: interval,
		Cooldown:       150 * time.Millisecond,
		Timeout:        30 * time.Millisecond,
		Pace:           3 * time.Millisecond,
		Offset:         offset,
		Script:         "mixed",
		Workers:        3,
	}
}

// TestEndToEnd starts Prometheus and the Collector once and runs the
// sub-tests against them.
func TestEndToEnd(t *testing.T) {
	begin := time.Now()

	// Build the Collector while Prometheus is installed (if need be) and
	// started.
	collectorBin := buildCollectorInBackground(t)
	e := &env{
		prom: startPrometheus(t, ruleFiles(t)),
		sink: newSpanSink(t),
		dep:  newDependency(t).URL,

		begin: begin,
	}
	bin := collectorBin()
	t.Logf("Prometheus up and Collector built in %s", time.Since(begin).Round(100*time.Millisecond))
	e.col = startCollector(t, bin, e.sink.url(), e.prom.url)

	// The replica whose breaker stays open, for the alert rules: started
	// first, so that its alert's 30 s "for" runs out while the fleet runs.
	cfg := e.replica("replica-open", 0, time.Second)
	cfg.Script, cfg.Cooldown = "failing", 10*time.Minute
	e.open = startReplica(t, cfg)
	check(t, e.open.startRun(20))
	check(t, e.open.finishRun())

	t.Run("fleet", func(t *testing.T) { testFleet(t, e) })
	t.Run("collector_restart", func(t *testing.T) { testCollectorRestart(t, e) })
	t.Run("collector_port_taken", func(t *testing.T) { testCollectorPortTaken(t, e) })
	t.Run("alerts", func(t *testing.T) { testAlerts(t, e) })
	t.Run("dashboard", func(t *testing.T) { testDashboard(t, e) })
	_, err := e.open.quit()
	check(t, err)
	t.Logf("end-to-end run took %s", time.Since(begin).Round(100*time.Millisecond))
}

// must fails t at once on err.
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
