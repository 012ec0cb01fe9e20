package breaker

import (
	"sync/atomic"
	"time"
)

// entry is one key of a Group.
type entry struct {
	hash uint64
	key  string
	b    *Breaker
	// flags holds entryUsed, set by Get (only when not yet set, so that
	// hits on a busy key write nothing) and cleared by the group's sweeps;
	// entryNew, set when the entry is built (a second chance, like a use,
	// whose time is known); and entryDead, set once when it is evicted.
	flags atomic.Uint32
	// pins counts the group's manual commands running on b; a pinned
	// entry is not evicted. Guarded by Group.mu.
	pins int32
	// idleSince is when the entry was built or last seen used by a sweep,
	// as a duration since the group's epoch. Guarded by Group.mu.
	idleSince time.Duration
}

const (
	entryUsed uint32 = 1 << iota
	entryNew
	entryDead
)

// touch marks e used and reports whether it is still in its group.
func (e *entry) touch() bool {
	if e.flags.Load()&(entryUsed|entryDead) == entryUsed {
		return true
	}
	return e.flags.Or(entryUsed)&entryDead == 0
}

// secondChance clears e's marks, restarting its idle time at now if a Get
// used it since the last sweep. It reports whether e had a mark and
// whether it was used.
func (e *entry) secondChance(now time.Duration) (marked, used bool) {
	if e.flags.Load()&(entryUsed|entryNew) == 0 {
		return false, false
	}
	if e.flags.And(^(entryUsed|entryNew))&entryUsed != 0 {
		e.idleSince = now
		return true, true
	}
	return true, false
}

// keyTable is an open-addressing hash table (linear probing) of entries.
// Get reads it without a lock; the group writes it only under Group.mu.
// At most three quarters of its slots hold an entry or a tombstone, so a
// probe always ends at an empty slot. A table that needs to grow, shrink or
// shed tombstones is rebuilt and swapped in whole; readers of the old table
// then at worst miss a key and retry under the lock.
type keyTable struct {
	slots []atomic.Pointer[entry]
	mask  uint64
}

// tombstone marks the slot of a removed entry.
var tombstone = new(entry)

// minTableSize is the smallest table, in slots.
const minTableSize = 8

func newKeyTable(size int) *keyTable {
	n := minTableSize
	for n < size {
		n <<= 1
	}
	return &keyTable{slots: make([]atomic.Pointer[entry], n), mask: uint64(n - 1)}
}

// tableSizeFor returns the table size for live entries: a load of at most
// one half, so that the next rebuild is far away.
func tableSizeFor(live int) int { return 2 * (live + 1) }

// find returns the entry of key, whose hash is h, or nil.
func (t *keyTable) find(h uint64, key string) *entry {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil
		}
		if e.hash == h && e.key == key && e != tombstone {
			return e
		}
	}
}

// insert stores e, whose key is not in t, and reports whether it reused a
// tombstone's slot. Group.mu is held.
func (t *keyTable) insert(e *entry) (reused bool) {
	for i := e.hash & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			t.slots[i].Store(e)
			return false
		case tombstone:
			t.slots[i].Store(e)
			return true
		}
	}
}

// remove replaces e by a tombstone. Group.mu is held.
func (t *keyTable) remove(e *entry) {
	for i := e.hash & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case e:
			t.slots[i].Store(tombstone)
			return
		case nil:
			panic("breaker: group entry missing from its table")
		}
	}
}

// each calls f for every entry of t. Group.mu is held.
func (t *keyTable) each(f func(*entry)) {
	for i := range t.slots {
		if e := t.slots[i].Load(); e != nil && e != tombstone {
			f(e)
		}
	}
}
