// Package testutil helps the tests of fluxgate's OpenTelemetry integration
// and examples: set-ups over the real OpenTelemetry SDK (a span recorder and
// a manual metric reader), helpers that find a span's attribute or a metric's
// data points, error fixtures, and a fake dependency that fails on a script.
//
// It imports no fluxgate sdk package, so any package may use it.
package testutil
