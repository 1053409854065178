package api

import (
	"context"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// Over a store that keeps them (geo.ThrottleStore), the failures are the
// store's: before each attempt is reserved, its keys' counts are read
// from the store into the throttle's, so an attempt on one replica waits
// out the back-off that failures on another earned; after it ends, its
// outcome is counted in the store, in one transaction per attempt, so
// that concurrent failures on several replicas all count. The attempts
// in flight stay counted per process, and so does a name's slowdown
// while they are checked.

// throttleKeep is how long the store keeps a key's counts after its last
// failure: by then any back-off has long passed (backoffMax).
const throttleKeep = 24 * time.Hour

// list is k's keys, the pair's first.
func (k throttleKeys) list() []string { return []string{k.pair, k.addr, k.name} }

// load reads k's counts from the store, when there is one, into the
// throttle's. An error leaves them as they were.
func (t *signinThrottle) load(ctx context.Context, now time.Time, k throttleKeys) error {
	if t.store == nil {
		return nil
	}
	t.mu.Lock()
	seen := t.recorded
	t.mu.Unlock()
	cs, err := t.store.ThrottleCounts(ctx, k.list())
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.recorded != seen {
		// An outcome counted here reached the store during the read,
		// which may have missed it: these counts are the newer.
		return nil
	}
	for _, key := range k.list() {
		e := t.m[key]
		if e != nil && e.unrecorded > 0 {
			continue // the store lacks an outcome counted here
		}
		found := false
		for _, c := range cs {
			if c.Key == key && c.Fails > 0 {
				if e == nil {
					e = t.entry(now, key)
				}
				e.fails, e.last, e.mark = c.Fails, c.Last, c.Mark
				found = true
			}
		}
		if !found && e != nil {
			e.fails = 0
			if e.inflight == 0 {
				delete(t.m, key)
			}
		}
	}
	return nil
}

// record counts the outcome of an attempt that ended at now in the
// store, when there is one, after release counted it here; unchecked
// attempts count nothing. Until it returns, load keeps this process's
// counts of k's keys rather than the store's, which may lack it. Once an
// hour it also removes the counts idle for throttleKeep.
func (t *signinThrottle) record(ctx context.Context, now time.Time, k throttleKeys, o outcome) error {
	if t.store == nil || o == unchecked {
		return nil
	}
	var prune time.Time
	t.mu.Lock()
	if now.Sub(t.pruned) >= time.Hour {
		t.pruned, prune = now, now.Add(-throttleKeep)
	}
	t.mu.Unlock()
	err := t.store.UpdateThrottle(ctx, k.list(), prune, func(cs []geo.ThrottleCount) {
		for i := range cs {
			e := throttleEntry{fails: cs[i].Fails, last: cs[i].Last, mark: cs[i].Mark}
			e.count(now, ruleOf(cs[i].Key), o, cs[i].Key == k.pair)
			cs[i].Fails, cs[i].Last, cs[i].Mark = e.fails, e.last, e.mark
		}
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recorded++
	for _, key := range k.list() {
		if e := t.m[key]; e != nil && e.unrecorded > 0 {
			e.unrecorded--
			if e.fails == 0 && e.inflight == 0 && e.unrecorded == 0 {
				delete(t.m, key)
			}
		}
	}
	return err
}
