package breaker

import (
	"slices"
	"time"
)

func sortedUnique(ds []time.Duration) []time.Duration {
	slices.Sort(ds)
	return slices.Compact(ds)
}
