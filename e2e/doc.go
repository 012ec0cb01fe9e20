// Package e2e holds the end-to-end tests of fluxgate: a fleet of replicas,
// each calling a flaky dependency through a circuit breaker observed by
// otelbridge, exports OTLP to a real OpenTelemetry Collector, which is built
// from its Go modules by the test (see cmd/otelcol) and forwards the spans
// to a receiver inside the test and the metrics, by remote write, to a real
// Prometheus. The tests compare what the replicas' callers saw with what the
// Collector and Prometheus report, count for count, and test the dashboard
// and the alert and recording rules of the repository's dashboards
// directory against that Prometheus. TestOperate does the same for the
// operating controls: shadow mode against enforcement, enforcement changed
// at run time, and a group's cap on open keys.
//
// The package has no API: everything is in its tests. Run them alone with
//
//	cd e2e && go test -race -v .
//
// Prometheus comes from the Debian package; when prometheus or promtool is
// missing, the test installs it with apt-get (as root), after printing what
// it installs and why on standard error. Set FLUXGATE_E2E_SKIP_MISSING=1 to
// skip instead where it cannot be had. README.md in this directory
// describes what runs and what is compared.
//
// Everything runs on 127.0.0.1 with free ports, in processes that the test
// starts and stops; every wait is bounded.
package e2e
