package breaker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyTableCollisions drives the table with entries whose hashes
// collide (same hash, and hashes that land in the same slot), which the
// group's 64-bit hashes almost never produce: probing past other keys and
// tombstones, reuse of tombstones, wrap-around at the end of the table.
func TestKeyTableCollisions(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(i int) uint64
	}{
		{"same hash", func(int) uint64 { return 42 }},
		{"same slot", func(i int) uint64 { return uint64(i)<<3 | 7 }}, // slot 7 of 8: wraps around
		{"spread", func(i int) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := newKeyTable(minTableSize)
			es := make([]*entry, 6) // at most three quarters of 8 slots
			for i := range es {
				es[i] = &entry{hash: tc.hash(i), key: fmt.Sprint("k", i)}
				assert.False(t, tab.insert(es[i]))
			}
			for _, e := range es {
				require.Same(t, e, tab.find(e.hash, e.key))
			}
			assert.Nil(t, tab.find(tc.hash(0), "absent"))

			tab.remove(es[1])
			tab.remove(es[3])
			assert.Nil(t, tab.find(es[1].hash, es[1].key))
			for _, i := range []int{0, 2, 4, 5} {
				require.Same(t, es[i], tab.find(es[i].hash, es[i].key), "found past tombstones")
			}
			again := &entry{hash: es[1].hash, key: es[1].key}
			reused := tab.insert(again)
			require.Same(t, again, tab.find(again.hash, again.key))
			n := 0
			tab.each(func(*entry) { n++ })
			assert.Equal(t, 5, n)
			if tc.name == "same hash" {
				assert.True(t, reused, "the first tombstone on the probe path is reused")
			}
		})
	}
}

func TestKeyTableRemoveMissingPanics(t *testing.T) {
	tab := newKeyTable(minTableSize)
	assert.PanicsWithValue(t, "breaker: group entry missing from its table", func() {
		tab.remove(&entry{hash: 3, key: "x"})
	})
}
