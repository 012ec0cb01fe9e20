package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// skipMissingEnv names the variable that turns a missing prerequisite
// (Prometheus that apt-get cannot install) into a skip instead of a
// failure.
const skipMissingEnv = "FLUXGATE_E2E_SKIP_MISSING"

var installOnce = sync.OnceValue(installPrometheus)

// installPrometheus makes sure that prometheus and promtool are on PATH,
// installing Debian's prometheus package when they are not.
func installPrometheus() error {
	if havePrometheus() {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("prometheus and promtool are not installed, and there is no apt-get to install them")
	}
	// Say what is installed, and why, before apt-get runs (on stderr, so
	// that it shows without -v and in the all-tests command's output).
	fmt.Fprintln(os.Stderr, "e2e: prometheus or promtool is not on PATH: installing Debian's prometheus package "+
		"(apt-get update; apt-get install -y --no-install-recommends prometheus), which needs root; "+
		"install it beforehand to avoid this (the all-tests command leaves this module out with FLUXGATE_SKIP_E2E=1)")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "--no-install-recommends", "prometheus"},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, lastLines(string(out), 20))
		}
	}
	if !havePrometheus() {
		return fmt.Errorf("apt-get installed prometheus, but prometheus or promtool is still not on PATH")
	}
	return nil
}

func havePrometheus() bool {
	_, err1 := exec.LookPath("prometheus")
	_, err2 := exec.LookPath("promtool")
	return err1 == nil && err2 == nil
}

// requirePrometheus installs Prometheus if needed, or fails the test with
// the reason (skips it when FLUXGATE_E2E_SKIP_MISSING is set).
func requirePrometheus(t testing.TB) {
	t.Helper()
	if err := installOnce(); err != nil {
		if os.Getenv(skipMissingEnv) != "" {
			t.Skipf("Prometheus is not available (%v); skipped because %s is set", err, skipMissingEnv)
		}
		t.Fatalf("Prometheus is required and could not be installed: %v\n"+
			"Install Debian's prometheus package, or set %s=1 to skip the end-to-end tests.", err, skipMissingEnv)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// prometheus is a Prometheus server the test started, with its
// remote-write receiver and exemplar storage on.
type prometheus struct {
	proc *proc
	url  string // http://127.0.0.1:port
}

// startPrometheus starts Prometheus on a free port with the given rule
// files, evaluating rules every second.
func startPrometheus(t testing.TB, ruleFiles []string) *prometheus {
	t.Helper()
	return startPrometheusOn(t, ruleFiles, func() int { return freePort(t) })
}

// startPrometheusOn is startPrometheus with the ports to try from port.
func startPrometheusOn(t testing.TB, ruleFiles []string, port func() int) *prometheus {
	t.Helper()
	requirePrometheus(t)
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  evaluation_interval: 1s\n")
	if len(ruleFiles) > 0 {
		cfg.WriteString("rule_files:\n")
		for _, f := range ruleFiles {
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&cfg, "  - %q\n", abs)
		}
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startWithRetry(t, "prometheus", func() (*prometheus, error) {
		port := port()
		data, err := os.MkdirTemp(dir, "data")
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("prometheus",
			"--config.file="+cfgFile,
			"--storage.tsdb.path="+data,
			"--storage.tsdb.retention.time=1h",
			"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
			"--web.enable-remote-write-receiver",
			"--enable-feature=exemplar-storage",
			"--log.level=warn",
		)
		pr, err := startProc("prometheus", cmd)
		if err != nil {
			return nil, err
		}
		p := &prometheus{proc: pr, url: "http://127.0.0.1:" + strconv.Itoa(port)}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = waitFor(ctx, 100*time.Millisecond, func() error {
			if pr.exited() {
				return nil
			}
			return p.ready()
		})
		if pr.exited() {
			if addrInUse(pr.out.String()) {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("prometheus exited: %v\n%s", pr.err, pr.tail())
		}
		if err != nil {
			pr.stop(5 * time.Second)
			return nil, fmt.Errorf("prometheus did not become ready: %v\n%s", err, pr.tail())
		}
		return p, nil
	})
	t.Cleanup(func() { p.proc.stop(10 * time.Second) })
	return p
}

// httpClient is the client of the API requests to Prometheus, and
// readyClient the one of the readiness polls: no request may hang the test
// (another process may hold the port Prometheus failed to take).
var (
	httpClient  = &http.Client{Timeout: 10 * time.Second}
	readyClient = &http.Client{Timeout: time.Second}
)

func (p *prometheus) ready() error {
	resp, err := readyClient.Get(p.url + "/-/ready")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/-/ready: %s", resp.Status)
	}
	return nil
}

// apiResponse is the envelope of Prometheus' HTTP API.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// api calls GET path with params and decodes the data of the response into
// v.
func (p *prometheus) api(path string, params url.Values, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: %s: decoding: %v", path, resp.Status, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s %s: %s: %s", path, params.Get("query"), r.ErrorType, r.Error)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix seconds, "value"]
}

func (s sample) value() float64 {
	str, _ := s.Value[1].(string)
	f, _ := strconv.ParseFloat(str, 64)
	return f
}

// queryResult is the data of an instant query.
type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// query evaluates an instant query at time at (now when zero) and returns
// its vector, or an error if the result is not a vector.
func (p *prometheus) query(q string, at time.Time) ([]sample, error) {
	params := url.Values{"query": {q}}
	if !at.IsZero() {
		params.Set("time", strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64))
	}
	var r queryResult
	if err := p.api("/api/v1/query", params, &r); err != nil {
		return nil, err
	}
	switch r.ResultType {
	case "vector":
		var v []sample
		return v, json.Unmarshal(r.Result, &v)
	case "scalar":
		var s [2]any
		if err := json.Unmarshal(r.Result, &s); err != nil {
			return nil, err
		}
		return []sample{{Metric: map[string]string{}, Value: s}}, nil
	}
	return nil, fmt.Errorf("query %s: result type %s, not a vector", q, r.ResultType)
}

// queryRange evaluates q at every step from start to end, as a Grafana
// panel does over its time range, and returns every value of the
// resulting series.
func (p *prometheus) queryRange(q string, start, end time.Time, step time.Duration) ([]float64, error) {
	params := url.Values{
		"query": {q},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix()+1, 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	var r queryResult
	if err := p.api("/api/v1/query_range", params, &r); err != nil {
		return nil, err
	}
	var m []struct {
		Values [][2]any `json:"values"`
	}
	if err := json.Unmarshal(r.Result, &m); err != nil {
		return nil, err
	}
	var out []float64
	for _, s := range m {
		for _, v := range s.Values {
			str, _ := v[1].(string)
			f, _ := strconv.ParseFloat(str, 64)
			out = append(out, f)
		}
	}
	return out, nil
}

// counts evaluates q and returns its values keyed by the values of the
// labels by, joined with "|" (see key).
func (p *prometheus) counts(q string, by ...string) (map[string]float64, error) {
	v, err := p.query(q, time.Time{})
	if err != nil {
		return nil, err
	}
	m := make(map[string]float64, len(v))
	for _, s := range v {
		vals := make([]string, len(by))
		for i, l := range by {
			vals[i] = s.Metric[l]
		}
		m[key(vals...)] += s.value()
	}
	return m, nil
}

// key joins label values into a map key.
func key(vals ...string) string { return strings.Join(vals, "|") }

// sortedKeys returns the keys of a and b, sorted.
func sortedKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	ks := make([]string, 0, len(seen))
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// exemplar is one exemplar of /api/v1/query_exemplars.
type exemplar struct {
	Labels    map[string]string `json:"labels"`
	Value     string            `json:"value"`
	Timestamp float64           `json:"timestamp"`
}

// exemplars returns the exemplars of the series of q between start and
// end.
func (p *prometheus) exemplars(q string, start, end time.Time) ([]exemplar, error) {
	var r []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []exemplar        `json:"exemplars"`
	}
	params := url.Values{
		"query": {q},
		"start": {strconv.FormatInt(start.Unix()-1, 10)},
		"end":   {strconv.FormatInt(end.Unix()+1, 10)},
	}
	if err := p.api("/api/v1/query_exemplars", params, &r); err != nil {
		return nil, err
	}
	var out []exemplar
	for _, s := range r {
		out = append(out, s.Exemplars...)
	}
	return out, nil
}

// alert is one alert of /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (p *prometheus) alerts() ([]alert, error) {
	var r struct {
		Alerts []alert `json:"alerts"`
	}
	return r.Alerts, p.api("/api/v1/alerts", nil, &r)
}
