package otelbridge_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportsTheOpenTelemetryAPIOnly keeps the SDK, exporters and the
// breaker out of the bridge's imports: a library that registers the bridge
// must not pull them into its users' programs.
func TestImportsTheOpenTelemetryAPIOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/fluxgate/fluxgate/otelbridge").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "go.opentelemetry.io/otel/trace", "the list is the bridge's dependencies")
	for _, dep := range deps {
		fluxgate := strings.HasPrefix(dep, "github.com/fluxgate/")
		switch {
		case fluxgate && dep != "github.com/fluxgate/fluxgate/otelbridge" && dep != "github.com/fluxgate/fluxgate/sdk",
			strings.HasPrefix(dep, "go.opentelemetry.io/otel/sdk"),
			strings.HasPrefix(dep, "go.opentelemetry.io/otel/exporters"),
			strings.HasPrefix(dep, "go.opentelemetry.io/contrib"),
			strings.Contains(dep, "prometheus"):
			t.Errorf("otelbridge depends on %s; it may import the OpenTelemetry API and fluxgate's sdk package only", dep)
		}
	}
}
