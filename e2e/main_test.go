package e2e

import (
	"os"
	"testing"
)

// TestMain runs the test binary as a replica when the test started it as
// one (see startReplica), and as the tests otherwise.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(replicaEnv); cfg != "" {
		os.Exit(runReplica(cfg))
	}
	os.Exit(m.Run())
}
