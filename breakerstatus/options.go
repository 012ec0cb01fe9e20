package breakerstatus

import "fmt"

// Defaults of a Registry's options.
const (
	// DefaultMaxBreakers is how many breakers and groups a Registry built
	// without [WithMaxBreakers] lists at most.
	DefaultMaxBreakers = 1000
	// DefaultMaxTracked is how many breakers (a group's keys included) a
	// Registry built without [WithMaxTracked] keeps a history for.
	DefaultMaxTracked = 10000
	// DefaultTransitionsPerBreaker is how many of a breaker's last
	// transitions a Registry built without [WithTransitionsPerBreaker] keeps.
	DefaultTransitionsPerBreaker = 10
	// DefaultRecentTransitions is how many of the last transitions of all
	// breakers together a Registry built without [WithRecentTransitions]
	// keeps.
	DefaultRecentTransitions = 100
	// DefaultMaxKeysListed is how many keys of each group a Registry built
	// without [WithMaxKeysListed] lists in a [Status].
	DefaultMaxKeysListed = 200
)

// An Option configures a [Registry]; see [NewRegistry].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	maxBreakers int
	maxTracked  int
	perBreaker  int
	recent      int
	keysListed  int
	errs        []error
}

func defaultConfig() config {
	return config{
		maxBreakers: DefaultMaxBreakers,
		maxTracked:  DefaultMaxTracked,
		perBreaker:  DefaultTransitionsPerBreaker,
		recent:      DefaultRecentTransitions,
		keysListed:  DefaultMaxKeysListed,
	}
}

func atLeast(c *config, name string, n, lo int) {
	if n < lo {
		c.errs = append(c.errs, fmt.Errorf("%s(%d): must be at least %d", name, n, lo))
	}
}

// WithMaxBreakers sets how many breakers and groups (a group counts once,
// whatever its keys) the registry lists at most; [Registry.Add] and
// [Registry.AddGroup] return [ErrFull] beyond it. n must be at least 1.
// Default: [DefaultMaxBreakers].
func WithMaxBreakers(n int) Option {
	return optionFunc(func(c *config) {
		atLeast(c, "WithMaxBreakers", n, 1)
		c.maxBreakers = n
	})
}

// WithMaxTracked sets how many breakers (a group's keys each count) the
// registry's hooks keep a history for at once; a breaker registered beyond
// it is listed without one. n must be at least 1. Default:
// [DefaultMaxTracked].
func WithMaxTracked(n int) Option {
	return optionFunc(func(c *config) {
		atLeast(c, "WithMaxTracked", n, 1)
		c.maxTracked = n
	})
}

// WithTransitionsPerBreaker sets how many of each breaker's last
// transitions the registry keeps (a ring: the oldest goes first). n must
// not be negative; 0 keeps none. Default: [DefaultTransitionsPerBreaker].
func WithTransitionsPerBreaker(n int) Option {
	return optionFunc(func(c *config) {
		atLeast(c, "WithTransitionsPerBreaker", n, 0)
		c.perBreaker = n
	})
}

// WithRecentTransitions sets how many of the last transitions of all
// breakers together the registry keeps for [Status.Recent] (a ring). n must
// not be negative; 0 keeps none. Default: [DefaultRecentTransitions].
func WithRecentTransitions(n int) Option {
	return optionFunc(func(c *config) {
		atLeast(c, "WithRecentTransitions", n, 0)
		c.recent = n
	})
}

// WithMaxKeysListed sets how many keys of each group a [Status] lists: the
// keys that are not closed first, then the others in key order; the
// group's [Group.Omitted] counts the rest. n must be at least 1. Default:
// [DefaultMaxKeysListed].
func WithMaxKeysListed(n int) Option {
	return optionFunc(func(c *config) {
		atLeast(c, "WithMaxKeysListed", n, 1)
		c.keysListed = n
	})
}
