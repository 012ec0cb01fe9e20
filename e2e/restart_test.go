package e2e

import (
	"slices"
	"testing"
	"time"
)

// testCollectorRestart stops the Collector while a replica goes on
// calling, and starts it again.
//
// While the Collector is down, the replica's exports are refused. The
// SDK's OTLP/HTTP exporters do not retry a refused connection (they retry
// only 429, 502, 503, 504 and temporary network errors, with backoff), so
// the flush during the outage fails at once: the spans of that batch are
// dropped by the batch span processor, and the metric export fails. The
// test proves that the spans of every other batch arrive exactly once,
// that no span of the failed batch arrives, and that the metrics are exact
// after the restart nonetheless: they are cumulative, and the next export
// carries the totals.
func testCollectorRestart(t *testing.T, e *env) {
	r := startReplica(t, e.replica("replica-4", 10, 200*time.Millisecond))
	run := func() {
		t.Helper()
		check(t, r.startRun(60))
		check(t, r.finishRun())
	}
	run()
	if tr := must[*truth](t)(r.flush()); tr.FlushError != "" {
		t.Fatalf("flush before the outage: %s", tr.FlushError)
	}

	stopped := time.Now()
	e.col.stop()
	t.Logf("Collector stopped in %s", time.Since(stopped).Round(time.Millisecond))
	run()
	during := must[*truth](t)(r.flush())
	if during.FlushError == "" {
		t.Fatal("the flush while the Collector was down succeeded")
	}
	t.Logf("flush during the outage failed as it must: %s", during.FlushError)
	check(t, e.col.start())

	run()
	// Then healthy answers, longer than a cooldown, so that the breaker
	// ends closed with calls in its window: the window rates are reported
	// at the last export.
	check(t, r.send("run 100 ok"))
	check(t, r.finishRun())
	final := must[*truth](t)(r.quit())
	if final.State != "closed" || final.Window.Calls == 0 {
		t.Errorf("after 100 healthy calls the breaker is %s with %d calls in its window; want closed, with calls", final.State, final.Window.Calls)
	}
	if final.FlushError != "" {
		t.Fatalf("final flush after the restart: %s", final.FlushError)
	}
	lost := 0
	for _, c := range final.Calls {
		if slices.Contains(final.FailedFlushes, c.Batch) {
			lost++
		}
	}
	t.Logf("%d calls in all; the spans of %d calls made during the outage were dropped with the failed export; "+
		"the SDK reported %d export errors", len(final.Calls), lost, final.ExportErrors)

	c := &checks{}
	checkInstance(t, c, e, final, r.first)
	c.report(t)
}
