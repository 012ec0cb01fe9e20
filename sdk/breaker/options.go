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

	thresholds    []time.Duration // the tripper's distinct SlowRate thresholds, set by buildConfig
	countInFlight bool            // count calls in flight (breakers of a Group)
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
		window:      defaultWindow,
		tracker:     defaultTracker,
		tripper:     defaultTripper,
		retry:       defaultRetry,
		permit:      defaultPermit,
		maxHalfOpen: 10,
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
// half-open; n must be at least 1. Further calls wait, in the order they
// arrive, until a slot frees or their context ends (they then get the
// context's error). Default: 10.
func WithMaxHalfOpenCalls(n int) Option { return optionFunc(func(c *config) { c.maxHalfOpen = n }) }

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
