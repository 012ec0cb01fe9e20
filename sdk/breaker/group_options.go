package breaker

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of a Group's own options.
const (
	// DefaultMaxKeys is the key limit of a [Group] built without [WithMaxKeys].
	DefaultMaxKeys = 10000
	// DefaultIdleTimeout is the idle time of a [Group] built without
	// [WithIdleTimeout].
	DefaultIdleTimeout = 5 * time.Minute
)

// groupConfig is what the Group options build; NewGroup validates it
// together with the breaker options.
type groupConfig struct {
	maxKeys int
	idle    time.Duration
	keyOpts []func(key string) []Option
	maxOpen float64
	errs    []error
}

// groupOption is an Option that only NewGroup accepts. NewGroup applies it
// to the groupConfig; anywhere else (New, or the options a WithKeyOptions
// func returns) it is reported as a configuration problem.
type groupOption struct {
	desc string
	set  func(*groupConfig)
}

func (o groupOption) apply(c *config) {
	c.errs = append(c.errs, fmt.Errorf("%s: an option of NewGroup only, not of a single breaker", o.desc))
}

// WithMaxKeys sets how many keys a [Group] holds at most; n must be at least
// 1. When a new key arrives at the limit, the group evicts the evictable
// entry least recently used (see Group); if no entry is evictable, the new
// key shares the group's overflow breaker. Default: [DefaultMaxKeys] (10000).
//
// WithMaxKeys is an option of [NewGroup] only: [New] reports it as an invalid
// configuration.
func WithMaxKeys(n int) Option {
	desc := fmt.Sprintf("WithMaxKeys(%d)", n)
	return groupOption{desc: desc, set: func(g *groupConfig) {
		if n < 1 {
			g.errs = append(g.errs, fmt.Errorf("%s: must be at least 1", desc))
			return
		}
		g.maxKeys = n
	}}
}

// WithIdleTimeout sets how long an entry of a [Group] must go without a Get
// before it may be evicted (and only if it is evictable, see Group); d must
// not be negative. It is also how long a closed entry whose window holds a
// counted failure must go without a Get before it is evictable at all.
// Zero turns idle eviction off: entries are then evicted only to make room
// at the key limit, and a closed entry with failures becomes evictable
// after [DefaultIdleTimeout] without a Get. Default: [DefaultIdleTimeout]
// (5 minutes).
//
// WithIdleTimeout is an option of [NewGroup] only: [New] reports it as an
// invalid configuration.
func WithIdleTimeout(d time.Duration) Option {
	desc := fmt.Sprintf("WithIdleTimeout(%s)", d)
	return groupOption{desc: desc, set: func(g *groupConfig) {
		if d < 0 {
			g.errs = append(g.errs, fmt.Errorf("%s: must not be negative", desc))
			return
		}
		g.idle = d
	}}
}

// WithKeyOptions sets a func that returns extra options for one key, applied
// after the group's own breaker options when the key's breaker is built (for
// example a tighter tripper for one tenant). It is called, outside the
// group's lock, whenever Get must build the key's breaker: on the key's first
// Get, after the key was evicted, and on each Get of a key that shares the
// overflow breaker. It must be safe for concurrent use. A nil or empty result
// gives the key the group's shared configuration.
//
// When f panics or returns invalid options, [Group.Get] returns a
// [*ConfigError] that
// names the key and nothing is stored, so the next Get of that key calls f
// again; other keys are not affected. Several WithKeyOptions add up, in order.
//
// WithKeyOptions is an option of [NewGroup] only: [New] reports it as an invalid
// configuration.
func WithKeyOptions(f func(key string) []Option) Option {
	return groupOption{desc: "WithKeyOptions", set: func(g *groupConfig) {
		if f == nil {
			g.errs = append(g.errs, errors.New("WithKeyOptions: func must not be nil"))
			return
		}
		g.keyOpts = append(g.keyOpts, f)
	}}
}
