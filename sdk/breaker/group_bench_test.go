package breaker_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// benchKeys are host names, as a client with a breaker per host sees them.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "host-" + strconv.Itoa(i) + ".example.com"
	}
	return keys
}

// lookups are the ways to find a key's breaker that BenchmarkGroupGet
// compares: the Group and the two maps users build by hand.
func lookups(b *testing.B, keys []string) []struct {
	name string
	get  func(string) *breaker.Breaker
} {
	g := mustGroup(b, breaker.WithMaxKeys(len(keys)))
	var sm sync.Map
	mm := make(map[string]*breaker.Breaker, len(keys))
	var mmu sync.Mutex
	var rwm sync.RWMutex
	for _, k := range keys {
		bk := mustGet(b, g, k)
		sm.Store(k, bk)
		mm[k] = bk
	}
	return []struct {
		name string
		get  func(string) *breaker.Breaker
	}{
		{"group", func(k string) *breaker.Breaker { bk, _ := g.Get(k); return bk }},
		{"sync.Map", func(k string) *breaker.Breaker { v, _ := sm.Load(k); return v.(*breaker.Breaker) }},
		{"mutex-map", func(k string) *breaker.Breaker { mmu.Lock(); defer mmu.Unlock(); return mm[k] }},
		{"rwmutex-map", func(k string) *breaker.Breaker { rwm.RLock(); defer rwm.RUnlock(); return mm[k] }},
	}
}

// BenchmarkGroupGet is the look-up of an existing key, serial and under
// RunParallel, against a sync.Map and a mutex-guarded map of breakers.
func BenchmarkGroupGet(b *testing.B) {
	keys := benchKeys(1024)
	for _, l := range lookups(b, keys) {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if l.get(keys[i&1023]) == nil {
					b.Fatal("no breaker")
				}
			}
		})
		b.Run(l.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			var seed atomic.Uint32
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(1) * 389)
				for pb.Next() {
					if l.get(keys[i&1023]) == nil {
						panic("no breaker")
					}
					i++
				}
			})
		})
	}
}

// BenchmarkGroupCall is a whole call through a group, the look-up and a
// successful Execute, against the same calls on breakers indexed directly
// in a slice (no look-up at all).
func BenchmarkGroupCall(b *testing.B) {
	ctx := context.Background()
	keys := benchKeys(1024)
	g := mustGroup(b, breaker.WithMaxKeys(len(keys)))
	direct := make([]*breaker.Breaker, len(keys))
	for i := range direct {
		direct[i] = mustNew(b)
	}
	ok := func(context.Context) (int, error) { return 1, nil }
	for _, tc := range []struct {
		name string
		get  func(i int) *breaker.Breaker
	}{
		{"group", func(i int) *breaker.Breaker { bk, _ := g.Get(keys[i&1023]); return bk }},
		{"slice", func(i int) *breaker.Breaker { return direct[i&1023] }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_, _ = breaker.Execute(ctx, tc.get(i), ok)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			var seed atomic.Uint32
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(1) * 389)
				for pb.Next() {
					_, _ = breaker.Execute(ctx, tc.get(i), ok)
					i++
				}
			})
		})
	}
}

// BenchmarkGroupNewKey is the cost of a key the group has not seen: with
// room, and at the limit, where each new key evicts an idle one.
func BenchmarkGroupNewKey(b *testing.B) {
	keys := benchKeys(1 << 16)
	b.Run("at-limit-evicting", func(b *testing.B) {
		g := mustGroup(b, breaker.WithMaxKeys(1024))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := g.Get(keys[i&(1<<16-1)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
