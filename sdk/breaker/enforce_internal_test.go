package breaker

import (
	"math"
	"testing"
)

func TestEnforceAllConstant(t *testing.T) {
	if enforceAll != math.Float64bits(1) {
		t.Fatalf("enforceAll = %#x, want math.Float64bits(1) = %#x", enforceAll, math.Float64bits(1))
	}
}
