package breaker

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OverflowKey is the key of a Group's overflow breaker: the breaker that
// keys get when the group is at its key limit and no entry can be evicted.
// It is "_OTHER", as OpenTelemetry names a value that stands for many. A
// user key equal to OverflowKey is an ordinary key, but its telemetry
// cannot be told apart from the overflow breaker's.
const OverflowKey = "_OTHER"

// ErrGroupClosed is returned by [Group.Get], and by the per-key commands,
// after [Group.Close].
var ErrGroupClosed = errors.New("breaker: group is closed")

// ErrGroupFull is returned by the per-key commands of a [Group] (such as
// [Group.ForceOpen]) for a key that has no breaker of its own because the
// group is at its key limit with no evictable entry: the command would
// otherwise act on the overflow breaker that other keys share.
var ErrGroupFull = errors.New("breaker: group is at its key limit with no evictable entry")

// Group is a set of breakers, one per key (a host, a tenant, a route), built
// lazily from one validated configuration and held in bounded memory. Build
// one with [NewGroup]; get a key's breaker with [Group.Get] and make the call
// through it as through any breaker ([Execute], [Breaker.Do], [Breaker.Allow],
// the integrations). One
// key's failures never open another key's breaker.
//
// # Eviction
//
// A Group holds at most [WithMaxKeys] keys and forgets keys that go unused,
// but never a breaker that protects something: an entry is evictable only
// while its breaker is closed or disabled, has no call in flight, and
// either its window holds no counted failure or the entry has gone the
// idle time ([WithIdleTimeout]; [DefaultIdleTimeout] when idle eviction is
// off) without a Get. Open, half-open, forced-open and
// metrics-only breakers are never evicted (their protection, or an
// operator's command, would be lost). An evicted breaker is closed
// ([Breaker.Close]), so its
// telemetry stops; a later Get of its key builds a fresh breaker.
//
//   - Idle eviction: an evictable entry that has gone [WithIdleTimeout] without
//     a Get is evicted by the next sweep. Sweeps run on a Get that builds a
//     breaker (at most once per half idle time) and on [Group.EvictIdle], so an
//     entry leaves between one and about two idle times after its last Get.
//   - At the limit, a new key evicts the evictable entry that a clock hand
//     reaches first, giving recently used entries a second chance (the
//     CLOCK approximation of least recently used).
//   - At the limit with nothing evictable, the new key neither waits nor
//     grows the group: Get returns the group's overflow breaker, shared by
//     every such key, whose Key is [OverflowKey]. It is built (and so
//     registered with the Register hooks under OverflowKey, and logged
//     once at WARN through log/slog's default logger) the first time it is
//     needed, and lives until Close. Each later Get of such a key tries
//     again to find the key a place of its own, looking at a bounded number
//     of entries per Get.
//
// With [CountWindow], a counted failure stays in the window until enough
// calls push it out. A closed key with failures in its window is kept
// while it is in use, since the failures may soon open it, but a closed
// breaker protects nothing: once its key has gone the idle time without a
// Get it is evictable like a clean one. Otherwise a client that chooses
// keys (a Host, a tenant header) and causes one counted failure per key
// would fill the group for good, and every new key would share the
// overflow breaker; with the rule, legitimate keys get breakers of their
// own again between one and about two idle times after the attacker's last
// Get of each key (a sweep must see the key idle). With [TimeWindow],
// failures also age out with time.
//
// The group tracks use by Get, not by calls: get the breaker for each call
// rather than keeping it. A breaker kept past its eviction keeps working
// but is no longer the group's, nor reported.
//
// # Concurrency
//
// A Group is safe for concurrent use. Get of a key that has a breaker takes
// no lock, allocates nothing and writes no shared memory once the key is
// marked used. Building a breaker, sweeps, and the whole-group operations
// take the group's lock; the Register hooks of the group's breakers run
// under it and must not call the group. The [WithKeyOptions] funcs run
// outside it, and unregister funcs (Close of evicted breakers) run after it
// is released. The group starts no goroutines and no timers.
type Group struct {
	// Read by Get without the lock; never written after NewGroup except
	// table, which is swapped under mu, and conf (Reconfigure).
	name    string
	seed    maphash.Seed
	table   atomic.Pointer[keyTable]
	conf    atomic.Pointer[groupConf] // replaced whole by Reconfigure
	cap     *openCap
	keyOpts []func(string) []Option
	maxKeys int
	idle    time.Duration
	epoch   time.Time

	_ [64]byte // keep the fields written under mu off the cache line Get reads

	// mu guards everything below, and every write of table and its slots.
	mu        sync.Mutex
	live      int           // entries in the table
	tombs     int           // tombstones in the table
	hand      uint64        // the clock hand: the next slot to look at when full
	starved   bool          // the last search for an evictable entry at the limit found none
	lastSweep time.Duration // when the last idle sweep ran, since epoch
	overflow  *Breaker
	closed    bool

	// reconfMu serialises Reconfigure; it is taken before mu, never under
	// it.
	reconfMu sync.Mutex

	evictHook func(*Breaker) // tests only: called under mu for each eviction
}

// NewGroup builds a group of breakers named name: every breaker of the group
// has this name (circuit_breaker.name in telemetry) and its key as Key.
//
// opts are the options of [New], which every key's breaker gets, and the
// options of NewGroup only: [WithMaxKeys], [WithIdleTimeout] and
// [WithKeyOptions]. Without them, a group holds at most [DefaultMaxKeys] keys
// and evicts an evictable key after [DefaultIdleTimeout] without use.
//
// NewGroup validates the whole configuration once, and returns a
// [*ConfigError] that lists every problem, of the breaker options and of the
// group options alike.
func NewGroup(name string, opts ...Option) (*Group, error) {
	gc := groupConfig{maxKeys: DefaultMaxKeys, idle: DefaultIdleTimeout, maxOpen: DefaultMaxOpenFraction}
	base := make([]Option, len(opts))
	for i, o := range opts {
		if g, ok := o.(groupOption); ok {
			g.set(&gc)
			o = noOption{} // keep the indices of the others for buildConfig's messages
		}
		base[i] = o
	}
	cfg, err := buildConfig(name, base)
	if err != nil || len(gc.errs) > 0 {
		ce := &ConfigError{Name: name}
		if !errors.As(err, &ce) && err != nil {
			ce.Problems = append(ce.Problems, err)
		}
		ce.Problems = append(ce.Problems, gc.errs...)
		return nil, ce
	}
	cfg.countInFlight = true
	g := &Group{
		name:    name,
		seed:    maphash.MakeSeed(),
		cap:     &openCap{},
		keyOpts: gc.keyOpts,
		maxKeys: gc.maxKeys,
		idle:    gc.idle,
		epoch:   time.Now(),
	}
	g.cap.fraction.Store(math.Float64bits(gc.maxOpen))
	g.conf.Store(&groupConf{cfg: cfg, base: base})
	g.table.Store(newKeyTable(minTableSize))
	return g, nil
}

// groupConf is the configuration a Group builds breakers from.
type groupConf struct {
	cfg  *config
	base []Option // the breaker options, for keys with options of their own
}

// noOption stands in for a group option among the breaker options.
type noOption struct{}

func (noOption) apply(*config) {}

// Name returns the group's name, which every breaker of the group has.
func (g *Group) Name() string { return g.name }

// Get returns the breaker of key, building it on the key's first use (or
// first use since it was evicted). Any string is a key, the empty string
// included.
//
// When key is new and the group is at its key limit with no evictable
// entry, Get returns the group's overflow breaker (see [Group]). Get returns
// an error only when the key's [WithKeyOptions] func panicked or returned
// invalid options (a [*ConfigError] naming the key) or after [Group.Close]
// ([ErrGroupClosed]).
//
// Get panics if g is nil.
func (g *Group) Get(key string) (*Breaker, error) {
	if g == nil {
		panic("breaker: Get on a nil *Group")
	}
	h := maphash.String(g.seed, key)
	if e := g.table.Load().find(h, key); e != nil && e.touch() {
		return e.b, nil
	}
	return g.miss(key, h)
}

// miss is Get for a key not found without the lock.
func (g *Group) miss(key string, h uint64) (*Breaker, error) {
	e, b, err := g.lookup(key, h, false)
	if e != nil {
		return e.b, nil
	}
	return b, err
}

// lookup finds or builds key's entry under the lock. For a command (pin
// true) the entry is pinned, and a key that can get no entry of its own
// gets ErrGroupFull; otherwise such a key gets the overflow breaker, with
// a nil entry.
func (g *Group) lookup(key string, h uint64, pin bool) (*entry, *Breaker, error) {
	gc := g.conf.Load()
	cfg, cfgErr := g.keyConfig(gc, key)
	g.mu.Lock()
	for g.conf.Load() != gc { // reconfigured meanwhile
		g.mu.Unlock()
		gc = g.conf.Load()
		cfg, cfgErr = g.keyConfig(gc, key)
		g.mu.Lock()
	}
	if g.closed {
		g.mu.Unlock()
		return nil, nil, ErrGroupClosed
	}
	if e := g.table.Load().find(h, key); e != nil {
		e.flags.Or(entryUsed) // entries in the table under mu are alive
		if pin {
			e.pins++
		}
		g.mu.Unlock()
		return e, nil, nil
	}
	if cfgErr != nil {
		g.mu.Unlock()
		return nil, nil, cfgErr
	}
	now := g.now()
	var victims []*Breaker
	if g.idle > 0 && now-g.lastSweep >= g.idle/2 {
		victims = g.sweepIdleLocked(now, victims)
	}
	if g.live >= g.maxKeys {
		victims = g.evictOneLocked(now, victims)
	}
	var (
		e     *entry
		b     *Breaker
		err   error
		fresh bool // the overflow breaker was built now
	)
	switch {
	case g.live < g.maxKeys:
		key = strings.Clone(key) // do not keep the caller's buffer alive
		e = &entry{hash: h, key: key, b: g.newBreakerLocked(key, cfg), idleSince: now}
		e.flags.Store(entryNew)
		if pin {
			e.pins++
		}
		g.insertLocked(e)
	case !pin:
		fresh = g.overflow == nil
		if fresh {
			g.overflow = g.newBreakerLocked(OverflowKey, gc.cfg)
		}
		b = g.overflow
	default:
		err = fmt.Errorf("%w (group %q, %d keys; key %q)", ErrGroupFull, g.name, g.maxKeys, key)
	}
	g.mu.Unlock()
	if fresh {
		slog.Default().Warn("fluxgate: breaker group is at its key limit with no evictable entry; new keys share its overflow breaker",
			slog.String("circuit_name", g.name), slog.Int("max_keys", g.maxKeys), slog.String("key", OverflowKey))
	}
	closeAll(victims)
	return e, b, err
}

// newBreakerLocked builds key's breaker from cfg, counted against the
// group's cap; g.mu is held.
func (g *Group) newBreakerLocked(key string, cfg *config) *Breaker {
	b := newBreaker(g.name, key, cfg)
	b.cap = g.cap // b is not shared yet
	return b
}

// keyConfig returns the configuration of key's breaker: the group's, or one
// built with the key's own options.
func (g *Group) keyConfig(gc *groupConf, key string) (cfg *config, err error) {
	if len(g.keyOpts) == 0 {
		return gc.cfg, nil
	}
	var extra []Option
	for _, f := range g.keyOpts {
		opts, perr := callKeyOptions(f, key)
		if perr != nil {
			return nil, &ConfigError{Name: g.name, Problems: []error{perr}}
		}
		extra = append(extra, opts...)
	}
	if len(extra) == 0 {
		return gc.cfg, nil
	}
	cfg, err = buildConfig(g.name, append(gc.base[:len(gc.base):len(gc.base)], extra...))
	if err != nil {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			ce = &ConfigError{Name: g.name, Problems: []error{err}}
		}
		probs := make([]error, len(ce.Problems))
		for i, p := range ce.Problems {
			probs[i] = fmt.Errorf("WithKeyOptions(%q): %w", key, p)
		}
		return nil, &ConfigError{Name: g.name, Problems: probs}
	}
	cfg.countInFlight = true
	return cfg, nil
}

// callKeyOptions calls a WithKeyOptions func, turning a panic into an error.
func callKeyOptions(f func(string) []Option, key string) (opts []Option, err error) {
	defer func() {
		if p := recover(); p != nil {
			opts, err = nil, fmt.Errorf("WithKeyOptions(%q): func panicked: %v", key, p)
		}
	}()
	return f(key), nil
}

// now is the time since the group was built.
func (g *Group) now() time.Duration { return time.Since(g.epoch) }

// Len returns the number of keys that have a breaker of their own (the
// overflow breaker is not counted).
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.live
}

// breakers returns every breaker of the group, keyed by key, the overflow
// breaker under OverflowKey unless a user key has that name.
func (g *Group) breakers() map[string]*Breaker {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := make(map[string]*Breaker, g.live+1)
	if g.overflow != nil {
		m[OverflowKey] = g.overflow
	}
	g.table.Load().each(func(e *entry) { m[e.key] = e.b })
	return m
}

// Info returns a snapshot of every breaker of the group, by key, for a
// status page: each [Info] is the breaker's own consistent snapshot, taken
// one breaker after another. The overflow breaker, once built, is under
// [OverflowKey].
func (g *Group) Info() map[string]Info {
	bs := g.breakers()
	m := make(map[string]Info, len(bs))
	for k, b := range bs {
		m[k] = b.Info()
	}
	return m
}

// command runs a manual command on key's own breaker, building it if
// needed. The entry is pinned while the command runs, so the command never
// lands on a breaker that is being evicted.
func (g *Group) command(key string, do func(*Breaker)) error {
	e, _, err := g.lookup(key, maphash.String(g.seed, key), true)
	if err != nil {
		return err
	}
	do(e.b)
	g.mu.Lock()
	e.pins--
	g.mu.Unlock()
	return nil
}

// Reset runs [Breaker.Reset] on key's breaker, building it if the key has
// none. It returns [ErrGroupFull] if the key can get no breaker of its own,
// and [ErrGroupClosed] after [Group.Close].
func (g *Group) Reset(ctx context.Context, key string) error {
	return g.command(key, func(b *Breaker) { b.Reset(ctx) })
}

// Disable runs [Breaker.Disable] on key's breaker, building it if the key has
// none; errors as for Reset. A disabled breaker stays evictable.
func (g *Group) Disable(ctx context.Context, key string) error {
	return g.command(key, func(b *Breaker) { b.Disable(ctx) })
}

// MetricsOnly runs [Breaker.MetricsOnly] on key's breaker, building it if
// the key has none; errors as for Reset. The breaker is not evicted until
// another command moves it to closed or disabled.
func (g *Group) MetricsOnly(ctx context.Context, key string) error {
	return g.command(key, func(b *Breaker) { b.MetricsOnly(ctx) })
}

// ForceOpen runs [Breaker.ForceOpen] on key's breaker, building it if the key
// has none; errors as for Reset. The breaker is not evicted until another
// command moves it to closed or disabled.
func (g *Group) ForceOpen(ctx context.Context, key string) error {
	return g.command(key, func(b *Breaker) { b.ForceOpen(ctx) })
}

// all runs do on every breaker of the group, the overflow breaker
// included, each pinned while it runs.
func (g *Group) all(do func(*Breaker)) {
	g.mu.Lock()
	var es []*entry
	g.table.Load().each(func(e *entry) {
		e.pins++
		es = append(es, e)
	})
	over := g.overflow
	g.mu.Unlock()
	for _, e := range es {
		do(e.b)
	}
	if over != nil {
		do(over)
	}
	g.mu.Lock()
	for _, e := range es {
		e.pins--
	}
	g.mu.Unlock()
}

// ResetAll runs [Breaker.Reset] on every breaker the group holds, the
// overflow breaker included. Keys built afterwards start closed as usual.
func (g *Group) ResetAll(ctx context.Context) { g.all(func(b *Breaker) { b.Reset(ctx) }) }

// DisableAll runs [Breaker.Disable] on every breaker the group holds, the
// overflow breaker included. Keys built afterwards start closed.
func (g *Group) DisableAll(ctx context.Context) { g.all(func(b *Breaker) { b.Disable(ctx) }) }

// MetricsOnlyAll runs [Breaker.MetricsOnly] on every breaker the group
// holds, the overflow breaker included. Keys built afterwards start closed.
func (g *Group) MetricsOnlyAll(ctx context.Context) { g.all(func(b *Breaker) { b.MetricsOnly(ctx) }) }

// ForceOpenAll runs [Breaker.ForceOpen] on every breaker the group holds,
// the overflow breaker included. Keys built afterwards start closed.
func (g *Group) ForceOpenAll(ctx context.Context) { g.all(func(b *Breaker) { b.ForceOpen(ctx) }) }

// Close closes every breaker of the group (their Register hooks' unregister
// funcs run, so their telemetry stops) and empties the group. Breakers
// already handed out keep working, unreported. After Close, Get returns
// [ErrGroupClosed]. Close is idempotent.
func (g *Group) Close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	var bs []*Breaker
	g.table.Load().each(func(e *entry) {
		e.flags.Or(entryDead)
		bs = append(bs, e.b)
	})
	if g.overflow != nil {
		bs = append(bs, g.overflow)
		g.overflow = nil
	}
	g.table.Store(newKeyTable(minTableSize))
	g.live, g.tombs = 0, 0
	g.cap.keys.Store(0)
	g.mu.Unlock()
	for _, b := range bs {
		b.leaveCap()
	}
	closeAll(bs)
}

func closeAll(bs []*Breaker) {
	for _, b := range bs {
		b.Close()
	}
}
