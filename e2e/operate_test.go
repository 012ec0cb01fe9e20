package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingDeps are dependencies that answer every request with 500 and
// count the requests of each replica (by the instance parameter the
// replicas send).
type failingDeps struct {
	mu   sync.Mutex
	hits map[string]int
}

func (d *failingDeps) server(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits[r.URL.Query().Get("instance")]++
		d.mu.Unlock()
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (d *failingDeps) of(instance string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[instance]
}

// TestOperate proves the operating controls in the real backends. Two
// replicas call the same failing dependency, one enforcing its breaker
// and one in shadow mode (enforcement 0): Prometheus must show the shadow
// replica's would-have-refused calls equal to the enforcing replica's
// refusals, while the shadow replica's dependency got every call; then the
// shadow replica is switched to enforcing at run time (a reconfiguration,
// counted) and refuses like the other. A third replica calls ten failing
// hosts through a group capped at 20% of its keys: at most two are ever
// open in its metrics, and the other eight count capped trips. The
// dashboard panels of these controls must return data.
//
// It starts its own Prometheus and Collector; run it alone with
//
//	cd e2e && go test -race -v -run TestOperate .
func TestOperate(t *testing.T) {
	begin := time.Now()
	collectorBin := buildCollectorInBackground(t)
	deps := &failingDeps{hits: map[string]int{}}
	shared := deps.server(t)
	e := &env{
		prom:  startPrometheus(t, ruleFiles(t)),
		sink:  newSpanSink(t),
		dep:   shared.URL,
		begin: begin,
	}
	e.col = startCollector(t, collectorBin(), e.sink.url(), e.prom.url)

	failing := func(instance string) replicaConfig {
		cfg := e.replica(instance, 0, 250*time.Millisecond)
		cfg.Script, cfg.Cooldown, cfg.Workers, cfg.Timeout = "failing", 10*time.Minute, 1, time.Second
		return cfg
	}
	shadowCfg, enforcingCfg, cappedCfg := failing("replica-shadow"), failing("replica-enforcing"), failing("replica-capped")
	zero := 0.0
	shadowCfg.Enforcement = &zero
	for range 10 {
		cappedCfg.Hosts = append(cappedCfg.Hosts, deps.server(t).URL)
	}
	cappedCfg.Dependency = cappedCfg.Hosts[0]
	cappedCfg.MaxOpenFraction = 0.2

	var shadow, enforcing, capped *replicaProc
	var wg sync.WaitGroup
	wg.Go(func() { shadow = startReplica(t, shadowCfg) })
	wg.Go(func() { enforcing = startReplica(t, enforcingCfg) })
	wg.Go(func() { capped = startReplica(t, cappedCfg) })
	wg.Wait()
	if t.Failed() {
		return
	}

	// Phase 1: shadow against enforcing, and the capped group.
	const phase1, phase2, cappedCalls = 100, 20, 200
	check(t, shadow.startRun(phase1))
	check(t, enforcing.startRun(phase1))
	check(t, capped.startRun(cappedCalls))
	for _, r := range []*replicaProc{shadow, enforcing, capped} {
		check(t, r.finishRun())
	}
	st1 := must[*truth](t)(shadow.flush())
	et1 := must[*truth](t)(enforcing.flush())

	c := &checks{}
	refused := 0
	for _, call := range et1.Calls {
		if call.Class == "rejected" {
			refused++
		}
	}
	shadowRefused := 0
	for _, call := range st1.Calls {
		if call.Class == "rejected" {
			shadowRefused++
		}
	}
	c.expect("truth", "enforcing replica refused calls", enforcing.name, 1, min(refused, 1))
	c.expect("truth", "shadow replica refused nothing", shadow.name, 0, shadowRefused)
	c.expect("truth", "shadow replica would have refused what the enforcing one refused", shadow.name, refused, st1.WouldReject)
	c.expect("dependency", "shadow replica's dependency got every call", shadow.name, phase1, deps.of(shadow.name))
	c.expect("dependency", "enforcing replica's dependency got the calls it let through", enforcing.name, phase1-refused, deps.of(enforcing.name))
	c.eventually("prometheus", "would-have-refused calls (shadow) = refusals (enforcing)", "replica-shadow×replica-enforcing",
		map[string]float64{shadow.name: float64(refused), enforcing.name: float64(refused)}, func() (map[string]float64, error) {
			would, err := e.prom.counts(fmt.Sprintf(`sum by (instance) (circuit_breaker_calls_total{instance=%q, circuit_breaker_would_reject="true"})`, shadow.name), "instance")
			if err != nil {
				return nil, err
			}
			rejected, err := e.prom.counts(fmt.Sprintf(`sum by (instance) (circuit_breaker_calls_total{instance=%q, circuit_breaker_outcome="rejected"})`, enforcing.name), "instance")
			for k, v := range rejected {
				would[k] = v
			}
			return would, err
		})
	c.eventually("prometheus", "calls that ran (shadow): every call", shadow.name, map[string]float64{shadow.name: phase1}, func() (map[string]float64, error) {
		return e.prom.counts(fmt.Sprintf(`sum by (instance) (circuit_breaker_calls_total{instance=%q, circuit_breaker_outcome!="rejected"})`, shadow.name), "instance")
	})

	// Phase 2: the shadow replica enforces its rule, at run time.
	check(t, shadow.enforce(1))
	check(t, shadow.startRun(phase2))
	check(t, enforcing.startRun(phase2))
	check(t, shadow.finishRun())
	check(t, enforcing.finishRun())
	st := must[*truth](t)(shadow.quit())
	et := must[*truth](t)(enforcing.quit())
	ct := must[*truth](t)(capped.quit())
	for _, tr := range []*truth{st, et, ct} {
		if tr.FlushError != "" {
			t.Fatalf("final flush of %s: %s", tr.Instance, tr.FlushError)
		}
	}
	c.expect("dependency", "shadow replica, enforcing now: its dependency got no more calls", shadow.name, phase1, deps.of(shadow.name))
	c.eventually("prometheus", "refusals once enforced", "replica-shadow×replica-enforcing",
		map[string]float64{shadow.name: phase2, enforcing.name: float64(refused + phase2)}, func() (map[string]float64, error) {
			return e.prom.counts(fmt.Sprintf(`sum by (instance) (circuit_breaker_calls_total{instance=~"%s|%s", circuit_breaker_outcome="rejected"})`, shadow.name, enforcing.name), "instance")
		})
	c.eventually("prometheus", "reconfigurations", shadow.name, map[string]float64{shadow.name: 1}, func() (map[string]float64, error) {
		return e.prom.counts(fmt.Sprintf(`sum by (instance) (circuit_breaker_reconfigurations_total{instance=%q})`, shadow.name), "instance")
	})

	// The cap: ten hosts, 20%: two open, eight capped.
	sel := fmt.Sprintf(`{instance=%q}`, capped.name)
	c.eventually("prometheus", "open keys at the last export", capped.name, map[string]float64{"": 2}, func() (map[string]float64, error) {
		return e.prom.counts(`count(circuit_breaker_state` + strings.TrimSuffix(sel, "}") + `, circuit_breaker_state=~"open|half_open|forced_open"} == 1)`)
	})
	c.eventually("prometheus", "keys with capped trips", capped.name, map[string]float64{"": 8}, func() (map[string]float64, error) {
		return e.prom.counts(`count(circuit_breaker_trips_capped_total` + sel + ` > 0)`)
	})
	c.eventually("prometheus", "capped trips", capped.name, map[string]float64{"": float64(ct.TripsCapped)}, func() (map[string]float64, error) {
		return e.prom.counts(`sum(circuit_breaker_trips_capped_total` + sel + `)`)
	})
	// Never more than two open at any export of the run.
	most, err := e.prom.queryRange(`count(circuit_breaker_state`+strings.TrimSuffix(sel, "}")+`, circuit_breaker_state=~"open|half_open|forced_open"} == 1)`,
		begin, time.Now(), 250*time.Millisecond)
	peak := 0.0
	for _, v := range most {
		peak = max(peak, v)
	}
	detail := []string{}
	if err != nil {
		detail = append(detail, err.Error())
	}
	c.expect("prometheus", "most keys open at once over the run", capped.name, 2, int(peak), detail...)
	total := deps.of(capped.name)
	c.expect("dependency", "capped group: its hosts got the calls of the eight capped keys and the two open ones' first failures",
		capped.name, cappedCalls-(cappedCalls/10-8)*2, total)
	c.report(t)

	testDashboardQueries(t, e, readsOperating)
	t.Logf("operating run took %s", time.Since(begin).Round(100*time.Millisecond))
}
