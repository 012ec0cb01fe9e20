package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/fluxgate/fluxgate/benchmarks
cpu: Some CPU @ 2.00GHz
BenchmarkSuccess/fluxgate-2         	 9271419	        40.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSuccess/gobreaker-2        	 2935620	       120.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSuccess/fluxgate-2         	 9271419	        38.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSuccess/gobreaker-2        	 2935620	       124.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSuccess/fluxgate-2         	 9271419	        60.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSuccess/gobreaker-2        	 2935620	       122.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkReject/fluxgate-2          	12680713	        60.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkReject/gobreaker-2         	 6731893	        50.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkCountWindow/size=10-2      	10428001	        33.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkCountWindow/size=100000-2  	10742812	        33.6 ns/op	       0 B/op	       0 allocs/op
BenchmarkMemoryIdle/fluxgate-2      	   87114	      2552 ns/op	      3104 B/breaker	    3536 B/op	      27 allocs/op
BenchmarkMemoryIdle/gobreaker-2     	 1000000	       435.2 ns/op	       248.0 B/breaker	     248 B/op	       3 allocs/op
BenchmarkTelemetryNoop/fluxgate-no-hooks-2         	 2263819	       103.6 ns/op	       0 B/op	       0 allocs/op
BenchmarkTelemetryNoop/otel-noop-baseline-2        	 1594082	       153.8 ns/op	     240 B/op	       3 allocs/op
BenchmarkTelemetryNoop/fluxgate+otelbridge-noop-2  	  669290	       351.4 ns/op	     240 B/op	       3 allocs/op
BenchmarkOther
BenchmarkOther-2                    	     100	        10.0 ns/op
PASS
`

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if res.cpu != "Some CPU @ 2.00GHz" {
		t.Errorf("cpu = %q", res.cpu)
	}
	ours := res.row("Success/fluxgate")
	if ours == nil || len(ours.samples) != 3 {
		t.Fatalf("Success/fluxgate = %+v", ours)
	}
	if m, _ := ours.median("ns/op"); m != 40 {
		t.Errorf("median = %v, want 40", m)
	}
	// samples 38, 40, 60: quartiles 39 and 50, median 40.
	if s := ours.spread("ns/op"); s != (50.0-39)/2/40 {
		t.Errorf("spread = %v, want %v", s, (50.0-39)/2/40)
	}
	if m, _ := res.row("MemoryIdle/fluxgate").median("B/breaker"); m != 3104 {
		t.Errorf("B/breaker = %v", m)
	}
	if r := res.row("Other/-"); r == nil {
		t.Error("a benchmark without sub-benchmarks is not parsed")
	}
	if got := trimProcs("Success/size=10-16"); got != "Success/size=10" {
		t.Errorf("trimProcs = %q", got)
	}
	if got := trimProcs("Telemetry/otel-baseline"); got != "Telemetry/otel-baseline" {
		t.Errorf("trimProcs = %q", got)
	}
}

func TestEvaluateAndRender(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	checks := evaluate(res)
	want := map[string]status{
		"closed success: 0 allocs/op":                                                 statusPass,
		"closed success, serial: ns/op ≤ 0.5× gobreaker":                              statusPass, // 40/122
		"rejection while open: ns/op ≤ 1.0× gobreaker":                                statusMiss, // 60/50
		"parallel success: throughput ≥ gobreaker (ns/op ≤ 1.0×)":                     statusNA,
		"CountWindow(100000) vs CountWindow(10): within ±10%":                         statusPass,
		"OTel not configured: the bridge adds 0 allocs beyond the no-op tracer's own": statusPass,
	}
	for _, c := range checks {
		if w, ok := want[c.target]; ok && c.status != w {
			t.Errorf("%s: %s (%s), want %s", c.target, c.status, c.measured, w)
		}
	}
	var out bytes.Buffer
	render(&out, machineInfo{cpu: "cpu", nproc: 2, gomax: 2, goVer: "go1.x", goos: "linux", goarch: "amd64"}, "cmd", res, checks)
	for _, s := range []string{
		"| **Success** (closed, success, serial) | fluxgate | 40 | ±14% | 0 | 0 | 0.33× |",
		"| **Reject** (open, 1h delay: rejection) | fluxgate | 60 |",
		"| size=100000 | 33.6 | ±0% | 0 | 0 | 0.28× † | 1.02× |",
		"| gobreaker | 435 | ±0% | 248 | 3 | 1.00× B/breaker |  | 248 B/breaker |",
		"| **Other** (Other) | - | 10 |",
		"machine: cpu, nproc 2",
		"(3 samples per row)",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
