package breaker

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupEntryOverhead returns the live heap per key of a group holding n
// keys with the default configuration, and the part of it that is the
// group's own (entry, key copy, table slots): the same breakers built
// from the group's configuration and kept in a slice are subtracted.
func groupEntryOverhead(tb testing.TB, n int) (perKey, overhead float64) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "host-" + strconv.Itoa(i) + ".example.com"
	}
	g, err := NewGroup("hosts", WithMaxKeys(n))
	require.NoError(tb, err)

	before := liveHeapInternal()
	bs := make([]*Breaker, n)
	for i, k := range keys {
		bs[i] = newBreaker(g.name, k, g.conf.Load().cfg)
	}
	breakers := float64(liveHeapInternal()-before) / float64(n)
	runtime.KeepAlive(bs)
	bs = nil

	before = liveHeapInternal()
	for _, k := range keys {
		_, err := g.Get(k)
		require.NoError(tb, err)
	}
	perKey = float64(liveHeapInternal()-before) / float64(n)
	runtime.KeepAlive(g)
	runtime.KeepAlive(keys)
	return perKey, perKey - breakers
}

func liveHeapInternal() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestGroupEntryOverhead bounds what an idle key with the default
// configuration costs in all (at most 512 B of live heap) and what it
// costs the group on top of its breaker: the entry (48 B), the copy of the
// key and the table slots.
func TestGroupEntryOverhead(t *testing.T) {
	perKey, overhead := groupEntryOverhead(t, 10000)
	t.Logf("idle key: %.0f B, of which the group's entry: %.0f B", perKey, overhead)
	assert.LessOrEqual(t, perKey, 512.0, "an idle key with the default configuration")
	assert.LessOrEqual(t, overhead, 128.0)
}

// BenchmarkGroupIdleKeyMemory reports the live heap of an idle key of a
// group with the default configuration (B/key) and the group's own part of
// it (entry-B/key), over 10,000 keys.
func BenchmarkGroupIdleKeyMemory(b *testing.B) {
	for b.Loop() {
		perKey, overhead := groupEntryOverhead(b, 10000)
		b.ReportMetric(perKey, "B/key")
		b.ReportMetric(overhead, "entry-B/key")
	}
}
