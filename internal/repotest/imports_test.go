package repotest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackageImports keeps the package boundaries of the README's Packages
// table: for each library package, every dependency outside the standard
// library (its tests excepted) must have one of the allowed prefixes. The
// sdk packages and the integrations that sit beside breakerhttp use nothing
// but the standard library and sdk; otelbridge adds the OpenTelemetry API
// and nothing of the SDK, its exporters or contrib.
func TestPackageImports(t *testing.T) {
	const mod = "github.com/fluxgate/fluxgate/"
	sdkOnly := []string{mod + "sdk"}
	tests := []struct {
		pkg      string
		allowed  []string
		mustHave string // a dependency the list must contain, so that an empty list cannot pass
	}{
		{pkg: mod + "sdk/...", allowed: sdkOnly},
		{pkg: mod + "breakerhttp", allowed: sdkOnly, mustHave: mod + "sdk/breaker"},
		{pkg: mod + "breakerstatus", allowed: sdkOnly, mustHave: mod + "sdk/breaker"},
		{
			pkg: mod + "otelbridge",
			allowed: []string{
				mod + "sdk", // the package itself, not sdk/breaker (prefix checked below)
				"go.opentelemetry.io/otel",
				"go.opentelemetry.io/auto/sdk", // the API's auto-instrumentation hook
				"github.com/go-logr/", "github.com/google/uuid", "github.com/cespare/xxhash",
			},
			mustHave: "go.opentelemetry.io/otel/trace",
		},
	}
	forbiddenInBridge := []string{
		mod + "sdk/", // the breaker and tracker: the bridge knows only the hooks
		"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters", "go.opentelemetry.io/contrib",
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.pkg, mod), func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", tt.pkg).CombinedOutput()
			require.NoError(t, err, string(out))
			deps := strings.Fields(string(out))
			if tt.mustHave != "" {
				require.Contains(t, deps, tt.mustHave, "the list is the package's dependencies")
			}
			self := strings.TrimSuffix(tt.pkg, "/...")
			for _, dep := range deps {
				if strings.HasPrefix(dep, self) {
					continue
				}
				ok := false
				for _, p := range tt.allowed {
					ok = ok || strings.HasPrefix(dep, p)
				}
				if strings.HasSuffix(self, "otelbridge") {
					for _, p := range forbiddenInBridge {
						ok = ok && !strings.HasPrefix(dep, p)
					}
				}
				assert.True(t, ok, "%s depends on %s; allowed: %v", tt.pkg, dep, tt.allowed)
			}
		})
	}
}
