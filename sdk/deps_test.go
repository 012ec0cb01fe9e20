package sdk_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSDKImportsNoOpenTelemetry enforces the package boundary of the
// README's Packages table: nothing under sdk/ depends on OpenTelemetry (only
// otelbridge does), and the breaker and tracker use nothing outside the
// standard library and sdk.
func TestSDKImportsNoOpenTelemetry(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/fluxgate/fluxgate/sdk/...").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, dep := range strings.Fields(string(out)) {
		require.True(t, strings.HasPrefix(dep, "github.com/fluxgate/fluxgate/sdk"),
			"sdk/... depends on %s; only the standard library and sdk packages are allowed", dep)
	}
}
