package breakerstatus_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportsStandardLibraryAndSDKOnly keeps the package boundary:
// breakerstatus uses the standard library and fluxgate's sdk packages, and
// nothing else (no OpenTelemetry; its tests may).
func TestImportsStandardLibraryAndSDKOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/fluxgate/fluxgate/breakerstatus").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/fluxgate/fluxgate/breakerstatus" {
			continue
		}
		require.True(t, strings.HasPrefix(dep, "github.com/fluxgate/fluxgate/sdk"),
			"breakerstatus depends on %s; only the standard library and sdk packages are allowed", dep)
	}
}
