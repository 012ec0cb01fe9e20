package breaker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// TestStress hammers one breaker (of a Group's kind: calls in flight are
// counted) from many goroutines under -race with every kind of call mixed
// in: successes, counted and ignored errors, panics, calls whose caller
// cancels them, callers that give up waiting for a half-open slot, two-step
// calls, calls whose function ends its goroutine (runtime.Goexit), calls
// made from inside hooks, slow calls (in the bubble's fake time, so that
// callers queue for half-open slots and time out), and manual commands. It checks that every caller
// returns with what its function did or a rejection, that every call gets
// exactly one CallStart and one CallEnd that agree with it, that the
// transitions reach the hooks in order (each starts where the previous
// ended, from closed to the final state), and that once everything has
// returned no half-open slot, in-flight count or queued delivery is left.
//
// It runs briefly by default; FLUXGATE_STRESS=1 runs it long (set
// FLUXGATE_STRESS_CALLS to a number of calls per goroutine to choose).
func TestStress(t *testing.T) {
	goroutines, perGoroutine := 16, 300
	if os.Getenv("FLUXGATE_STRESS") != "" {
		goroutines, perGoroutine = 64, 5000
		if n, err := fmt.Sscan(os.Getenv("FLUXGATE_STRESS_CALLS"), &perGoroutine); n != 1 || err != nil {
			perGoroutine = 5000
		}
	}
	if testing.Short() {
		perGoroutine /= 4
	}
	for _, wait := range []time.Duration{0, time.Millisecond, time.Hour} {
		t.Run(fmt.Sprintf("wait=%s", wait), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { stressRun(t, wait, goroutines, perGoroutine, false) })
		})
	}
}

// TestStressReconfigure is TestStress with one more goroutine that keeps
// reconfiguring the breaker (window kind and size, tripper and its slow
// thresholds, retry, permit, half-open limits, enforcement) while the
// calls, transitions and manual commands go on: no call is lost,
// double-counted or stuck.
func TestStressReconfigure(t *testing.T) {
	goroutines, perGoroutine := 16, 300
	if os.Getenv("FLUXGATE_STRESS") != "" {
		goroutines, perGoroutine = 64, 5000
	}
	if testing.Short() {
		perGoroutine /= 4
	}
	for _, wait := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("wait=%s", wait), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { stressRun(t, wait, goroutines, perGoroutine, true) })
		})
	}
}

// stressReconfiguration returns random, valid options for Reconfigure.
func stressReconfiguration(rng *rand.Rand) []Option {
	var opts []Option
	if rng.IntN(3) == 0 {
		opts = append(opts, []Option{WithWindow(CountWindow(10)), WithWindow(CountWindow(4)), WithWindow(TimeWindow(time.Second))}[rng.IntN(3)])
	}
	if rng.IntN(2) == 0 {
		opts = append(opts, []Option{
			WithTripper(MinRequests(3).And(FailureRate(0.3))),
			WithTripper(FailureStreak(2)),
			WithTripper(MinRequests(2).And(SlowRate(0.5, 50*time.Microsecond).Or(FailureRate(0.5)))),
			WithTripper(Closed().And(FailureStreak(3)).Or(SuccessesToClose(2))),
		}[rng.IntN(4)])
	}
	if rng.IntN(3) == 0 {
		opts = append(opts, []Option{WithRetry(Always()), WithRetry(Cooldown(time.Microsecond, 0.5))}[rng.IntN(2)])
	}
	if rng.IntN(3) == 0 {
		opts = append(opts, []Option{WithPermit(All()), WithPermit(Random(0.7))}[rng.IntN(2)])
	}
	if rng.IntN(3) == 0 {
		opts = append(opts, WithMaxHalfOpenCalls(1+rng.IntN(3)))
	}
	if rng.IntN(4) == 0 {
		opts = append(opts, WithFailureDurations(rng.IntN(2) == 0))
	}
	if rng.IntN(3) == 0 {
		opts = append(opts, WithEnforcement([]float64{0, 0.5, 1}[rng.IntN(3)]))
	}
	return opts
}

type stressIDKey struct{}

type stressCall struct {
	starts, ends atomic.Int32
	mu           sync.Mutex
	start        sdk.CallStart
	end          sdk.CallEnd

	// What the caller saw (checked against the hooks once everything has
	// been delivered: a CallEnd may run after its call returned).
	made   bool // by stressOne (not from a hook)
	kind   int
	ran    bool
	v      int64
	err    error
	panicV any
	exited bool
}

var errStressCounted = errors.New("stress: counted")
var errStressIgnored = errors.New("stress: ignored")

func stressRun(t *testing.T, wait time.Duration, goroutines, perGoroutine int, reconf bool) {
	var mismatches atomic.Int64
	mismatch := func(format string, args ...any) {
		if mismatches.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	var calls sync.Map // id -> *stressCall
	var nextID atomic.Int64
	var transMu sync.Mutex
	var trans []sdk.Transition
	var b *Breaker
	var nestedTries, nested atomic.Int64
	hooks := sdk.Hooks{
		CallStart: func(ctx context.Context, info sdk.CallStart) context.Context {
			id, _ := ctx.Value(stressIDKey{}).(int64)
			v, ok := calls.Load(id)
			if !ok {
				mismatch("CallStart of an unknown call %d", id)
				return ctx
			}
			c := v.(*stressCall)
			c.mu.Lock()
			c.start = info
			c.mu.Unlock()
			c.starts.Add(1)
			return ctx
		},
		CallEnd: func(ctx context.Context, info sdk.CallEnd) {
			id, _ := ctx.Value(stressIDKey{}).(int64)
			v, ok := calls.Load(id)
			if !ok {
				mismatch("CallEnd of an unknown call %d", id)
				return
			}
			c := v.(*stressCall)
			c.mu.Lock()
			c.end = info
			c.mu.Unlock()
			c.ends.Add(1)
			// Now and then call back into the breaker from the hook.
			if id%97 == 0 && nestedTries.Add(1) < 200 {
				nested.Add(1)
				nid := nextID.Add(1)
				calls.Store(nid, &stressCall{})
				_ = b.Do(context.WithValue(context.Background(), stressIDKey{}, nid), func(context.Context) error { return nil })
				_ = b.Info()
			}
		},
		StateChange: func(_ context.Context, tr sdk.Transition) {
			transMu.Lock()
			trans = append(trans, tr)
			transMu.Unlock()
			_ = b.State()
		},
	}
	cfg, err := buildConfig("stress", []Option{
		WithWindow(CountWindow(10)),
		WithTripper(MinRequests(3).And(FailureRate(0.3))),
		WithTracker(tracker.Custom(func(_ context.Context, err error) bool { return !errors.Is(err, errStressIgnored) })),
		WithRetry(Always()),
		WithPermit(All()),
		WithMaxHalfOpenCalls(2),
		WithHalfOpenWait(wait),
		WithHooks(hooks),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.countInFlight = true
	b = newBreaker("stress", "key", cfg)

	var executed, rejected, panics, goexits, gaveUp, reconfigs atomic.Int64
	var wg sync.WaitGroup
	if reconf {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(7, 7))
			for range perGoroutine {
				if err := b.Reconfigure(context.Background(), stressReconfiguration(rng)...); err != nil {
					mismatch("Reconfigure: %v", err)
				}
				reconfigs.Add(1)
				for range 10 {
					runtime.Gosched()
				}
			}
		})
	}
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for i := range perGoroutine {
				if g == 0 && i%25 == 0 {
					switch rng.IntN(6) {
					case 0:
						b.ForceOpen(context.Background())
					case 1:
						b.Disable(context.Background())
					case 2:
						b.MetricsOnly(context.Background())
					default:
						b.Reset(context.Background())
					}
				}
				id := nextID.Add(1)
				c := &stressCall{}
				calls.Store(id, c)
				stressOne(b, rng, id, c, &executed, &rejected, &panics, &goexits, &gaveUp)
			}
		})
	}
	wg.Wait()
	synctest.Wait()

	total := 0
	calls.Range(func(k, v any) bool {
		total++
		c := v.(*stressCall)
		if s, e := c.starts.Load(), c.ends.Load(); s != 1 || e != 1 {
			mismatch("call %d: %d CallStart and %d CallEnd", k, s, e)
		}
		stressCheck(k.(int64), c, mismatch)
		return true
	})
	transMu.Lock()
	prev := sdk.StateClosed
	for i, tr := range trans {
		if tr.From != prev {
			mismatch("transition %d: %s->%s after one to %s: out of order", i, tr.From, tr.To, prev)
		}
		prev = tr.To
	}
	n := len(trans)
	transMu.Unlock()
	if st := b.State(); prev != st {
		mismatch("the last transition reported ends in %s, the breaker is %s", prev, st)
	}
	b.mu.Lock()
	if b.halfOpen.taken != 0 || b.queue.head != len(b.queue.q) || b.queue.delivering || b.queue.done != b.queue.pushed {
		mismatch("left behind: %d half-open slots taken, %d deliveries queued, delivering=%v",
			b.halfOpen.taken, len(b.queue.q)-b.queue.head, b.queue.delivering)
	}
	b.mu.Unlock()
	if f := b.inFlight.Load(); f != 0 {
		mismatch("%d calls still counted in flight", f)
	}
	t.Logf("%d goroutines, %d calls (%d from hooks): executed %d, rejected %d (%d gave up waiting), panics %d, Goexits %d; transitions %d; reconfigurations %d; mismatches %d",
		goroutines, total, nested.Load(), executed.Load(), rejected.Load(), gaveUp.Load(), panics.Load(), goexits.Load(), n, reconfigs.Load(), mismatches.Load())
}

// The kinds of stress calls.
const (
	stressSuccess = iota
	stressCounted
	stressIgnored
	stressPanicking
	stressCanceling
	stressImpatient // gives up waiting soon
	stressTwoStep
	stressGoexit
	stressSlow // holds its slot a while (fake time: the bubble's clock)
	stressSlow2
	stressKinds
)

// stressOne makes one call of a random kind and keeps what its caller saw.
func stressOne(b *Breaker, rng *rand.Rand, id int64, c *stressCall,
	executed, rejected, panics, goexits, gaveUp *atomic.Int64) {
	kind := rng.IntN(stressKinds)
	if kind == stressGoexit && rng.IntN(20) != 0 {
		kind = stressSuccess
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), stressIDKey{}, id))
	defer cancel()
	if kind == stressImpatient {
		ctx, cancel = context.WithTimeout(ctx, 50*time.Microsecond)
		defer cancel()
	}
	ran := false
	fn := func(ctx context.Context) (int64, error) {
		ran = true
		runtime.Gosched()
		switch kind {
		case stressCounted:
			return 0, errStressCounted
		case stressIgnored:
			return 0, errStressIgnored
		case stressPanicking:
			panic(id)
		case stressCanceling:
			cancel()
			return 0, ctx.Err()
		case stressGoexit:
			runtime.Goexit()
		case stressSlow, stressSlow2:
			time.Sleep(100 * time.Microsecond)
		}
		return id, nil
	}
	var v int64
	var err error
	var panicV any
	exited := false
	switch kind {
	case stressTwoStep:
		call, aerr := b.Allow(ctx)
		err = aerr
		if aerr == nil {
			v, err = fn(call.Context())
			call.Done(err)
		}
	case stressGoexit:
		done := make(chan struct{})
		go func() {
			defer close(done)
			returned := false
			defer func() { exited = !returned }()
			v, err = Execute(ctx, b, fn)
			returned = true
		}()
		<-done
	default:
		func() {
			defer func() { panicV = recover() }()
			v, err = Execute(ctx, b, fn)
		}()
	}

	c.made, c.kind, c.ran, c.v, c.err, c.panicV, c.exited = true, kind, ran, v, err, panicV, exited
	switch {
	case !ran:
		rejected.Add(1)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			gaveUp.Add(1)
		}
	case kind == stressGoexit:
		goexits.Add(1)
	case kind == stressPanicking:
		panics.Add(1)
		executed.Add(1)
	default:
		executed.Add(1)
	}
}

// stressCheck checks what the caller of c saw against its CallEnd.
func stressCheck(id int64, c *stressCall, mismatch func(string, ...any)) {
	if !c.made {
		return
	}
	end, err, kind := c.end, c.err, c.kind
	if end.WouldReject && (!c.ran || end.Outcome == sdk.OutcomeRejected) {
		mismatch("call %d: let through by the enforcement, but ran = %v, outcome %s", id, c.ran, end.Outcome)
	}
	switch {
	case !c.ran:
		var npe NotPermittedError
		if !errors.As(err, &npe) || !errors.Is(err, ErrNotPermitted) {
			mismatch("call %d: did not run, but got %v", id, err)
		}
		if end.Outcome != sdk.OutcomeRejected {
			mismatch("call %d: did not run, CallEnd outcome %s", id, end.Outcome)
		}
	case kind == stressGoexit:
		if !c.exited || !end.Panicked {
			mismatch("call %d: Goexit went on = %v, CallEnd panicked = %v", id, c.exited, end.Panicked)
		}
	case kind == stressPanicking:
		if c.panicV != id || !end.Panicked || end.Decision != sdk.DecisionCounted {
			mismatch("call %d: panic %v reached the caller; CallEnd %+v", id, c.panicV, end)
		}
	default:
		if c.panicV != nil {
			mismatch("call %d panicked: %v", id, c.panicV)
		}
		want := sdk.OutcomeSuccess
		if kind == stressCounted || kind == stressIgnored || kind == stressCanceling {
			want = sdk.OutcomeError
		}
		if end.Outcome != want || (want == sdk.OutcomeSuccess && (err != nil || c.v != id)) {
			mismatch("call %d (kind %d): got %d, %v; CallEnd %s", id, kind, c.v, err, end.Outcome)
		}
		if kind == stressCanceling && end.Decision != sdk.DecisionIgnored {
			mismatch("call %d: a canceled call's error is %s, not ignored", id, end.Decision)
		}
	}
}
