package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dashboardsDir is the repository's dashboards directory.
var dashboardsDir = filepath.Join("..", "dashboards")

// ruleFiles returns the rule files of dashboards/rules.
func ruleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "rules", "*.rules.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in %s: %v", dashboardsDir, err)
	}
	return files
}

// TestRules checks the alert and recording rules with promtool and runs
// their unit tests.
func TestRules(t *testing.T) {
	requirePrometheus(t)
	tests, err := filepath.Glob(filepath.Join(dashboardsDir, "rules", "*.rules.test.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests in %s: %v", dashboardsDir, err)
	}
	for _, args := range [][]string{
		append([]string{"check", "rules"}, ruleFiles(t)...),
		append([]string{"test", "rules"}, tests...),
	} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// dashboard is the part of a Grafana dashboard that holds PromQL.
type dashboard struct {
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type dashPanel struct {
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"` // of a collapsed row
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// dashboardQuery is one PromQL expression of the dashboard.
type dashboardQuery struct {
	where, expr string
}

// dashboardQueries returns every PromQL expression of the dashboard file:
// those of the panels' targets and those of the query variables.
func dashboardQueries(t testing.TB, file string) []dashboardQuery {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var qs []dashboardQuery
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				qs = append(qs, dashboardQuery{where: "panel " + p.Title, expr: tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.*), *(\w+)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
		}
		// What label_values lists: the label's values over the series.
		qs = append(qs, dashboardQuery{where: "variable " + v.Name, expr: fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
	}
	return qs
}

// grafanaVars stands in for Grafana's variables: every variable set to
// All, the rate interval and range long enough for the run.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__range", "5m",
	"$job", ".*",
	"$breaker", ".*",
	"$key", ".*",
	"$instance", ".*",
)

// testDashboard evaluates every PromQL expression of the dashboard
// against the e2e Prometheus over the time of the run, as range queries
// like Grafana's: each must return data. The queries of the operating
// controls (shadow mode, the group cap, reconfiguration) have data only
// in TestOperate, which evaluates them.
func testDashboard(t *testing.T, e *env) {
	testDashboardQueries(t, e, func(expr string) bool { return !readsOperating(expr) })
}

// readsOperating reports whether expr reads what only the operating
// controls produce.
func readsOperating(expr string) bool {
	return strings.Contains(expr, "circuit_breaker_would_reject") || strings.Contains(expr, "circuit_breaker_trips_capped") ||
		strings.Contains(expr, "circuit_breaker_reconfigurations")
}

// testDashboardQueries is testDashboard for the queries that pick accepts.
func testDashboardQueries(t *testing.T, e *env, pick func(expr string) bool) {
	c := &checks{}
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s: %v", dashboardsDir, err)
	}
	for _, f := range files {
		for _, q := range dashboardQueries(t, f) {
			if !pick(q.expr) {
				continue
			}
			expr := grafanaVars.Replace(q.expr)
			if strings.Contains(expr, "$") {
				c.expect("prometheus", "dashboard query", q.where, 1, 0, "unknown variable in "+q.expr)
				continue
			}
			if !e.windowReported && readsWindow(expr) {
				t.Logf("%s: %s: not evaluated, the breaker reports no window", q.where, q.expr)
				continue
			}
			// As Grafana does: over the time range, here the whole run.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			err := waitFor(ctx, 500*time.Millisecond, func() error {
				vals, err := e.prom.queryRange(expr, e.begin, time.Now(), 250*time.Millisecond)
				if err != nil {
					return err
				}
				for _, v := range vals {
					if !math.IsNaN(v) {
						return nil
					}
				}
				return fmt.Errorf("no data")
			})
			cancel()
			got := 1
			var detail []string
			if err != nil {
				got = 0
				detail = []string{fmt.Sprintf("%s: %v", expr, err)}
			}
			c.expect("prometheus", "dashboard query returns data", filepath.Base(f)+": "+q.where, 1, got, detail...)
		}
	}
	c.report(t)
}

// testAlerts checks that the rules loaded into the e2e Prometheus fire:
// CircuitBreakerOpen for the replica whose breaker stays open.
func testAlerts(t *testing.T, e *env) {
	inst := e.open.name
	c := &checks{}
	var firing []alert
	// The alert's "for" is 30 s from the breaker's trip at the start.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	err := waitFor(ctx, time.Second, func() error {
		as, err := e.prom.alerts()
		if err != nil {
			return err
		}
		firing = firing[:0]
		for _, a := range as {
			if a.State == "firing" {
				firing = append(firing, a)
			}
		}
		for _, a := range firing {
			if a.Labels["alertname"] == "CircuitBreakerOpen" && a.Labels["instance"] == inst {
				return nil
			}
		}
		return fmt.Errorf("CircuitBreakerOpen is not firing for %s", inst)
	})
	got := 1
	if err != nil {
		got = 0
	}
	c.expect("prometheus", "CircuitBreakerOpen firing", inst, 1, got)
	for _, a := range firing {
		t.Logf("firing: %s %s", a.Labels["alertname"], a.Labels["instance"])
	}
	// While the breaker is open.
	v, err := e.prom.query(fmt.Sprintf(`circuit_breaker_state{instance=%q, circuit_breaker_state="open"}`, inst), time.Time{})
	open := 0
	if err == nil && len(v) == 1 && v[0].value() == 1 {
		open = 1
	}
	c.expect("prometheus", "its breaker is open meanwhile", inst, 1, open)
	c.report(t)
}

// readsWindow reports whether expr reads a window gauge.
func readsWindow(expr string) bool {
	return strings.Contains(expr, "circuit_breaker_window_") || strings.Contains(expr, "circuit_breaker_failure_streak")
}
