package otelbridge_test

// Conservation under concurrency: many goroutines make many calls with
// random outcomes through breakers that report to the real OpenTelemetry
// SDK through otelbridge. Afterwards the telemetry must account for exactly
// what the goroutines saw — nothing lost, nothing double-counted:
//
//   - one span per call (rejected calls included: the hooks give every
//     rejected call a span, WithRejectedSpanInterval(0)), every span ended,
//     spans by outcome and decision
//     equal to the calls by outcome and decision;
//   - the sum of circuit_breaker.calls, and its counts by outcome and
//     decision, equal to the calls; circuit_breaker.call.duration counts
//     the executed calls; panics are counted under error.type=panic;
//   - every transition the breaker reported appears once in
//     circuit_breaker.transitions, and the transitions form a path from
//     closed to the final state (what enters a state leaves it, except the
//     final one); every transition caused by a call is an event on a span;
//   - no more half-open calls run at once than the breaker allows;
//   - circuit_breaker.state reports the final state;
//   - the breaker is reconfigured meanwhile (enforcement 0, 0.5 or 1, and
//     its retry policy): every reconfiguration that changed something is
//     counted once in circuit_breaker.reconfigurations, and the calls let
//     through by the enforcement (CallEnd.WouldReject) are exactly those
//     marked circuit_breaker.would_reject on spans and in
//     circuit_breaker.calls;
//   - no goroutine is left behind (goleak).
//
// The short version runs in go test; -stress.duration=5m runs rounds of
// the same check for that long (and -stress.goroutines sets the number of
// goroutines per round).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/fluxgate/fluxgate/internal/testutil"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

var (
	consStressDuration   = flag.Duration("stress.duration", 0, "run the conservation stress test for this long (e.g. 5m); 0 runs the short version")
	consStressGoroutines = flag.Int("stress.goroutines", 64, "goroutines per round of the long conservation stress test")
)

// consConfig is one breaker configuration of the test.
type consConfig struct {
	name    string
	maxHalf int
	opts    func() []breaker.Option
}

// consConfigs cycle through both windows, several trippers, every retry
// that lets the breaker recover on its own, and every permit, with short
// real-time delays so that the breaker keeps moving through its states.
var consConfigs = []consConfig{
	{"count-rate-rampup", 2, func() []breaker.Option {
		return []breaker.Option{
			breaker.WithWindow(breaker.CountWindow(20)),
			breaker.WithTripper(breaker.MinRequests(5).And(breaker.FailureRate(0.3))),
			breaker.WithRetry(breaker.Cooldown(time.Millisecond, 0)),
			breaker.WithPermit(breaker.RampUp(0.5, 1, 5*time.Millisecond)),
		}
	}},
	{"time-streak-slow-backoff", 3, func() []breaker.Option {
		return []breaker.Option{
			breaker.WithWindow(breaker.TimeWindow(time.Second)),
			breaker.WithTripper(breaker.FailureStreak(3).Or(breaker.MinRequests(10).And(breaker.SlowRate(0.5, 200*time.Microsecond)))),
			breaker.WithRetry(breaker.Backoff(500*time.Microsecond, 2, 5*time.Millisecond, 0.2)),
			breaker.WithPermit(breaker.Random(0.7)),
		}
	}},
	{"count-halfopened-always", 1, func() []breaker.Option {
		return []breaker.Option{
			breaker.WithWindow(breaker.CountWindow(5)),
			breaker.WithTripper(breaker.Closed().And(breaker.MinRequests(3)).And(breaker.FailureRate(0.5)).
				Or(breaker.HalfOpened().And(breaker.FailureRate(0.5)))),
			breaker.WithRetry(breaker.Always()),
			breaker.WithPermit(breaker.All()),
		}
	}},
	{"time-latency-jitter-func", 4, func() []breaker.Option {
		return []breaker.Option{
			breaker.WithWindow(breaker.TimeWindow(2 * time.Second)),
			breaker.WithTripper(breaker.MinRequests(8).And(breaker.AvgLatency(100 * time.Microsecond).Or(breaker.FailureRate(0.6)))),
			breaker.WithRetry(breaker.Cooldown(2*time.Millisecond, 0.5)),
			breaker.WithPermit(breaker.PermitFunc(func(d time.Duration) bool { return d%2 == 0 })),
			breaker.WithFailureDurations(true),
		}
	}},
}

// consKey names a category of calls: "success", "error/counted",
// "error/ignored" or "rejected".
func consKey(outcome, decision string) string {
	if decision == "" {
		return outcome
	}
	return outcome + "/" + decision
}

// consProcessor counts spans as they start and end, by category, without
// keeping them (the long run makes millions).
type consProcessor struct {
	started atomic.Int64
	mu      sync.Mutex
	ended   map[string]int64
	events  int64 // circuit_breaker.state_change span events
	panics  int64 // spans with error.type=panic
	would   int64 // spans with circuit_breaker.would_reject=true
	n       int64
}

func (p *consProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) { p.started.Add(1) }

func (p *consProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	var outcome, decision, errType string
	var would bool
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case otelbridge.WouldRejectKey:
			would = kv.Value.AsBool()
		case otelbridge.OutcomeKey:
			outcome = kv.Value.AsString()
		case otelbridge.DecisionKey:
			decision = kv.Value.AsString()
		case otelbridge.ErrorTypeKey:
			errType = kv.Value.AsString()
		}
	}
	events := int64(len(testutil.Events(s, otelbridge.StateChangeEvent)))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.ended[consKey(outcome, decision)]++
	p.events += events
	if errType == otelbridge.ErrorTypePanic {
		p.panics++
	}
	if would {
		p.would++
	}
}

func (p *consProcessor) Shutdown(context.Context) error   { return nil }
func (p *consProcessor) ForceFlush(context.Context) error { return nil }

// consTransitions counts the transitions reported to a StateChange hook.
type consTransitions struct {
	mu      sync.Mutex
	byPair  map[[2]sdk.State]int64
	byCalls int64 // reason other than manual: caused by a call
	total   int64
}

func (c *consTransitions) hooks() sdk.Hooks {
	return sdk.Hooks{StateChange: func(_ context.Context, tr sdk.Transition) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.byPair[[2]sdk.State{tr.From, tr.To}]++
		c.total++
		if tr.Reason != sdk.ReasonManual {
			c.byCalls++
		}
	}}
}

// consAdmittedKey carries a call's admission state (a consAdmitted) from
// CallStart to fn.
type consAdmittedKey struct{}

// consAdmitted is a call's admission state and, for a half-open probe, its
// half-open period.
type consAdmitted struct {
	state  sdk.State
	period *atomic.Int32 // probes of the period running now
}

// consBeforeKey carries the breaker's Info as the caller read it just
// before the call (a consBefore), to CallStart.
type consBeforeKey struct{}

// consBefore is the state and the time of the last transition that a caller
// read just before its call.
type consBefore struct {
	state     sdk.State
	changedAt time.Time
}

// consStats is what one round observed.
type consStats struct {
	calls      int64
	byCategory map[string]int64
	executed   int64
	panics     int64
	peakHalf   int32
	transition int64
	mismatches int
}

func (s *consStats) add(o consStats) {
	s.calls += o.calls
	s.executed += o.executed
	s.panics += o.panics
	s.peakHalf = max(s.peakHalf, o.peakHalf)
	s.transition += o.transition
	s.mismatches += o.mismatches
	for k, v := range o.byCategory {
		s.byCategory[k] += v
	}
}

// TestConservationUnderConcurrency is the short version: every
// configuration once, 8 goroutines × 300 calls each. With
// -stress.duration it runs rounds of -stress.goroutines × 2000 calls for
// that long.
func TestConservationUnderConcurrency(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	total := consStats{byCategory: map[string]int64{}}
	start := time.Now()
	rounds := 0
	goroutines, perGoroutine := 8, 300
	if *consStressDuration > 0 {
		goroutines, perGoroutine = *consStressGoroutines, 2000
	}
	for {
		cfg := consConfigs[rounds%len(consConfigs)]
		st := consRound(t, cfg, seed+uint64(rounds), goroutines, perGoroutine)
		total.add(st)
		rounds++
		if t.Failed() {
			break
		}
		if *consStressDuration > 0 {
			if time.Since(start) >= *consStressDuration {
				break
			}
		} else if rounds == len(consConfigs) {
			break
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d rounds, %d goroutines per round, %d calls (%.0f/s) in %s: %v; executed %d, panics %d, transitions %d, peak half-open calls %d; mismatches %d",
		rounds, goroutines, total.calls, float64(total.calls)/elapsed.Seconds(), elapsed.Round(time.Millisecond),
		total.byCategory, total.executed, total.panics, total.transition, total.peakHalf, total.mismatches)
}

// consRound runs one breaker with fresh providers and checks its telemetry.
func consRound(t *testing.T, cfg consConfig, seed uint64, goroutines, perGoroutine int) consStats {
	t.Helper()
	proc := &consProcessor{ended: map[string]int64{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(proc))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}()

	trans := &consTransitions{byPair: map[[2]sdk.State]int64{}}
	// A probe of one half-open period may still run in a later one, which
	// has slots of its own: count half-open calls per period (the time the
	// period began). A probe's period is known for certain when the caller
	// read the same half-open period just before the call and CallStart
	// reads it again after admission: admission happened in between, and
	// periods only move forward. Probes whose two reads differ (admitted
	// around a transition, or the call that moved the breaker to half-open)
	// are not attributed to a period, so the check never blames a probe of
	// an earlier period on a later one.
	var b *breaker.Breaker
	var periods sync.Map // the start of a half-open period -> its probes running now
	admitted := sdk.Hooks{CallStart: func(ctx context.Context, info sdk.CallStart) context.Context {
		a := consAdmitted{state: info.State}
		if info.State == sdk.StateHalfOpen && !info.Rejected && !info.WouldReject {
			before, _ := ctx.Value(consBeforeKey{}).(consBefore)
			if in := b.Info(); in.State == sdk.StateHalfOpen && before.state == sdk.StateHalfOpen && before.changedAt.Equal(in.ChangedAt) {
				n, _ := periods.LoadOrStore(in.ChangedAt, new(atomic.Int32))
				a.period = n.(*atomic.Int32)
			}
		}
		return context.WithValue(ctx, consAdmittedKey{}, a)
	}}
	var wouldReject, reconfigs, reconfigured atomic.Int64
	operate := sdk.Hooks{
		CallEnd: func(_ context.Context, e sdk.CallEnd) {
			if e.WouldReject {
				wouldReject.Add(1)
			}
		},
		Reconfigured: func(context.Context, sdk.Reconfiguration) { reconfigured.Add(1) },
	}
	serverErrors := tracker.Named("server_error", tracker.Custom(func(_ context.Context, err error) bool {
		return testutil.IsServerError(err)
	}))
	opts := append(cfg.opts(),
		breaker.WithTracker(serverErrors),
		breaker.WithMaxHalfOpenCalls(cfg.maxHalf),
		breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tp), otelbridge.WithMeterProvider(mp),
			otelbridge.WithRejectedSpanInterval(0))),
		breaker.WithHooks(admitted, trans.hooks(), operate),
	)
	b, err := breaker.New("conservation-"+cfg.name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var inHalf, peak atomic.Int32
	var wg sync.WaitGroup
	stats := make([]consStats, goroutines)
	stop := make(chan struct{})

	// Manual commands meanwhile, with contexts that hold no span.
	var manual sync.WaitGroup
	manual.Go(func() {
		rng := rand.New(rand.NewPCG(seed, 1<<32))
		ctx := context.Background()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(500+rng.IntN(2000)) * time.Microsecond):
			}
			if rng.IntN(4) == 0 {
				opts := []breaker.Option{breaker.WithEnforcement([]float64{0, 0.5, 1}[rng.IntN(3)])}
				if rng.IntN(2) == 0 {
					opts = append(opts, breaker.WithRetry([]breaker.Retry{breaker.Always(), breaker.Cooldown(time.Millisecond, 0)}[rng.IntN(2)]))
				}
				if err := b.Reconfigure(ctx, opts...); err != nil {
					t.Errorf("Reconfigure: %v", err)
				}
				reconfigs.Add(1)
				continue
			}
			switch rng.IntN(20) {
			case 0:
				b.ForceOpen(ctx)
			case 1:
				b.Disable(ctx)
			case 2, 3:
				b.MetricsOnly(ctx)
			default:
				b.Reset(ctx)
			}
		}
	})

	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			st := consStats{byCategory: map[string]int64{}}
			for range perGoroutine {
				consCall(b, rng, &st, &inHalf, &peak)
			}
			stats[g] = st
		})
	}
	wg.Wait()
	close(stop)
	manual.Wait()

	var got consStats
	got.byCategory = map[string]int64{}
	for _, s := range stats {
		got.add(s)
	}
	got.peakHalf = peak.Load()
	got.transition = trans.total

	mismatch := func(format string, args ...any) {
		t.Helper()
		got.mismatches++
		t.Errorf("%s: "+format, append([]any{cfg.name}, args...)...)
	}

	// Half-open concurrency.
	if got.peakHalf > int32(cfg.maxHalf) {
		mismatch("%d half-open calls ran at once, limit %d", got.peakHalf, cfg.maxHalf)
	}

	// Spans.
	proc.mu.Lock()
	spansEnded, spansByCat, events, spanPanics, spanWould := proc.n, proc.ended, proc.events, proc.panics, proc.would
	proc.mu.Unlock()
	if spanWould != wouldReject.Load() {
		mismatch("%d spans marked would_reject, %d calls let through by the enforcement", spanWould, wouldReject.Load())
	}
	if s := proc.started.Load(); s != got.calls || spansEnded != got.calls {
		mismatch("%d calls, %d spans started, %d ended", got.calls, s, spansEnded)
	}
	if !consEqual(spansByCat, got.byCategory) {
		mismatch("spans by outcome/decision %v, calls %v", spansByCat, got.byCategory)
	}
	if spanPanics != got.panics {
		mismatch("%d spans with error.type=panic, %d panics", spanPanics, got.panics)
	}
	if events != trans.byCalls {
		mismatch("%d state_change span events, %d transitions caused by calls", events, trans.byCalls)
	}

	// Metrics.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	callsByCat, callsTotal, metricPanics, metricWould := map[string]int64{}, int64(0), int64(0), int64(0)
	for _, dp := range consSumPoints(rm, otelbridge.CallsMetric) {
		outcome, _ := dp.Attributes.Value(otelbridge.OutcomeKey)
		decision, _ := dp.Attributes.Value(otelbridge.DecisionKey)
		callsByCat[consKey(outcome.AsString(), decision.AsString())] += dp.Value
		callsTotal += dp.Value
		if et, ok := dp.Attributes.Value(otelbridge.ErrorTypeKey); ok && et.AsString() == otelbridge.ErrorTypePanic {
			metricPanics += dp.Value
		}
		if w, ok := dp.Attributes.Value(otelbridge.WouldRejectKey); ok && w.AsBool() {
			metricWould += dp.Value
		}
	}
	if metricWould != wouldReject.Load() {
		mismatch("%s with would_reject %d, calls let through by the enforcement %d", otelbridge.CallsMetric, metricWould, wouldReject.Load())
	}
	var metricReconfigs int64
	for _, dp := range consSumPoints(rm, otelbridge.ReconfigurationsMetric) {
		metricReconfigs += dp.Value
	}
	t.Logf("%s: %d calls let through by the enforcement; %d reconfigurations, %d changed something",
		cfg.name, wouldReject.Load(), reconfigs.Load(), reconfigured.Load())
	if metricReconfigs != reconfigured.Load() || reconfigured.Load() > reconfigs.Load() {
		mismatch("%s = %d, %d reconfigurations reported of %d made", otelbridge.ReconfigurationsMetric, metricReconfigs, reconfigured.Load(), reconfigs.Load())
	}
	if callsTotal != got.calls {
		mismatch("sum of %s = %d, calls %d", otelbridge.CallsMetric, callsTotal, got.calls)
	}
	if !consEqual(callsByCat, got.byCategory) {
		mismatch("%s by outcome/decision %v, calls %v", otelbridge.CallsMetric, callsByCat, got.byCategory)
	}
	if metricPanics != got.panics {
		mismatch("%s with error.type=panic %d, panics %d", otelbridge.CallsMetric, metricPanics, got.panics)
	}
	var durations uint64
	for _, n := range testutil.HistogramCounts(rm, otelbridge.CallDurationMetric) {
		durations += n
	}
	if int64(durations) != got.executed {
		mismatch("%s counted %d calls, %d executed", otelbridge.CallDurationMetric, durations, got.executed)
	}

	// Transitions: each reported once, and they form a path.
	trans.mu.Lock()
	byPair := trans.byPair
	trans.mu.Unlock()
	metricPairs := map[[2]sdk.State]int64{}
	var metricTransitions int64
	for _, dp := range consSumPoints(rm, otelbridge.TransitionsMetric) {
		from, _ := dp.Attributes.Value(otelbridge.PreviousStateKey)
		to, _ := dp.Attributes.Value(otelbridge.StateKey)
		f, err1 := sdk.ParseState(from.AsString())
		s, err2 := sdk.ParseState(to.AsString())
		if err1 != nil || err2 != nil {
			mismatch("transition data point with states %q -> %q", from.AsString(), to.AsString())
			continue
		}
		metricPairs[[2]sdk.State{f, s}] += dp.Value
		metricTransitions += dp.Value
	}
	if metricTransitions != trans.total || !consEqual(metricPairs, byPair) {
		mismatch("%s %v (%d), reported %v (%d)", otelbridge.TransitionsMetric, metricPairs, metricTransitions, byPair, trans.total)
	}
	final := b.State()
	var net [sdk.NumStates]int64
	for pair, n := range byPair {
		net[pair[0]] -= n
		net[pair[1]] += n
	}
	var want [sdk.NumStates]int64
	want[sdk.StateClosed]--
	want[final]++
	if net != want {
		mismatch("the transitions do not form a path from closed to %s (entries minus exits by state: %v)", final, net)
	}

	// State gauge.
	for _, dp := range consSumPoints(rm, otelbridge.StateMetric) {
		sv, _ := dp.Attributes.Value(otelbridge.StateKey)
		wantV := int64(0)
		if sv.AsString() == final.String() {
			wantV = 1
		}
		if dp.Value != wantV {
			mismatch("%s{state=%s} = %d, final state %s", otelbridge.StateMetric, sv.AsString(), dp.Value, final)
		}
	}
	return got
}

// consCall makes one call with a random outcome and files what the caller
// saw.
func consCall(b *breaker.Breaker, rng *rand.Rand, st *consStats, inHalf, peak *atomic.Int32) {
	const (
		success = iota
		counted
		ignored
		canceled
		panics
		slow
	)
	kind := rng.IntN(20)
	switch {
	case kind < 11:
		kind = success
	case kind < 14:
		kind = counted
	case kind < 16:
		kind = ignored
	case kind < 17:
		kind = canceled
	case kind < 18:
		kind = panics
	default:
		kind = slow
	}
	in := b.Info()
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), consBeforeKey{}, consBefore{in.State, in.ChangedAt}))
	defer cancel()
	if kind != canceled && rng.IntN(10) == 0 {
		// Gives up soon if it has to wait for a half-open slot.
		ctx, cancel = context.WithTimeout(ctx, 100*time.Microsecond)
		defer cancel()
	}
	var sleep time.Duration
	if kind == slow || rng.IntN(4) == 0 {
		sleep = time.Duration(rng.IntN(300)) * time.Microsecond
	}
	ran := false
	fn := func(cctx context.Context) (int, error) {
		ran = true
		if a, _ := cctx.Value(consAdmittedKey{}).(consAdmitted); a.period != nil {
			n := a.period.Add(1)
			defer a.period.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		}
		if sleep > 0 {
			time.Sleep(sleep)
		}
		switch kind {
		case counted:
			return 0, testutil.ErrUnavailable
		case ignored:
			return 0, testutil.ErrNotFound
		case canceled:
			cancel()
			return 0, cctx.Err()
		case panics:
			panic("conservation")
		}
		return 1, nil
	}
	panicked := false
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicked = true
			}
		}()
		_, err = breaker.Execute(ctx, b, fn)
	}()

	st.calls++
	switch {
	case !ran:
		st.byCategory[consKey("rejected", "")]++
		if err == nil {
			panic("a call that did not run returned no error")
		}
		var npe breaker.NotPermittedError
		if !errors.As(err, &npe) && !errors.Is(err, context.DeadlineExceeded) {
			panic(fmt.Sprintf("a rejected call got %v", err))
		}
		return
	case panicked:
		st.byCategory[consKey("error", "counted")]++
		st.panics++
	case err == nil:
		st.byCategory[consKey("success", "")]++
	case kind == canceled:
		st.byCategory[consKey("error", "ignored")]++
	case errors.Is(err, testutil.ErrUnavailable):
		st.byCategory[consKey("error", "counted")]++
	case errors.Is(err, testutil.ErrNotFound):
		st.byCategory[consKey("error", "ignored")]++
	default:
		panic(fmt.Sprintf("a call that ran returned %v", err))
	}
	st.executed++
}

// consSumPoints returns the data points of the int64 sum called name.
func consSumPoints(rm metricdata.ResourceMetrics, name string) []metricdata.DataPoint[int64] {
	m, _, ok := testutil.FindMetric(rm, name)
	if !ok {
		return nil
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return nil
	}
	return sum.DataPoints
}

func consEqual[K comparable](a, b map[K]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestPanicEndsSpanInEveryState: a protected function that panics in any
// state that runs it gets its span ended (outcome error, decision counted,
// error.type panic, status Error) and its call counted once, the panic
// reaches the caller, and a half-open slot comes back.
func TestPanicEndsSpanInEveryState(t *testing.T) {
	for _, st := range []sdk.State{sdk.StateClosed, sdk.StateHalfOpen, sdk.StateMetricsOnly, sdk.StateDisabled} {
		t.Run(st.String(), func(t *testing.T) {
			tel := testutil.NewTelemetry(t)
			b, err := breaker.New("panics",
				breaker.WithTripper(breaker.FailureStreak(1)),
				breaker.WithRetry(breaker.Always()),
				breaker.WithPermit(breaker.All()),
				breaker.WithMaxHalfOpenCalls(1),
				breaker.WithHooks(otelbridge.Hooks(otelbridge.WithTracerProvider(tel.TracerProvider), otelbridge.WithMeterProvider(tel.MeterProvider),
					otelbridge.WithRejectedSpanInterval(0))))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			switch st {
			case sdk.StateHalfOpen:
				_ = b.Do(ctx, func(context.Context) error { return testutil.ErrUnavailable }) // open; Always: the next call probes
			case sdk.StateMetricsOnly:
				b.MetricsOnly(ctx)
			case sdk.StateDisabled:
				b.Disable(ctx)
			}
			before := len(tel.Ended())
			r := func() (r any) {
				defer func() { r = recover() }()
				_ = b.Do(ctx, func(context.Context) error { panic("boom") })
				return nil
			}()
			if r != "boom" {
				t.Fatalf("the caller got %v, want the panic", r)
			}
			spans := tel.Ended()[before:]
			if len(spans) != 1 {
				t.Fatalf("%d spans ended for the panicking call, want 1", len(spans))
			}
			s := spans[0]
			for key, want := range map[attribute.Key]string{
				otelbridge.StateKey:     st.String(),
				otelbridge.OutcomeKey:   "error",
				otelbridge.DecisionKey:  "counted",
				otelbridge.ErrorTypeKey: otelbridge.ErrorTypePanic,
				otelbridge.RuleKey:      breaker.RulePanic,
			} {
				if v, ok := testutil.SpanAttr(s, key); !ok || v.AsString() != want {
					t.Errorf("span %s = %q, want %q", key, v.AsString(), want)
				}
			}
			if s.Status().Code.String() != "Error" {
				t.Errorf("span status %v, want Error", s.Status())
			}
			var n int64
			for _, dp := range consSumPoints(tel.Collect(t), otelbridge.CallsMetric) {
				if et, ok := dp.Attributes.Value(otelbridge.ErrorTypeKey); ok && et.AsString() == otelbridge.ErrorTypePanic {
					n += dp.Value
				}
			}
			if n != 1 {
				t.Errorf("%s{error.type=panic} = %d, want 1", otelbridge.CallsMetric, n)
			}
			if st == sdk.StateHalfOpen {
				if b.State() != sdk.StateOpen {
					t.Fatalf("the panicking probe left the breaker %s, want open", b.State())
				}
				if err := b.Do(ctx, func(context.Context) error { return nil }); err != nil || b.State() != sdk.StateClosed {
					t.Fatalf("next probe: %v, state %s; the slot did not come back", err, b.State())
				}
			}
		})
	}
}
