package wastore

import "sync"

// lidCacheMax bounds each direction of the LID cache. When a direction
// grows past it both are emptied and refill from the database.
const lidCacheMax = 200_000

// lidCache remembers LID to phone-number mappings in both directions,
// including users known to have none (an empty value). Database queries run
// without its lock held: with SQLite's single connection, a goroutine inside
// a decryption transaction could otherwise wait for the lock while the
// lock holder waits for the connection. A reader caches what it read only
// if the generation counter shows that no write happened meanwhile.
//
// NOTE: entries written inside a caller's transaction are cached before that
// transaction commits. If it rolls back they stay until the next write of
// the same users. Writes by other processes are not seen while an entry
// stays cached.
type lidCache struct {
	mu         sync.RWMutex
	generation uint64
	pnToLID    map[string]string
	lidToPN    map[string]string
}

func newLIDCache() *lidCache {
	return &lidCache{pnToLID: make(map[string]string), lidToPN: make(map[string]string)}
}

// lookup returns the cached mapping of a user, from phone number to LID
// when fromPN is set and from LID to phone number otherwise, and the current
// generation.
func (c *lidCache) lookup(fromPN bool, user string) (target string, ok bool, generation uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if fromPN {
		target, ok = c.pnToLID[user]
	} else {
		target, ok = c.lidToPN[user]
	}
	return target, ok, c.generation
}

// fill caches results read at generation, unless a write happened since.
// results maps source users to targets, "" for users without a mapping.
func (c *lidCache) fill(generation uint64, fromPN bool, results map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation != generation {
		return
	}
	c.makeRoom(len(results))
	forward, backward := c.lidToPN, c.pnToLID
	if fromPN {
		forward, backward = c.pnToLID, c.lidToPN
	}
	for source, target := range results {
		forward[source] = target
		if target != "" {
			backward[target] = source
		}
	}
}

// lidWrite is one mapping written to the database, with the users whose
// mapping the write removed.
type lidWrite struct {
	lid, pn    string
	orphanLIDs []string // LIDs that were mapped to pn
	orphanPNs  []string // phone numbers that lid was mapped to
}

// stored records writes to the database in the order they happened.
func (c *lidCache) stored(writes []lidWrite) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.makeRoom(3 * len(writes))
	for _, w := range writes {
		for _, lid := range w.orphanLIDs {
			c.lidToPN[lid] = ""
		}
		for _, pn := range w.orphanPNs {
			c.pnToLID[pn] = ""
		}
		c.lidToPN[w.lid] = w.pn
		c.pnToLID[w.pn] = w.lid
	}
}

// makeRoom empties the cache when adding n entries would pass the bound.
// The caller holds mu for writing.
func (c *lidCache) makeRoom(n int) {
	if len(c.pnToLID)+n <= lidCacheMax && len(c.lidToPN)+n <= lidCacheMax {
		return
	}
	c.pnToLID = make(map[string]string)
	c.lidToPN = make(map[string]string)
}
