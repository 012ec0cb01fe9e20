package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// groupSpec says how to show one benchmark group (a top-level benchmark).
type groupSpec struct {
	name   string // top-level benchmark without "Benchmark"
	title  string
	metric string // unit the ratios compare
	gbRef  string // "group/row" of the gobreaker row the ratios use; default: this group's gobreaker row
	ref    string // in-group reference row of the "× ref" column; "" for none
}

const gobreakerRow = "gobreaker"

// The groups of this module, in table order; groups not listed here are
// shown after them with the defaults.
var specs = []groupSpec{
	{name: "Success", title: "closed, success, serial"},
	{name: "SuccessParallel", title: "closed, success, RunParallel"},
	{name: "Failure", title: "closed, counted error, no trip"},
	{name: "Reject", title: "open, 1h delay: rejection"},
	{name: "HalfOpenParallel", title: "half-open admission, RunParallel"},
	{name: "CountWindow", title: "closed, success, full count window", gbRef: "Success/gobreaker", ref: "size=10"},
	{name: "TimeWindow", title: "closed, success, time window", gbRef: "Success/gobreaker", ref: "size=1s"},
	{name: "MemoryIdle", title: "idle breaker, default config", metric: "B/breaker"},
	{name: "Memory10k", title: "10,000 breakers, default config", metric: "B/breaker"},
	{name: "Telemetry", title: "success, real OTel SDK: sampled span, metrics", gbRef: "Success/gobreaker", ref: "otel-baseline"},
	{name: "TelemetryNoop", title: "success, OTel not configured: global no-op providers", gbRef: "Success/gobreaker", ref: "fluxgate-no-hooks"},
	{name: "RejectJitter", title: "open, 1h cooldown with and without jitter: rejection", gbRef: "Reject/gobreaker", ref: "jitter=0"},
	{name: "RejectJitterParallel", title: "the same, RunParallel", gbRef: "Reject/gobreaker", ref: "jitter=0"},
	{name: "TransitionTimeWindow", title: "one transition (Reset), time window", ref: "size=1s"},
	{name: "TransitionCountWindow", title: "one transition (Reset), full count window", ref: "size=10"},
}

func specFor(group string) groupSpec {
	for _, s := range specs {
		if s.name == group {
			if s.metric == "" {
				s.metric = "ns/op"
			}
			return s
		}
	}
	return groupSpec{name: group, title: group, metric: "ns/op"}
}

// ordered returns the rows grouped in table order.
func ordered(res *results) [][]*row {
	byGroup := map[string][]*row{}
	var extra []string
	for _, r := range res.rows {
		if _, ok := byGroup[r.group]; !ok {
			known := false
			for _, s := range specs {
				known = known || s.name == r.group
			}
			if !known {
				extra = append(extra, r.group)
			}
		}
		byGroup[r.group] = append(byGroup[r.group], r)
	}
	var out [][]*row
	for _, s := range specs {
		if rs := byGroup[s.name]; len(rs) > 0 {
			out = append(out, rs)
		}
	}
	for _, g := range extra {
		out = append(out, byGroup[g])
	}
	return out
}

// ratio returns a/b of unit between two rows.
func ratio(a, b *row, unit string) (float64, bool) {
	x, ok1 := a.median(unit)
	y, ok2 := b.median(unit)
	if !ok1 || !ok2 || y == 0 {
		return 0, false
	}
	return x / y, true
}

// gobreakerFor returns the row the gobreaker ratio of group uses, and
// whether it is outside the group.
func gobreakerFor(res *results, s groupSpec) (*row, bool) {
	if r := res.row(s.name + "/" + gobreakerRow); r != nil {
		return r, false
	}
	if s.gbRef != "" {
		return res.row(s.gbRef), true
	}
	return nil, false
}

func render(w io.Writer, m machineInfo, cmdline string, res *results, checks []check) {
	count := 0
	for _, r := range res.rows {
		count = max(count, len(r.samples))
	}
	fmt.Fprintf(w, "## fluxgate benchmarks\n\n")
	fmt.Fprintf(w, "- machine: %s, nproc %d, GOMAXPROCS %d, %s/%s", m.cpu, m.nproc, m.gomax, m.goos, m.goarch)
	if m.kernel != "" {
		fmt.Fprintf(w, ", kernel %s", m.kernel)
	}
	fmt.Fprintf(w, "\n- Go: %s\n", m.goVer)
	if m.rev != "" {
		fmt.Fprintf(w, "- library: git %s\n", m.rev)
	}
	fmt.Fprintf(w, "- run: %s (%d samples per row), %s\n", cmdline, count, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- values are medians; ± is half the interquartile range of the samples, relative to the median; ratios are of medians of the same run\n\n")

	fmt.Fprintln(w, "| benchmark | row | ns/op | ± | B/op | allocs/op | × gobreaker | × ref | other |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---|")
	for _, rows := range ordered(res) {
		s := specFor(rows[0].group)
		gb, outside := gobreakerFor(res, s)
		ref := res.row(s.name + "/" + s.ref)
		for i, r := range rows {
			group := ""
			if i == 0 {
				group = fmt.Sprintf("**%s** (%s)", s.name, s.title)
			}
			ns, _ := r.median("ns/op")
			bop, _ := r.median("B/op")
			allocs, _ := r.median("allocs/op")
			gbCol := ""
			if gb != nil {
				if x, ok := ratio(r, gb, s.metric); ok {
					gbCol = fmtRatio(x)
					if s.metric != "ns/op" {
						gbCol += " " + s.metric
					}
					if outside {
						gbCol += " †"
					}
				}
			}
			refCol := ""
			if ref != nil {
				if x, ok := ratio(r, ref, s.metric); ok {
					refCol = fmtRatio(x)
				}
			}
			var other []string
			for _, u := range r.extraUnits() {
				v, _ := r.median(u)
				other = append(other, fmt.Sprintf("%s %s", fmtNum(v), u))
			}
			fmt.Fprintf(w, "| %s | %s | %s | ±%.0f%% | %s | %s | %s | %s | %s |\n",
				group, r.name, fmtNum(ns), 100*r.spread("ns/op"), fmtNum(bop), fmtNum(allocs), gbCol, refCol, strings.Join(other, ", "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "× gobreaker: the row's ns/op (B/breaker for the memory rows) over gobreaker's in the same group;")
	fmt.Fprintln(w, "† marks groups without a gobreaker row, compared with Success/gobreaker (serial closed success) instead.")
	fmt.Fprintln(w, "× ref: over the group's reference row (size=10, size=1s, otel-baseline, fluxgate-no-hooks, jitter=0).")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Budget")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | measured | result |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, c := range checks {
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.target, c.measured, c.status)
	}
}

func fmtRatio(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	default:
		return fmt.Sprintf("%.2f×", x)
	}
}

// fmtNum prints v with about three significant digits, integers as such.
func fmtNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

type status string

const (
	statusPass status = "PASS"
	statusMiss status = "**MISS**"
	statusInfo status = "info"
	statusNA   status = "n/a (rows not run)"
)

type check struct {
	target   string
	measured string
	status   status
}

// evaluate checks every target of the performance budget against res.
func evaluate(res *results) []check {
	var cs []check
	allocsZero := func(target, key string) {
		c := check{target: target, status: statusNA}
		if v, ok := res.row(key).median("allocs/op"); ok {
			c.measured = fmt.Sprintf("%s: %s allocs/op", key, fmtNum(v))
			c.status = pass(v == 0)
		}
		cs = append(cs, c)
	}
	ratioAtMost := func(target, num, den string, limit float64) {
		c := check{target: target, status: statusNA}
		if x, ok := ratio(res.row(num), res.row(den), "ns/op"); ok {
			c.measured = fmt.Sprintf("%s / %s = %s", num, den, fmtRatio(x))
			c.status = pass(x <= limit)
		}
		cs = append(cs, c)
	}
	ratioWithin := func(target, num, den string, tol float64) {
		c := check{target: target, status: statusNA}
		if x, ok := ratio(res.row(num), res.row(den), "ns/op"); ok {
			c.measured = fmt.Sprintf("%s / %s = %s", num, den, fmtRatio(x))
			c.status = pass(math.Abs(x-1) <= tol)
		}
		cs = append(cs, c)
	}

	allocsZero("closed success: 0 allocs/op", "Success/fluxgate")
	ratioAtMost("closed success, serial: ns/op ≤ 0.5× gobreaker", "Success/fluxgate", "Success/gobreaker", 0.5)
	allocsZero("rejection while open: 0 allocs/op", "Reject/fluxgate")
	ratioAtMost("rejection while open: ns/op ≤ 1.0× gobreaker", "Reject/fluxgate", "Reject/gobreaker", 1.0)
	ratioAtMost("parallel success: throughput ≥ gobreaker (ns/op ≤ 1.0×)", "SuccessParallel/fluxgate", "SuccessParallel/gobreaker", 1.0)
	ratioWithin("CountWindow(100000) vs CountWindow(10): within ±10%", "CountWindow/size=100000", "CountWindow/size=10", 0.10)
	ratioWithin("TimeWindow(1h) vs TimeWindow(1s): within ±10%", "TimeWindow/size=1h0m0s", "TimeWindow/size=1s", 0.10)
	ratioAtMost("rejection, Cooldown(1h, 0.1) vs Cooldown(1h, 0): within 10%", "RejectJitter/jitter=0.1", "RejectJitter/jitter=0", 1.10)
	ratioAtMost("rejection, RunParallel, Cooldown(1h, 0.1) vs Cooldown(1h, 0): within 10%", "RejectJitterParallel/jitter=0.1", "RejectJitterParallel/jitter=0", 1.10)
	ratioAtMost("transition, TimeWindow(2^20 s) vs TimeWindow(1s): within 10%", "TransitionTimeWindow/size=2^20s", "TransitionTimeWindow/size=1s", 1.10)
	ratioAtMost("transition, CountWindow(100000) vs CountWindow(10): within 10%", "TransitionCountWindow/size=100000", "TransitionCountWindow/size=10", 1.10)
	ratioAtMost("OTel SDK: fluxgate+otelbridge ≤ 1.25× (bare sampled span + counter add)", "Telemetry/fluxgate+otelbridge", "Telemetry/otel-baseline", 1.25)

	c := check{target: "OTel SDK, for information: fluxgate+otelbridge over the same SDK calls made directly (span end attribute and duration histogram included)", status: statusNA}
	if x, ok := ratio(res.row("Telemetry/fluxgate+otelbridge"), res.row("Telemetry/otel-design-floor"), "ns/op"); ok {
		c.measured = fmt.Sprintf("Telemetry/fluxgate+otelbridge / Telemetry/otel-design-floor = %s", fmtRatio(x))
		c.status = statusInfo
	}
	cs = append(cs, c)

	c = check{target: "OTel not configured: the bridge adds 0 allocs beyond the no-op tracer's own", status: statusNA}
	bridge, ok1 := res.row("TelemetryNoop/fluxgate+otelbridge-noop").median("allocs/op")
	bare, ok2 := res.row("TelemetryNoop/fluxgate-no-hooks").median("allocs/op")
	noop, ok3 := res.row("TelemetryNoop/otel-noop-baseline").median("allocs/op")
	if ok1 && ok2 && ok3 {
		c.measured = fmt.Sprintf("bridge-noop %s − no-hooks %s = %s allocs/op; no-op span + counter alone: %s",
			fmtNum(bridge), fmtNum(bare), fmtNum(bridge-bare), fmtNum(noop))
		c.status = pass(bridge-bare <= noop)
	}
	cs = append(cs, c)
	return cs
}

func pass(ok bool) status {
	if ok {
		return statusPass
	}
	return statusMiss
}
