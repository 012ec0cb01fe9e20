package benchmarks

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// Row names shared by the comparison benchmarks; cmd/benchtable takes the
// gobreaker row of each benchmark as the reference of its ratios.
const (
	rowOurs            = "fluxgate"
	rowGobreaker       = "gobreaker"
	rowFailsafeExec    = "failsafe-executor"
	rowFailsafeDirect  = "failsafe-direct"
	rowFailsafeDefault = "failsafe-go"
)

// peers runs the same workload through each library: fluxgate's Execute,
// gobreaker's Execute, failsafe-go's executor (failsafe.With(cb).Get) and
// failsafe-go's two-step API (TryAcquirePermit + RecordError).
type peers struct {
	ours     func() *breaker.Breaker
	gb       func() *gobreaker.CircuitBreaker[int]
	fs       func() circuitbreaker.CircuitBreaker[int]
	wantErr  error // the error every call must return (nil: success)
	rejected bool  // calls are refused, fn never runs
}

func (p peers) serial(b *testing.B) {
	ctx := context.Background()
	okFn, fn := okCtx, ok
	if p.wantErr != nil {
		okFn, fn = failCtx, fail
	}
	b.Run(rowOurs, func(b *testing.B) {
		cb := p.ours()
		b.ReportAllocs()
		bad := 0
		for b.Loop() {
			v, err := breaker.Execute(ctx, cb, okFn)
			sink += v
			if !p.wantOurs(err) {
				bad++
			}
		}
		p.report(b, bad)
	})
	b.Run(rowGobreaker, func(b *testing.B) {
		cb := p.gb()
		b.ReportAllocs()
		bad := 0
		for b.Loop() {
			v, err := cb.Execute(fn)
			sink += v
			if !p.wantPeer(err, gobreaker.ErrOpenState) {
				bad++
			}
		}
		p.report(b, bad)
	})
	b.Run(rowFailsafeExec, func(b *testing.B) {
		exec := failsafe.With[int](p.fs())
		b.ReportAllocs()
		bad := 0
		for b.Loop() {
			v, err := exec.Get(fn)
			sink += v
			if !p.wantPeer(err, circuitbreaker.ErrOpen) {
				bad++
			}
		}
		p.report(b, bad)
	})
	b.Run(rowFailsafeDirect, func(b *testing.B) {
		cb := p.fs()
		b.ReportAllocs()
		bad := 0
		for b.Loop() {
			if !cb.TryAcquirePermit() {
				if !p.rejected {
					bad++
				}
				continue
			}
			v, err := fn()
			sink += v
			cb.RecordError(err)
			if p.rejected {
				bad++
			}
		}
		p.report(b, bad)
	})
}

func (p peers) parallel(b *testing.B) {
	ctx := context.Background()
	b.Run(rowOurs, func(b *testing.B) {
		cb := p.ours()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := breaker.Execute(ctx, cb, okCtx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run(rowGobreaker, func(b *testing.B) {
		cb := p.gb()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Execute(ok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run(rowFailsafeExec, func(b *testing.B) {
		exec := failsafe.With[int](p.fs())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := exec.Get(ok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run(rowFailsafeDirect, func(b *testing.B) {
		cb := p.fs()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !cb.TryAcquirePermit() {
					b.Error("not permitted")
					return
				}
				_, err := ok()
				cb.RecordError(err)
			}
		})
	})
}

func (p peers) wantOurs(err error) bool {
	if p.rejected {
		return err != nil && err != p.wantErr && isNotPermitted(err)
	}
	return err == p.wantErr
}

func (p peers) wantPeer(err, rejection error) bool {
	if p.rejected {
		return err == rejection
	}
	return err == p.wantErr
}

func (p peers) report(b *testing.B, bad int) {
	if bad > 0 {
		b.Fatalf("%d of %d calls did not behave as the benchmark assumes", bad, b.N)
	}
}

func isNotPermitted(err error) bool {
	_, ok := err.(breaker.NotPermittedError)
	return ok
}

// BenchmarkSuccess: a closed breaker, every call succeeds, one goroutine.
func BenchmarkSuccess(b *testing.B) {
	peers{ours: newOursRate, gb: newGobreakerRate, fs: newFailsafeRate}.serial(b)
}

// BenchmarkSuccessParallel: the same, from GOMAXPROCS goroutines at once
// (b.RunParallel); ns/op is wall time per call, the inverse of throughput.
func BenchmarkSuccessParallel(b *testing.B) {
	peers{ours: newOursRate, gb: newGobreakerRate, fs: newFailsafeRate}.parallel(b)
}

// BenchmarkFailure: a closed breaker, every call returns a counted error,
// and the trip rule, evaluated after each one, stays false.
func BenchmarkFailure(b *testing.B) {
	peers{ours: newOursFailNoTrip, gb: newGobreakerFailNoTrip, fs: newFailsafeFailNoTrip, wantErr: errBoom}.serial(b)
}

// BenchmarkReject: an open breaker (1h delay) refuses every call.
func BenchmarkReject(b *testing.B) {
	peers{ours: newOursOpen, gb: newGobreakerOpen, fs: newFailsafeOpen, rejected: true}.serial(b)
}

// BenchmarkHalfOpenParallel: a half-open breaker admits every call as a
// probe (taking and freeing a probe slot), from GOMAXPROCS goroutines at
// once; each success leaves it half-open.
func BenchmarkHalfOpenParallel(b *testing.B) {
	peers{ours: newOursHalfOpen, gb: newGobreakerHalfOpen, fs: newFailsafeHalfOpen}.parallel(b)
}

// BenchmarkCountWindow: the success path of a closed breaker whose full
// count window holds 10 or 100,000 calls (each call evicts the oldest);
// MinRequests(10).And(FailureRate(0.5)) is evaluated in full after each
// call in both.
func BenchmarkCountWindow(b *testing.B) {
	for _, size := range []int{10, 100000} {
		b.Run(sizeName(size), func(b *testing.B) {
			cb := must(breaker.New("bench",
				breaker.WithWindow(breaker.CountWindow(size)),
				breaker.WithTripper(breaker.MinRequests(10).And(breaker.FailureRate(0.5))),
			))
			ctx := context.Background()
			for range size {
				_ = must(breaker.Execute(ctx, cb, okCtx))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				v, err := breaker.Execute(ctx, cb, okCtx)
				if err != nil {
					b.Fatal(err)
				}
				sink += v
			}
		})
	}
}

// BenchmarkTimeWindow: the same with a time window of 1s or 1h in
// one-second buckets; every call reads the clock.
func BenchmarkTimeWindow(b *testing.B) {
	for _, size := range []time.Duration{time.Second, time.Hour} {
		b.Run("size="+size.String(), func(b *testing.B) {
			cb := must(breaker.New("bench",
				breaker.WithWindow(breaker.TimeWindow(size)),
				breaker.WithTripper(breaker.MinRequests(10).And(breaker.FailureRate(0.5))),
			))
			ctx := context.Background()
			for range 100 {
				_ = must(breaker.Execute(ctx, cb, okCtx))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				v, err := breaker.Execute(ctx, cb, okCtx)
				if err != nil {
					b.Fatal(err)
				}
				sink += v
			}
		})
	}
}

func sizeName(n int) string { return "size=" + strconv.Itoa(n) }
