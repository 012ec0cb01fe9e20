// Package globaltest holds tests that install OpenTelemetry's global
// providers, which can be done once per process: they run in this package's
// own test binary so that the other tests keep the global no-ops.
package globaltest
