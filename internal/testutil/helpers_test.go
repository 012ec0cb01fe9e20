package testutil_test

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func metricAttrs(k, v string) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String(k, v))
}
