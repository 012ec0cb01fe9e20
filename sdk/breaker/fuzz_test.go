package breaker

// Fuzz targets (go test -fuzz=FuzzX ./sdk/breaker); their seed corpora run
// in every go test.
//
//   - FuzzCountWindow, FuzzTimeWindow: the windows' running sums (and the
//     TimeWindow's buckets and expiry) against a naive recomputation over
//     every record since the last reset.
//   - FuzzConfig: New never panics, accepts exactly the configurations the
//     documented rules allow, and names every invalid part.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// fzReader hands out the fuzzer's bytes; past the end it returns zeros.
type fzReader struct{ b []byte }

func (r *fzReader) done() bool { return len(r.b) == 0 }

func (r *fzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fzReader) u16() uint16 { return uint16(r.byte())<<8 | uint16(r.byte()) }

// fzThresholds returns 0 to 3 ascending SlowRate thresholds.
func fzThresholds(b byte) []time.Duration {
	all := []time.Duration{time.Millisecond, 50 * time.Millisecond, time.Second}
	return all[:int(b%4)]
}

// fzRecord draws a record as the breaker makes them: its slow count is the
// number of thresholds its duration reaches.
func fzRecord(r *fzReader, ths []time.Duration) record {
	flags := r.byte()
	var dur time.Duration
	switch flags >> 6 {
	case 0:
		dur = 0
	case 1:
		dur = time.Duration(r.u16()) * time.Millisecond / 16
	case 2:
		dur = time.Duration(r.byte()) * 10 * time.Millisecond
	default:
		dur = time.Duration(r.u16()) * time.Second
	}
	rec := record{ok: flags&1 == 0, dur: dur}
	for _, th := range ths {
		if dur >= th {
			rec.slow++
		}
	}
	return rec
}

// fzCheck compares a window's metric with the naive sums over recs.
func fzCheck(t *testing.T, what string, got Metric, recs []record, ths []time.Duration) {
	t.Helper()
	calls, fails := 0, 0
	var dur time.Duration
	for _, r := range recs {
		calls++
		if !r.ok {
			fails++
		}
		dur += r.dur
	}
	if got.TotalCount != calls || got.FailureCount != fails || got.TotalDuration != dur {
		t.Fatalf("%s: metric %s, naive calls=%d failures=%d duration=%s", what, got, calls, fails, dur)
	}
	for _, th := range ths {
		n := 0
		for _, r := range recs {
			if r.dur >= th {
				n++
			}
		}
		if got.SlowCount(th) != n {
			t.Fatalf("%s: SlowCount(%s) = %d, naive %d", what, th, got.SlowCount(th), n)
		}
	}
	if len(got.SlowCounts()) > len(ths) {
		t.Fatalf("%s: SlowCounts %v has thresholds the breaker does not have", what, got.SlowCounts())
	}
	if rate, ok := got.FailureRate(); ok != (calls > 0) || (ok && rate != float64(fails)/float64(calls)) {
		t.Fatalf("%s: FailureRate = %v, %v", what, rate, ok)
	}
}

func FuzzCountWindow(f *testing.F) {
	f.Add([]byte{4, 3, 0, 0x41, 0, 10, 1, 0x80, 20, 5, 0x81, 30, 5, 7, 0, 0x40, 1, 2, 5})
	f.Add([]byte{0, 1, 1, 1, 1, 1, 1, 1, 5, 6, 0, 1, 5})
	f.Add([]byte{11, 2, 0, 0xc0, 0, 1, 0, 0xc1, 0xff, 0xff, 5, 0, 0x40, 0x12, 0x34, 5, 7, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fzReader{data}
		size := 1 + int(r.byte()%12)
		ths := fzThresholds(r.byte())
		w := newCountWindow(size, ths)
		var recs []record // every record since the last reset
		for step := 0; !r.done(); step++ {
			switch op := r.byte() % 8; {
			case op < 5:
				rec := fzRecord(r, ths)
				w.add(rec, time.Time{})
				recs = append(recs, rec)
			case op < 7:
				last := recs[max(0, len(recs)-size):]
				fzCheck(t, fmt.Sprintf("step %d, CountWindow(%d)", step, size), w.metric(time.Time{}), last, ths)
			default:
				w.reset()
				recs = nil
			}
		}
		fzCheck(t, "end", w.metric(time.Time{}), recs[max(0, len(recs)-size):], ths)
	})
}

// fzTimeRec is a record and the second it was filed under.
type fzTimeRec struct {
	sec int64
	r   record
}

// fzNaiveTimeWindow restates the TimeWindow's contract: a record is filed
// under the Unix second of its time (the newest second seen if its clock
// read is older than that); the window at the newest second seen, head,
// holds the records of (head-size, head]. A reset empties the window; the
// newest second seen stays.
type fzNaiveTimeWindow struct {
	size int64
	head int64
	recs []fzTimeRec
}

func (n *fzNaiveTimeWindow) second(at time.Time) int64 { return at.Unix() }

func (n *fzNaiveTimeWindow) add(r record, at time.Time) {
	sec := max(n.second(at), n.head)
	n.head = sec
	n.recs = append(n.recs, fzTimeRec{sec, r})
}

func (n *fzNaiveTimeWindow) window(at time.Time) []record {
	n.head = max(n.head, n.second(at))
	var out []record
	for _, tr := range n.recs {
		if tr.sec > n.head-n.size {
			out = append(out, tr.r)
		}
	}
	return out
}

func (n *fzNaiveTimeWindow) reset() { n.recs = nil }

func FuzzTimeWindow(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0x41, 4, 1, 0, 0x80, 9, 6, 4, 1, 6, 4, 3, 6, 0, 0x40, 1, 2, 6})
	f.Add([]byte{0, 0, 0, 1, 5, 50, 0, 0, 6, 4, 1, 6, 7, 0, 1, 6})
	f.Add([]byte{4, 3, 3, 0x01, 0xf4, 0, 0x81, 3, 0x03, 0xe8, 0, 0xc0, 5, 200, 0, 0x41, 6, 4, 2, 6, 4, 255, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fzReader{data}
		size := 1 + int(r.byte()%8)
		ths := fzThresholds(r.byte())
		epoch := time.Unix(1_700_000_000, 500_000_000) // half-way through a Unix second
		w := newTimeWindow(size, ths)
		naive := &fzNaiveTimeWindow{size: int64(size), head: -1}
		now := time.Duration(0) // since epoch; may go before it
		for step := 0; !r.done(); step++ {
			at := epoch.Add(now)
			switch op := r.byte() % 8; op {
			case 0, 1, 2:
				rec := fzRecord(r, ths)
				w.add(rec, at)
				naive.add(rec, at)
			case 3:
				now += time.Duration(r.u16()) * time.Millisecond
			case 4:
				now += time.Duration(r.byte()) * time.Second
			case 5:
				now -= time.Duration(r.byte()) * 10 * time.Millisecond // a clock read older than the last
			case 6:
				fzCheck(t, fmt.Sprintf("step %d, TimeWindow(%ds) at %s", step, size, now), w.metric(at), naive.window(at), ths)
			default:
				w.reset()
				naive.reset()
			}
		}
		at := epoch.Add(now)
		fzCheck(t, "end", w.metric(at), naive.window(at), ths)
		// Far in the future everything has expired.
		far := at.Add(time.Duration(size+1) * time.Second)
		fzCheck(t, "expired", w.metric(far), naive.window(far), ths)
	})
}

// ---------------------------------------------------------------------------

// fzProblem is one invalid part of a configuration and a piece of text the
// error must contain for it.
type fzProblem struct{ part, text string }

// FuzzConfig builds configurations from arbitrary numbers, so that many are
// invalid, and checks New against the documented rules: it never panics,
// it fails exactly when some part is invalid, its *ConfigError names every
// invalid part and nothing else, and a breaker it builds works.
func FuzzConfig(f *testing.F) {
	f.Add("b", uint8(0), int64(100), 5, 0.5, 0.5, int64(time.Second), int64(2*time.Second), 2.0, 0.1, 0.1, 1.0, 10, uint16(0))
	f.Add("", uint8(1), int64(90*time.Second), 0, 1.5, -0.1, int64(0), int64(-1), 1.0, 1.0, 0.0, 0.5, 0, uint16(0xffff))
	f.Add("b", uint8(1), int64(1500*time.Millisecond), -3, math.NaN(), math.Inf(1), int64(-5), int64(math.MaxInt64), math.NaN(), -0.5, 0.9, 0.8, -1, uint16(0x1234))
	f.Add("b", uint8(0), int64(math.MaxInt64), 1, 1.0, 1.0, int64(math.MaxInt64), int64(math.MaxInt64), 1e308, 0.999, 1.0, 1.0, math.MaxInt, uint16(0x5a5a))
	f.Add("b", uint8(1), int64((maxWindowSize+1)*time.Second), 1, 0.0, 0.0, int64(1), int64(1), math.Inf(1), 1.0, math.NaN(), 1.0, 1, uint16(0xa5a5))
	f.Fuzz(func(t *testing.T, name string, winKind uint8, size int64, count int, ratio, ratio2 float64,
		dur, dur2 int64, mult, jitter, initial, final float64, maxHalf int, shape uint16) {
		// parts counts the invalid parts (New reports one problem per
		// part); problems lists the texts the error must contain.
		var problems []fzProblem
		parts := map[string]bool{}
		bad := func(ok bool, part, text string) {
			if !ok {
				problems = append(problems, fzProblem{part, text})
				parts[part] = true
			}
		}
		bit := func(i uint) bool { return shape>>i&1 == 1 }
		pick := func(i, n uint) int { return int(shape>>i) % (1 << n) }
		d, d2 := time.Duration(dur), time.Duration(dur2)
		ratioOK := func(r float64) bool { return r > 0 && r <= 1 }
		jitterOK := jitter >= 0 && jitter < 1

		bad(name != "", "name", "name must not be empty")

		var opts []Option
		// Window.
		var win Window
		switch winKind % 3 {
		case 0:
			win = CountWindow(int(size))
			bad(size >= 1 && size <= maxWindowSize, "window", win.String())
		case 1:
			win = TimeWindow(time.Duration(size))
			bad(size >= int64(time.Second) && size%int64(time.Second) == 0 && size <= maxWindowSize*int64(time.Second), "window", win.String())
		default:
			bad(false, "window", "window is unset")
		}
		opts = append(opts, WithWindow(win))

		// Tripper: up to three leaves, joined by And or Or.
		var trip Tripper
		leaf := func(k int) Tripper {
			var l Tripper
			switch k {
			case 0:
				l = MinRequests(count)
				bad(count > 0, "tripper", l.String())
			case 1:
				l = FailureRate(ratio)
				bad(ratioOK(ratio), "tripper", l.String())
			case 2:
				l = AvgLatency(d)
				bad(d > 0, "tripper", l.String())
			case 3:
				l = SlowRate(ratio2, d2)
				bad(ratioOK(ratio2) && d2 > 0, "tripper", l.String())
			case 4:
				l = FailureStreak(count)
				bad(count > 0, "tripper", l.String())
			case 5:
				l = Closed()
			case 6:
				if bit(15) {
					l = TripperFunc(name, nil)
					bad(false, "tripper", "func must not be nil")
				} else {
					l = TripperFunc(name, func(c CallContext) bool { return c.ConsecutiveFailures > 2 })
				}
			default:
				bad(false, "tripper", "unset") // the zero Tripper
			}
			return l
		}
		trip = leaf(pick(0, 3))
		for i := uint(0); i < uint(pick(3, 2))%3; i++ {
			next := leaf(pick(5+3*i, 3))
			if bit(11 + i) {
				trip = trip.And(next)
			} else {
				trip = trip.Or(next)
			}
		}
		opts = append(opts, WithTripper(trip))

		// Retry.
		var retry Retry
		switch pick(2, 3) % 6 {
		case 0:
			retry = Always()
		case 1:
			retry = Never()
		case 2:
			retry = Cooldown(d, jitter)
			bad(d > 0 && jitterOK, "retry", retry.String())
		case 3:
			retry = Backoff(d, mult, d2, jitter)
			bad(d > 0 && mult > 1 && d2 >= d && jitterOK, "retry", retry.String())
		case 4:
			if bit(14) {
				retry = RetryFunc(nil)
				bad(false, "retry", "RetryFunc")
			} else {
				retry = RetryFunc(func(time.Duration, int) bool { return true })
			}
		default:
			bad(false, "retry", "retry is unset")
		}
		opts = append(opts, WithRetry(retry))

		// Permit.
		var permit Permit
		switch pick(9, 3) % 5 {
		case 0:
			permit = All()
		case 1:
			permit = Random(ratio)
			bad(ratio >= 0 && ratio <= 1, "permit", permit.String())
		case 2:
			permit = RampUp(initial, final, d2)
			bad(initial > 0 && initial <= final && final <= 1 && d2 > 0, "permit", permit.String())
		case 3:
			if bit(13) {
				permit = PermitFunc(nil)
				bad(false, "permit", "PermitFunc")
			} else {
				permit = PermitFunc(func(time.Duration) bool { return true })
			}
		default:
			bad(false, "permit", "permit is unset")
		}
		opts = append(opts, WithPermit(permit))

		opts = append(opts, WithMaxHalfOpenCalls(maxHalf))
		bad(maxHalf >= 1, "maxHalfOpenCalls", fmt.Sprintf("WithMaxHalfOpenCalls(%d)", maxHalf))

		switch pick(12, 2) {
		case 1:
			opts = append(opts, WithTracker(tracker.Is()))
			bad(false, "tracker", "tracker")
		case 2:
			opts = append(opts, WithTracker(nil))
			bad(false, "tracker", "tracker")
		}
		if bit(10) && bit(4) {
			opts = append(opts, WithRand(nil))
			bad(false, "rand", "WithRand")
		}
		if bit(1) && bit(7) && bit(8) {
			opts = append(opts, nil)
			bad(false, "option", "is nil")
		}
		if bit(2) && bit(9) {
			opts = append(opts, WithEnforcement(ratio2))
			bad(ratio2 >= 0 && ratio2 <= 1, "enforcement", "WithEnforcement(")
		}

		// Reconfigure validates the same options as New (the name aside)
		// and, on a problem, changes nothing.
		fzReconfigure(t, opts, problems)

		b, err := New(name, opts...)
		if len(problems) == 0 {
			if err != nil || b == nil {
				t.Fatalf("valid configuration refused: %v", err)
			}
			fzUse(t, b)
			return
		}
		if err == nil || b != nil {
			t.Fatalf("invalid configuration accepted (problems: %v)", problems)
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Name != name {
			t.Fatalf("want a *ConfigError named %q, got %T %v", name, err, err)
		}
		if len(ce.Problems) < len(parts) {
			t.Fatalf("%d problems reported, want at least one for each of %v: %v", len(ce.Problems), parts, err)
		}
		for _, p := range ce.Problems {
			related := false
			for _, want := range problems {
				related = related || strings.Contains(p.Error(), want.text)
			}
			if !related {
				t.Fatalf("problem %q is about none of the invalid parts %v", p, problems)
			}
		}
		msg := err.Error()
		for _, p := range problems {
			if !strings.Contains(msg, p.text) {
				t.Fatalf("the error does not name the invalid %s (%q): %s", p.part, p.text, msg)
			}
		}
	})
}

// fzReconfigure reconfigures a valid breaker with opts: it must accept
// them when problems (the name's aside) is empty, and otherwise refuse
// them, naming each problem, and change nothing.
func fzReconfigure(t *testing.T, opts []Option, problems []fzProblem) {
	t.Helper()
	rb, err := New("reconfigured", WithTripper(FailureStreak(2)))
	if err != nil {
		t.Fatal(err)
	}
	before := rb.conf()
	err = rb.Reconfigure(context.Background(), opts...)
	var want []fzProblem
	for _, p := range problems {
		if p.part != "name" {
			want = append(want, p)
		}
	}
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Reconfigure refused a valid configuration: %v", err)
		}
		fzUse(t, rb)
		return
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Reconfigure accepted an invalid configuration (problems: %v): %v", want, err)
	}
	for _, p := range want {
		if !strings.Contains(err.Error(), p.text) {
			t.Fatalf("Reconfigure's error does not name the invalid %s (%q): %s", p.part, p.text, err)
		}
	}
	if rb.conf() != before || rb.Enforcement() != 1 {
		t.Fatal("a refused Reconfigure changed the settings")
	}
}

// fzUse runs a few calls through a freshly built breaker.
func fzUse(t *testing.T, b *Breaker) {
	t.Helper()
	ctx := context.Background()
	fail := errors.New("fail")
	for i := range 6 {
		err := b.Do(ctx, func(context.Context) error {
			if i%2 == 0 {
				return fail
			}
			return nil
		})
		if err != nil && err != fail && !errors.Is(err, ErrNotPermitted) {
			t.Fatalf("call %d: unexpected error %v", i, err)
		}
	}
	info := b.Info()
	if !info.State.Valid() || info.Metric.TotalCount < 0 || info.Metric.FailureCount > info.Metric.TotalCount {
		t.Fatalf("inconsistent Info %+v", info)
	}
	b.Reset(ctx)
	if b.State() != sdk.StateClosed {
		t.Fatalf("Reset: state %s", b.State())
	}
	b.Close()
}
