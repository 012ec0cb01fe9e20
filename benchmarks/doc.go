// Package benchmarks compares fluxgate's circuit breaker, side by side and
// in the same run, with github.com/sony/gobreaker/v2 and
// github.com/failsafe-go/failsafe-go, and measures what the OpenTelemetry
// bridge costs on top of the OpenTelemetry SDK itself.
//
// It is a module of its own, so that users of the library never download a
// peer library. The benchmarks are in the _test.go files; run them all, and
// get the table with the ratios to gobreaker, with
//
//	go run ./cmd/benchtable
//
// (or ./run.sh). See README.md for what each row measures.
package benchmarks
