package testutil

import (
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SpansNamed returns the spans called name, in their order.
func SpansNamed(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// Attr returns the value of key among attrs (the last one, if key repeats).
func Attr(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	var v attribute.Value
	found := false
	for _, kv := range attrs {
		if kv.Key == key {
			v, found = kv.Value, true
		}
	}
	return v, found
}

// SpanAttr returns the value of the span's attribute key.
func SpanAttr(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	return Attr(span.Attributes(), key)
}

// AttrMap returns attrs as a map from key to value (string, int64, float64,
// bool or a slice of them), handy for an exact comparison.
func AttrMap(attrs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(attrs))
	for _, kv := range attrs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// Events returns the span's events called name.
func Events(span sdktrace.ReadOnlySpan, name string) []sdktrace.Event {
	var out []sdktrace.Event
	for _, e := range span.Events() {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}
