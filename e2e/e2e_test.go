package e2e

import (
	"path/filepath"
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
	}
}

// TestEndToEnd starts Prometheus and the Collector once and runs the
// sub-tests against them.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end test starts Prometheus and builds a Collector; skipped in -short mode")
	}
	begin := time.Now()

	// Build the Collector while Prometheus is installed (if need be) and
	// started.
	type built struct {
		bin string
		err error
	}
	buildDone := make(chan built, 1)
	binDir := t.TempDir()
	go func() {
		bin, err := buildCollector(binDir)
		buildDone <- built{bin, err}
	}()
	rules, err := filepath.Glob(filepath.Join("..", "dashboards", "rules", "*.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		prom: startPrometheus(t, rules),
		sink: newSpanSink(t),
		dep:  newDependency(t).URL,
	}
	b := <-buildDone
	if b.err != nil {
		t.Fatal(b.err)
	}
	t.Logf("Prometheus up and Collector built in %s", time.Since(begin).Round(100*time.Millisecond))
	e.col = startCollector(t, b.bin, e.sink.url(), e.prom.url)

	t.Run("fleet", func(t *testing.T) { testFleet(t, e) })
	t.Run("collector_restart", func(t *testing.T) { testCollectorRestart(t, e) })
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
