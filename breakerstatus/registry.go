package breakerstatus

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"weak"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// ErrFull is returned by [Registry.Add] and [Registry.AddGroup] when the
// registry already lists as many breakers and groups as [WithMaxBreakers]
// allows.
var ErrFull = errors.New("breakerstatus: registry is full")

// ErrDuplicate is returned by [Registry.Add] and [Registry.AddGroup] for a
// name that the registry already lists (a breaker or a group): names are
// what the page and the commands address.
var ErrDuplicate = errors.New("breakerstatus: name already listed")

// Registry is the set of breakers and groups that a status page shows and
// commands, with the recent history its hooks record. Build one with
// [NewRegistry]; it is safe for concurrent use. There is no global
// registry: each is the user's own value.
type Registry struct {
	cfg config

	// mu guards breakers, groups and nextID.
	mu       sync.Mutex
	breakers map[string]*listedBreaker
	groups   map[string]*listedGroup
	nextID   uint64

	hist history
}

// listedBreaker is a breaker given to Add. The registry holds it weakly,
// so that a breaker the program drops is not kept alive by its status page.
type listedBreaker struct {
	id      uint64
	name    string
	rec     uint64 // the id of its history record when it was listed; 0 if none
	b       weak.Pointer[breaker.Breaker]
	cleanup runtime.Cleanup
}

// listedGroup is a group given to AddGroup, held weakly as breakers are.
type listedGroup struct {
	id      uint64
	name    string
	g       weak.Pointer[breaker.Group]
	cleanup runtime.Cleanup
}

// NewRegistry builds an empty registry. Without options it lists at most
// [DefaultMaxBreakers] breakers and groups, keeps a history for at most
// [DefaultMaxTracked] breakers, [DefaultTransitionsPerBreaker] transitions
// per breaker and [DefaultRecentTransitions] of all breakers together, and
// lists at most [DefaultMaxKeysListed] keys per group. It returns an error
// that names every invalid option.
func NewRegistry(opts ...Option) (*Registry, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.apply(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("breakerstatus: invalid registry options: %w", errors.Join(cfg.errs...))
	}
	r := &Registry{
		cfg:      cfg,
		breakers: make(map[string]*listedBreaker),
		groups:   make(map[string]*listedGroup),
	}
	r.hist.init(&r.cfg)
	r.hist.onClose = r.closed
	return r, nil
}

// Add lists b, a breaker built by [breaker.New], under its name: the page
// shows it and the commands address it by that name. Build b with
// breaker.WithHooks(r.Hooks()) too, so that the page also shows its
// transitions and the errors that caused them.
//
// The registry holds b weakly: a breaker the program drops leaves the page
// once it is garbage-collected, and a breaker built with r.Hooks() leaves
// it at once when it is closed ([breaker.Breaker.Close]). Add returns
// [ErrDuplicate] if the name is listed already and [ErrFull] at the
// registry's limit. For the breakers of a [breaker.Group] use AddGroup.
func (r *Registry) Add(b *breaker.Breaker) error {
	if b == nil {
		return errors.New("breakerstatus: Add(nil)")
	}
	name := b.Name()
	if b.Key() != "" {
		return fmt.Errorf("breakerstatus: Add: breaker %q has key %q, so it belongs to a group: list the group with AddGroup", name, b.Key())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.roomLocked(name); err != nil {
		return err
	}
	r.nextID++
	lb := &listedBreaker{id: r.nextID, name: name, b: weak.Make(b), rec: r.hist.id(name, "")}
	lb.cleanup = runtime.AddCleanup(b, r.dropBreaker, listing{name, lb.id})
	r.breakers[name] = lb
	return nil
}

// AddGroup lists g: the page shows every breaker it holds, its overflow
// breaker included, and the commands address them by the group's name and
// a key. Build g with breaker.WithHooks(r.Hooks()) too, so that the page
// also shows their transitions. Keys the group evicts leave the page with
// them. The registry holds g weakly; errors as for [Registry.Add].
func (r *Registry) AddGroup(g *breaker.Group) error {
	if g == nil {
		return errors.New("breakerstatus: AddGroup(nil)")
	}
	name := g.Name()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.roomLocked(name); err != nil {
		return err
	}
	r.nextID++
	lg := &listedGroup{id: r.nextID, name: name, g: weak.Make(g)}
	lg.cleanup = runtime.AddCleanup(g, r.dropGroup, listing{name, lg.id})
	r.groups[name] = lg
	return nil
}

// roomLocked reports whether name can be listed. A breaker or group that
// was collected but whose cleanup has not run yet (it runs later, on its
// own goroutine) no longer holds its name or its room: the page has
// already stopped showing it.
func (r *Registry) roomLocked(name string) error {
	if lb, ok := r.breakers[name]; ok {
		if lb.b.Value() != nil {
			return fmt.Errorf("%w: %q", ErrDuplicate, name)
		}
		r.forgetBreakerLocked(lb)
	}
	if lg, ok := r.groups[name]; ok {
		if lg.g.Value() != nil {
			return fmt.Errorf("%w: %q", ErrDuplicate, name)
		}
		r.forgetGroupLocked(lg)
	}
	if len(r.breakers)+len(r.groups) >= r.cfg.maxBreakers {
		for _, lb := range r.breakers {
			if lb.b.Value() == nil {
				r.forgetBreakerLocked(lb)
			}
		}
		for _, lg := range r.groups {
			if lg.g.Value() == nil {
				r.forgetGroupLocked(lg)
			}
		}
	}
	if len(r.breakers)+len(r.groups) >= r.cfg.maxBreakers {
		return fmt.Errorf("%w (%d breakers and groups)", ErrFull, r.cfg.maxBreakers)
	}
	return nil
}

// forgetBreakerLocked unlists a collected breaker before its cleanup runs.
func (r *Registry) forgetBreakerLocked(lb *listedBreaker) {
	lb.cleanup.Stop()
	delete(r.breakers, lb.name)
}

// forgetGroupLocked unlists a collected group before its cleanup runs.
func (r *Registry) forgetGroupLocked(lg *listedGroup) {
	lg.cleanup.Stop()
	delete(r.groups, lg.name)
}

// Remove takes the breaker or group listed under name off the page. It
// reports whether there was one.
func (r *Registry) Remove(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lb, ok := r.breakers[name]; ok {
		lb.cleanup.Stop()
		delete(r.breakers, name)
		return true
	}
	if lg, ok := r.groups[name]; ok {
		lg.cleanup.Stop()
		delete(r.groups, name)
		return true
	}
	return false
}

// listing identifies a listed breaker or group to its cleanup.
type listing struct {
	name string
	id   uint64
}

// dropBreaker runs once a listed breaker was garbage-collected.
func (r *Registry) dropBreaker(l listing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lb, ok := r.breakers[l.name]; ok && lb.id == l.id {
		delete(r.breakers, l.name)
	}
}

// dropGroup runs once a listed group was garbage-collected.
func (r *Registry) dropGroup(l listing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lg, ok := r.groups[l.name]; ok && lg.id == l.id {
		delete(r.groups, l.name)
	}
}

// closed takes the listed breaker name off the page if its listing is
// that of the history record rec, whose unregister func ran: the breaker
// was closed.
func (r *Registry) closed(name string, rec uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lb, ok := r.breakers[name]; ok && lb.rec == rec {
		lb.cleanup.Stop()
		delete(r.breakers, name)
	}
}

// breaker returns the listed breaker name, or nil.
func (r *Registry) breaker(name string) *breaker.Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lb, ok := r.breakers[name]; ok {
		return lb.b.Value()
	}
	return nil
}

// group returns the listed group name, or nil.
func (r *Registry) group(name string) *breaker.Group {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lg, ok := r.groups[name]; ok {
		return lg.g.Value()
	}
	return nil
}

// listed returns the live listed breakers and groups, in name order.
func (r *Registry) listed() ([]*breaker.Breaker, []*breaker.Group) {
	r.mu.Lock()
	bs := make([]*breaker.Breaker, 0, len(r.breakers))
	for _, lb := range r.breakers {
		if b := lb.b.Value(); b != nil {
			bs = append(bs, b)
		}
	}
	gs := make([]*breaker.Group, 0, len(r.groups))
	for _, lg := range r.groups {
		if g := lg.g.Value(); g != nil {
			gs = append(gs, g)
		}
	}
	r.mu.Unlock()
	sort.Slice(bs, func(i, j int) bool { return bs[i].Name() < bs[j].Name() })
	sort.Slice(gs, func(i, j int) bool { return gs[i].Name() < gs[j].Name() })
	return bs, gs
}
