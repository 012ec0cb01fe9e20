package otelbridge

// ScopeName is the instrumentation scope of the tracer and the meter that
// the bridge uses: the import path of this package.
const ScopeName = "github.com/fluxgate/fluxgate/otelbridge"

// Version is the instrumentation scope version of the tracer and the meter.
const Version = "0.1.0"
