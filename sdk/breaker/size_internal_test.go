package breaker

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleBreakerIsSmall pins the memory target of an idle breaker with the
// default configuration, its window storage excluded (a Group keeps one
// breaker per key, so this is most of what an idle key costs): the
// immutable configuration is shared through one pointer (by every breaker
// New builds without options, and by every breaker of a Group), the
// half-open slots are a counter (no channel), and the rejection errors are
// built on first use.
func TestIdleBreakerIsSmall(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Breaker{}), uintptr(350), "sizeof(Breaker)")

	const n = 2000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	keep := make([]*Breaker, n)
	before := heap()
	for i := range keep {
		b, err := New("idle")
		require.NoError(t, err)
		keep[i] = b
	}
	withWindows := heap() - before
	for _, b := range keep {
		b.win = nil
	}
	without := heap() - before
	runtime.KeepAlive(keep)
	t.Logf("idle default breaker: %d B live, %d B without its window storage (sizeof %d)",
		withWindows/n, without/n, unsafe.Sizeof(Breaker{}))
	assert.LessOrEqual(t, without/n, uint64(350), "live bytes per idle breaker, window storage excluded")
}
