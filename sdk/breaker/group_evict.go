package breaker

import "time"

// starvedBudget is how many slots the clock hand looks at per new key
// while the group is at its limit and its last search found nothing
// evictable: a bounded cost per Get, and the hand still goes round the
// whole table over a number of Gets.
const starvedBudget = 64

// EvictIdle evicts now every evictable entry that has gone the idle time
// ([WithIdleTimeout]) without a Get, closes the evicted breakers, and returns
// how many there were. The group sweeps by itself on Gets that build a
// breaker; EvictIdle is for giving memory back when no new key arrives. It
// does nothing when idle eviction is off.
func (g *Group) EvictIdle() int {
	g.mu.Lock()
	var victims []*Breaker
	if g.idle > 0 && !g.closed {
		victims = g.sweepIdleLocked(g.now(), nil)
	}
	g.mu.Unlock()
	closeAll(victims)
	return len(victims)
}

// sweepIdleLocked looks at every entry once: an entry used since the last
// sweep has its mark cleared and its idle time restarted now (the sweep
// cannot tell when, since the last sweep, it was used); an entry idle for
// at least the idle time is evicted if it is evictable. The evicted
// breakers are appended to victims, to be closed once g.mu is released.
func (g *Group) sweepIdleLocked(now time.Duration, victims []*Breaker) []*Breaker {
	g.lastSweep = now
	t := g.table.Load()
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil || e == tombstone {
			continue
		}
		if _, used := e.secondChance(now); used {
			continue
		}
		if now-e.idleSince >= g.idle && g.evictLocked(t, e, now) {
			victims = append(victims, e.b)
		}
	}
	if len(victims) > 0 {
		g.starved = false
		g.compactLocked()
	}
	return victims
}

// evictOneLocked makes room for a new key at the limit: the clock hand goes
// round the table, clearing the used mark of the entries it passes (their
// second chance) and evicting the first evictable entry without one.
func (g *Group) evictOneLocked(now time.Duration, victims []*Breaker) []*Breaker {
	t := g.table.Load()
	budget := 2 * len(t.slots) // twice round: the first pass may only clear marks
	if g.starved {
		budget = min(budget, starvedBudget)
	}
	for range budget {
		e := t.slots[g.hand&t.mask].Load()
		g.hand++
		if e == nil || e == tombstone {
			continue
		}
		if marked, _ := e.secondChance(now); marked {
			continue
		}
		if g.evictLocked(t, e, now) {
			g.starved = false
			return append(victims, e.b)
		}
	}
	g.starved = true
	return victims
}

// evictLocked evicts e from t if its breaker is evictable at now, no
// manual command of the group is running on it, and no Get marked it used
// since it was looked at: the mark and the eviction are decided by one
// compare-and-swap, so a Get either sees the entry dead (and builds a new
// breaker under the lock) or keeps it alive. An entry idle for at least
// failureIdle is evictable whatever its window holds.
func (g *Group) evictLocked(t *keyTable, e *entry, now time.Duration) bool {
	if e.pins > 0 || !e.b.evictable(now-e.idleSince >= g.failureIdle()) || !e.flags.CompareAndSwap(0, entryDead) {
		return false
	}
	if g.evictHook != nil {
		g.evictHook(e.b)
	}
	t.remove(e)
	g.live--
	g.cap.keys.Store(int64(g.live))
	g.tombs++
	e.b.leaveCap()
	return true
}

// failureIdle is how long a closed entry whose window holds a counted
// failure must go without a Get before it is evictable: the idle time, or
// DefaultIdleTimeout when idle eviction is off.
func (g *Group) failureIdle() time.Duration {
	if g.idle > 0 {
		return g.idle
	}
	return DefaultIdleTimeout
}

// insertLocked adds e, rebuilding the table first if it would be more than
// three quarters full.
func (g *Group) insertLocked(e *entry) {
	t := g.table.Load()
	if 4*(g.live+g.tombs+1) > 3*len(t.slots) {
		t = g.rebuildLocked(tableSizeFor(g.live + 1))
	}
	if t.insert(e) {
		g.tombs--
	}
	g.live++
	g.cap.keys.Store(int64(g.live))
}

// compactLocked shrinks the table after evictions when it is mostly empty,
// so that the memory of evicted keys is given back.
func (g *Group) compactLocked() {
	n := len(g.table.Load().slots)
	if n > minTableSize && 8*g.live < n {
		g.rebuildLocked(tableSizeFor(g.live))
	}
}

// rebuildLocked replaces the table by one of at least size slots holding
// the same entries and no tombstones.
func (g *Group) rebuildLocked(size int) *keyTable {
	old := g.table.Load()
	t := newKeyTable(size)
	old.each(func(e *entry) { t.insert(e) })
	g.table.Store(t)
	g.tombs = 0
	g.hand = 0
	return t
}
