package benchmarks

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Each library's breaker with its default configuration. fluxgate's keeps
// the last 100 calls (CountWindow(100)) and shares its configuration with
// every breaker New builds without options; gobreaker's keeps cumulative
// counts; failsafe-go's keeps the last call (it opens after one failure by
// default).
var defaults = []struct {
	row   string
	build func(name string) any
}{
	{rowOurs, func(name string) any { return must(breaker.New(name)) }},
	{rowGobreaker, func(name string) any { return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: name}) }},
	{rowFailsafeDefault, func(string) any { return circuitbreaker.NewWithDefaults[any]() }},
}

// heapInUse returns the bytes of live heap objects after a full GC.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkMemoryIdle: the heap a breaker with the default configuration
// keeps while idle (B/breaker: live bytes after a GC, divided by the
// number of breakers built), and what building one costs (ns/op, B/op and
// allocs/op count the garbage too).
func BenchmarkMemoryIdle(b *testing.B) {
	for _, d := range defaults {
		b.Run(d.row, func(b *testing.B) {
			b.ReportAllocs()
			keep := make([]any, b.N)
			before := heapInUse()
			b.ResetTimer()
			for i := range b.N {
				keep[i] = d.build("bench")
			}
			b.StopTimer()
			after := heapInUse()
			runtime.KeepAlive(keep)
			b.ReportMetric(float64(after-before)/float64(b.N), "B/breaker")
		})
	}
}

// BenchmarkMemory10k: 10,000 breakers with the default configuration and
// distinct names, as a service with one breaker per downstream host would
// hold them; one op builds all of them. MB/10k is the live heap they keep.
func BenchmarkMemory10k(b *testing.B) {
	const n = 10000
	names := make([]string, n)
	for i := range names {
		names[i] = "host-" + strconv.Itoa(i)
	}
	for _, d := range defaults {
		b.Run(d.row, func(b *testing.B) {
			b.ReportAllocs()
			var live int64
			for range b.N {
				b.StopTimer()
				keep := make([]any, n)
				before := heapInUse()
				b.StartTimer()
				for i, name := range names {
					keep[i] = d.build(name)
				}
				b.StopTimer()
				live += heapInUse() - before
				runtime.KeepAlive(keep)
				b.StartTimer()
			}
			b.ReportMetric(float64(live)/float64(b.N)/n, "B/breaker")
			b.ReportMetric(float64(live)/float64(b.N)/1e6, "MB/10k")
		})
	}
}
