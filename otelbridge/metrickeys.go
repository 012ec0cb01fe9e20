package otelbridge

import (
	"fmt"

	"go.opentelemetry.io/otel"
)

// metricKeys holds the keys of one breaker name that have a
// circuit_breaker.key value of their own on metrics: at most
// config.metricKeyLimit of them, kept for the life of the bridge (a
// cumulative series, once started, is never forgotten by the SDK, so a
// value given out is never taken back or given to another key).
type metricKeys struct {
	keys       map[string]struct{}
	overflowed bool // the first key past the limit has been reported
}

// metricKeyLocked returns the circuit_breaker.key value on metrics of the
// key of a breaker called name: the key itself while the name has fewer
// than the limit of keys of its own (or the key already has one), and
// KeyOther after that. b.mu is held; it runs only when the bridge first
// builds the telemetry of a breaker identity, never per call.
func (b *bridge) metricKeyLocked(name, key string) string {
	if key == KeyOther {
		return key
	}
	mk := b.metricKeys[name]
	if mk == nil {
		mk = &metricKeys{keys: map[string]struct{}{}}
		b.metricKeys[name] = mk
	}
	if _, ok := mk.keys[key]; ok {
		return key
	}
	if len(mk.keys) < b.cfg.metricKeyLimit {
		mk.keys[key] = struct{}{}
		return key
	}
	if !mk.overflowed {
		mk.overflowed = true
		otel.Handle(fmt.Errorf("otelbridge: breaker %q has had more than %d keys; reporting key %q (and every further new key) as %q on metrics; spans keep the real key",
			name, b.cfg.metricKeyLimit, key, KeyOther))
	}
	return KeyOther
}
