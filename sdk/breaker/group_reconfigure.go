package breaker

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Reconfigure changes the settings of every breaker of the group, present
// and future, while they serve calls, as [Breaker.Reconfigure] does for
// one: opts are the breaker options of [NewGroup], applied on top of the
// group's current ones, plus [WithMaxOpenFraction]. Keys with
// [WithKeyOptions] get their own options applied after the group's, as
// when their breaker is built. The overflow breaker is reconfigured too.
//
// Everything is validated first, the options of every key with its own
// options included: on any problem, Reconfigure returns one
// [*ConfigError] and changes nothing. [WithHooks], [WithMaxKeys],
// [WithIdleTimeout] and [WithKeyOptions] cannot change at run time and
// are reported as problems.
//
// Each breaker keeps its state, its window when it can (see
// [Breaker.Reconfigure]) and its telemetry series; each one whose settings
// changed is reported to the Reconfigured hooks with ctx. A key
// reconfigured on its own ([Group.Get] then [Breaker.Reconfigure]) gets
// the group's settings again. Reconfigure is safe for concurrent use with
// Get, calls and the group's commands.
func (g *Group) Reconfigure(ctx context.Context, opts ...Option) error {
	if ctx == nil {
		ctx = context.Background()
	}
	g.reconfMu.Lock()
	defer g.reconfMu.Unlock()
	gc := g.conf.Load()
	fraction := math.Float64frombits(g.cap.fraction.Load())
	var (
		problems []error
		bopts    []Option
	)
	for i, o := range opts {
		gopt, ok := o.(groupOption)
		switch {
		case o == nil:
			problems = append(problems, fmt.Errorf("option %d is nil", i))
		case !ok:
			bopts = append(bopts, o)
		case strings.HasPrefix(gopt.desc, "WithMaxOpenFraction("):
			c := groupConfig{maxOpen: fraction}
			gopt.set(&c)
			problems = append(problems, c.errs...)
			fraction = c.maxOpen
		default:
			problems = append(problems, fmt.Errorf("%s: cannot change at run time", gopt.desc))
		}
	}
	cfg, err := reconfigured(g.name, gc.cfg, gc.cfg.enforcement, bopts)
	if ce, ok := err.(*ConfigError); ok {
		problems = append(problems, ce.Problems...)
	}
	if len(problems) > 0 {
		return &ConfigError{Name: g.name, Problems: problems}
	}
	cfg.countInFlight = true
	next := &groupConf{cfg: cfg, base: append(slices.Clip(gc.base), bopts...)}

	// Every key's configuration, validated before anything changes.
	targets, problems := g.targets(next, g.held())
	if len(problems) > 0 {
		return &ConfigError{Name: g.name, Problems: problems}
	}
	g.mu.Lock()
	g.conf.Store(next)
	g.cap.fraction.Store(math.Float64bits(fraction))
	held := g.heldLocked()
	g.mu.Unlock()
	// Keys built since the first look were built by the old configuration:
	// they get theirs now. (Should a key's options fail only now, its
	// breaker keeps its settings; its next build reports the problem.)
	var late []heldBreaker
	for _, h := range held {
		if _, ok := targets[h.b]; !ok {
			late = append(late, h)
		}
	}
	more, _ := g.targets(next, late)
	for b, c := range more {
		targets[b] = c
	}
	for _, h := range held {
		if c := targets[h.b]; c != nil {
			h.b.apply(ctx, c, nil)
		}
	}
	return nil
}

// SetEnforcement sets the enforcement of every breaker of the group,
// present and future, as [Breaker.SetEnforcement] does for one; it is
// Reconfigure with [WithEnforcement](f). A key whose [WithKeyOptions]
// give it an enforcement of its own keeps that one.
func (g *Group) SetEnforcement(f float64) error {
	return g.Reconfigure(context.Background(), WithEnforcement(f))
}

// heldBreaker is a breaker of the group and its key.
type heldBreaker struct {
	key      string
	b        *Breaker
	overflow bool
}

// held returns the group's breakers, the overflow breaker included.
func (g *Group) held() []heldBreaker {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.heldLocked()
}

func (g *Group) heldLocked() []heldBreaker {
	var hs []heldBreaker
	g.table.Load().each(func(e *entry) { hs = append(hs, heldBreaker{key: e.key, b: e.b}) })
	if g.overflow != nil {
		hs = append(hs, heldBreaker{key: OverflowKey, b: g.overflow, overflow: true})
	}
	return hs
}

// targets returns the configuration each breaker of hs gets from gc.
func (g *Group) targets(gc *groupConf, hs []heldBreaker) (map[*Breaker]*config, []error) {
	m := make(map[*Breaker]*config, len(hs))
	var problems []error
	for _, h := range hs {
		if h.overflow {
			m[h.b] = gc.cfg
			continue
		}
		c, err := g.keyConfig(gc, h.key)
		if err != nil {
			if ce, ok := err.(*ConfigError); ok {
				problems = append(problems, ce.Problems...)
			} else {
				problems = append(problems, err)
			}
			continue
		}
		m[h.b] = c
	}
	return m, problems
}
