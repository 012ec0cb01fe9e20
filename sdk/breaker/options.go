package breaker

import (
	"errors"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// Option configures a breaker built by New.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options build; New validates it as a whole.
type config struct {
	window        Window
	tracker       tracker.Tracker
	tripper       Tripper
	retry         Retry
	permit        Permit
	maxHalfOpen   int
	hooks         []sdk.Hooks
	rand          func() float64
	failDurations bool
	errs          []error

	halfOpenWait    time.Duration
	halfOpenTimeout time.Duration
	enforcement     float64

	thresholds    []time.Duration // the tripper's distinct SlowRate thresholds, set by buildConfig
	countInFlight bool            // count calls in flight (breakers of a Group)
	s             *settings       // what the breakers built from this configuration share, set by buildConfig
}

// The default components. They are immutable, so every breaker shares them.
var (
	defaultWindow  = CountWindow(100)
	defaultTracker = tracker.All()
	defaultTripper = Closed().And(MinRequests(20).And(FailureRate(0.5))).Or(SuccessesToClose(5))
	defaultRetry   = Cooldown(60*time.Second, 0)
	defaultPermit  = AdmitFirst(RampUp(0.1, 1.0, 60*time.Second))

	// fluxgate's own defaults, set by WithFluxgateDefaults.
	fluxgateTripper = MinRequests(100).And(FailureRate(0.5))
	fluxgatePermit  = RampUp(0.1, 1.0, 60*time.Second)
)

func defaultConfig() config {
	return config{
		window:          defaultWindow,
		tracker:         defaultTracker,
		tripper:         defaultTripper,
		retry:           defaultRetry,
		permit:          defaultPermit,
		maxHalfOpen:     10,
		halfOpenWait:    DefaultHalfOpenWait,
		halfOpenTimeout: DefaultHalfOpenTimeout,
		enforcement:     1,
	}
}

// WithFluxgateDefaults sets every component to the default of the Python
// library fluxgate, in place of this package's defaults: CountWindow(100),
// tracker.All(), MinRequests(100).And(FailureRate(0.5)),
// Cooldown(60*time.Second, 0), RampUp(0.1, 1.0, 60*time.Second) (a plain
// permit: the call that ends the cooldown is admitted only if it says yes)
// and 10 half-open calls at once. It also turns the half-open timeout off
// (WithHalfOpenTimeout(0)), since fluxgate has none. Options after it
// override it, e.g. WithFluxgateDefaults(), WithHalfOpenTimeout(time.Minute)
// to keep the bound. Callers that find every half-open slot taken still
// wait at most WithHalfOpenWait (default 1s) where fluxgate queues them
// without bound.
//
// With these defaults a half-open breaker falls into fluxgate's half-open
// trap (see the package documentation): the tripper is evaluated on the
// half-open window, so one successful probe closes the breaker and
// re-opening it takes 100 failed probes.
func WithFluxgateDefaults() Option {
	return optionFunc(func(c *config) {
		c.window = defaultWindow
		c.tracker = defaultTracker
		c.tripper = fluxgateTripper
		c.retry = defaultRetry
		c.permit = fluxgatePermit
		c.maxHalfOpen = 10
		c.halfOpenTimeout = 0
	})
}

// WithWindow sets how much call history the breaker keeps. Default:
// CountWindow(100).
func WithWindow(w Window) Option { return optionFunc(func(c *config) { c.window = w }) }

// WithTracker sets which errors count as failures. Default: tracker.All(),
// every error counts. Errors from a call whose own context was canceled are
// never given to the tracker: they are ignored.
func WithTracker(t tracker.Tracker) Option { return optionFunc(func(c *config) { c.tracker = t }) }

// WithTripper sets when the breaker opens, and whether a half-open breaker
// closes or re-opens. Default:
// Closed().And(MinRequests(20).And(FailureRate(0.5))).Or(SuccessesToClose(5)):
// while closed, it opens when at least half of the last 100 calls failed
// (CountWindow(100)), once at least 20 calls were recorded; while
// half-open, it re-opens on the first counted failed probe and closes after
// 5 successful probes in a row. fluxgate's default is
// MinRequests(100).And(FailureRate(0.5)) (see WithFluxgateDefaults).
func WithTripper(t Tripper) Option { return optionFunc(func(c *config) { c.tripper = t }) }

// WithRetry sets when an open breaker lets a call through to half-open.
// Default: Cooldown(60*time.Second, 0).
func WithRetry(r Retry) Option { return optionFunc(func(c *config) { c.retry = r }) }

// WithPermit sets which calls a half-open breaker admits as probes.
// Default: AdmitFirst(RampUp(0.1, 1.0, 60*time.Second)): the call that
// ends the retry delay is always admitted, and each later call with a
// probability that grows from 0.1 to 1 over a minute. A permit given here
// without AdmitFirst decides that first call too (fluxgate's behaviour):
// with RampUp(0.1, 1.0, 60*time.Second), it is admitted with probability
// 0.1 and otherwise refused, the breaker staying half-open.
func WithPermit(p Permit) Option { return optionFunc(func(c *config) { c.permit = p }) }

// WithMaxHalfOpenCalls sets how many probes may run at once while
// half-open; n must be at least 1. A call that finds every slot taken
// waits for one as WithHalfOpenWait says. The slots belong to one
// half-open period: a probe still running after the breaker left
// half-open holds no slot of a later period. Default: 10.
func WithMaxHalfOpenCalls(n int) Option { return optionFunc(func(c *config) { c.maxHalfOpen = n }) }

// DefaultHalfOpenWait is how long a call waits for a half-open slot unless
// WithHalfOpenWait says otherwise.
const DefaultHalfOpenWait = time.Second

// WithHalfOpenWait sets how long a call that finds every half-open slot
// taken (see WithMaxHalfOpenCalls) waits for one: d = 0 refuses it at once
// (fail-fast, as gobreaker and resilience4j do); d > 0 lets it wait at most
// d, or until its context ends if that comes first. d must not be
// negative; to wait for as long as the context allows, pass a duration
// longer than any deadline in use.
//
// While it waits, a slot that frees or any transition (a probe's outcome,
// a manual command) wakes it, and it goes on by the state it then finds:
// no caller waits across a transition. Waiters are not served in arrival
// order: the first to look again gets the slot. A caller that gives up
// gets a NotPermittedError in StateHalfOpen; when its context ended, that
// error also matches the context's error (context.Canceled or
// context.DeadlineExceeded) with errors.Is. Either way its function never
// ran.
//
// Default: DefaultHalfOpenWait (1s). fluxgate queues half-open callers,
// and the probe of a recovered dependency usually returns well within a
// second, so a short burst still goes through as in fluxgate. But request
// contexts usually carry no deadline (a net/http server's have none), and
// the probes that hold the slots call the very dependency that failed: an
// unbounded queue behind probes that hang would pile up goroutines without
// limit. The bound caps the queue at one second of arrivals.
func WithHalfOpenWait(d time.Duration) Option {
	return optionFunc(func(c *config) { c.halfOpenWait = d })
}

// DefaultHalfOpenTimeout is the half-open timeout (see WithHalfOpenTimeout)
// of a breaker built without WithHalfOpenTimeout or WithFluxgateDefaults.
// A minute: longer than the timeouts usual on calls to a dependency (30s
// and less), so that a probe that is only slow ends, and is counted, before
// the bound, while a breaker whose probes leaked waits no longer than one
// default cooldown.
const DefaultHalfOpenTimeout = time.Minute

// WithHalfOpenTimeout bounds how long a half-open breaker may stay stuck
// with every half-open slot (WithMaxHalfOpenCalls) held by probes that
// never report: a Call never ended, a response body never closed, a
// long-lived stream admitted as a probe. When every slot is taken and no
// probe has been admitted for d, the probes that hold the slots count as
// counted failures (a dependency that hangs is failing), the breaker
// re-opens with reason [sdk.ReasonHalfOpenTimeout], and the late outcomes
// of those probes are dropped, as for any call admitted before a
// transition. Half-open periods in which a slot frees within d (a healthy
// ramp-up) are never cut short.
//
// There is no timer: the bound is checked when a call finds every slot
// taken and by State and Info, so a breaker nobody calls stays half-open
// until then (the state gauge of otelbridge reads the state without
// moving it). d must not be negative; 0 turns the bound off, as in
// fluxgate and resilience4j (whose maxWaitDurationInHalfOpenState is off
// by default). Default: [DefaultHalfOpenTimeout] (1 minute);
// WithFluxgateDefaults sets 0.
func WithHalfOpenTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.halfOpenTimeout = d })
}

// WithHooks adds hooks (see sdk.Hooks), for example otelbridge.Hooks() or
// LogHooks. Hooks given in several WithHooks options add up and are called
// in order.
func WithHooks(h ...sdk.Hooks) Option {
	return optionFunc(func(c *config) { c.hooks = append(c.hooks, h...) })
}

// WithRand sets the source of uniform random numbers in [0, 1) used for
// jitter and probabilistic permits, for deterministic tests. It is called
// under the breaker's lock, so it need not be safe for concurrent use.
// Default: math/rand/v2's Float64.
func WithRand(rnd func() float64) Option {
	return optionFunc(func(c *config) {
		if rnd == nil {
			c.errs = append(c.errs, errors.New("WithRand: func must not be nil"))
			return
		}
		c.rand = rnd
	})
}

// WithFailureDurations makes the breaker record how long failed calls took
// (and count them as slow), where fluxgate records failures with zero
// duration. With it, AvgLatency and SlowRate also see slow failures, such
// as timeouts. Default: false, as in fluxgate.
func WithFailureDurations(on bool) Option {
	return optionFunc(func(c *config) { c.failDurations = on })
}
