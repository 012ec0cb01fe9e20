package repotest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot returns the directory of the library module's go.mod: the
// repository root. Tests run in their package's directory, two levels down.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root has the library's go.mod")
	require.Contains(t, string(data), "module github.com/fluxgate/fluxgate\n")
	return root
}
