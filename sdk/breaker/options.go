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

	halfOpenWait time.Duration
	enforcement  float64

	thresholds    []time.Duration // the tripper's distinct SlowRate thresholds, set by buildConfig
	countInFlight bool            // count calls in flight (breakers of a Group)
	s             *settings       // what the breakers built from this configuration share, set by buildConfig
}

// The default components. They are immutable, so every breaker shares them.
var (
	defaultWindow  = CountWindow(100)
	defaultTracker = tracker.All()
	defaultTripper = MinRequests(100).And(FailureRate(0.5))
	defaultRetry   = Cooldown(60*time.Second, 0)
	defaultPermit  = RampUp(0.1, 1.0, 60*time.Second)
)

func defaultConfig() config {
	return config{
		window:       defaultWindow,
		tracker:      defaultTracker,
		tripper:      defaultTripper,
		retry:        defaultRetry,
		permit:       defaultPermit,
		maxHalfOpen:  10,
		halfOpenWait: DefaultHalfOpenWait,
		enforcement:  1,
	}
}

// WithWindow sets how much call history the breaker keeps. Default:
// CountWindow(100).
func WithWindow(w Window) Option { return optionFunc(func(c *config) { c.window = w }) }

// WithTracker sets which errors count as failures. Default: tracker.All(),
// every error counts. Errors from a call whose own context was canceled are
// never given to the tracker: they are ignored.
func WithTracker(t tracker.Tracker) Option { return optionFunc(func(c *config) { c.tracker = t }) }

// WithTripper sets when the breaker opens, and whether a half-open breaker
// closes or re-opens. Default: MinRequests(100).And(FailureRate(0.5)).
func WithTripper(t Tripper) Option { return optionFunc(func(c *config) { c.tripper = t }) }

// WithRetry sets when an open breaker lets a call through to half-open.
// Default: Cooldown(60*time.Second, 0).
func WithRetry(r Retry) Option { return optionFunc(func(c *config) { c.retry = r }) }

// WithPermit sets which calls a half-open breaker admits as probes.
// Default: RampUp(0.1, 1.0, 60*time.Second).
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
