package breakerhttp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every server is
// closed, and with it every connection a client kept.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
