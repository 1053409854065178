package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// testThrottleShared: the sign-in throttle's counts written through one
// handle are read through another; concurrent updates through both each
// count; a count left with no failures is removed, and prune removes the
// idle ones.
func testThrottleShared(t *testing.T, b Backend) {
	ctx := context.Background()
	a := b.New(t)
	other := b.Again(t, a)
	t0 := Micro(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	keys := []string{"p\x00192.0.2.7\x00lan", "a\x00192.0.2.7", "n\x00lan"}
	if cs, err := other.ThrottleCounts(ctx, keys); err != nil || len(cs) != 0 {
		t.Fatalf("counts of an empty store: %v, %v", cs, err)
	}
	fail := func(s Store, at time.Time) {
		t.Helper()
		err := s.UpdateThrottle(ctx, keys, time.Time{}, func(cs []geo.ThrottleCount) {
			for i := range cs {
				if cs[i].Key != keys[i] {
					t.Errorf("count %d has key %q, want %q", i, cs[i].Key, keys[i])
				}
				if cs[i].Fails == 0 {
					cs[i].Mark = at
				}
				cs[i].Fails++
				cs[i].Last = at
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fail(a, t0)
	cs, err := other.ThrottleCounts(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(cs, func(x, y geo.ThrottleCount) int { return len(x.Key) - len(y.Key) })
	if len(cs) != 3 || cs[0].Fails != 1 || !sameTime(cs[0].Last, t0) || !sameTime(cs[0].Mark, t0) {
		t.Fatalf("counts through the other handle: %+v", cs)
	}

	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = other
			}
			fail(s, t0.Add(time.Second))
		}()
	}
	wg.Wait()
	cs, err = a.ThrottleCounts(ctx, keys[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Fails != n+1 || !sameTime(cs[0].Mark, t0) || !sameTime(cs[0].Last, t0.Add(time.Second)) {
		t.Fatalf("after %d concurrent failures through both handles: %+v, want %d failures", n, cs, n+1)
	}

	// The pair cleared, the rest kept.
	if err := other.UpdateThrottle(ctx, keys, time.Time{}, func(cs []geo.ThrottleCount) { cs[0].Fails = 0 }); err != nil {
		t.Fatal(err)
	}
	if cs, err := a.ThrottleCounts(ctx, keys); err != nil || len(cs) != 2 || slices.ContainsFunc(cs, func(c geo.ThrottleCount) bool { return c.Key == keys[0] }) {
		t.Fatalf("after clearing the pair: %+v, %v", cs, err)
	}
	// Another key, counted later, survives a prune that removes these.
	late := []string{"a\x00198.51.100.1"}
	if err := a.UpdateThrottle(ctx, late, time.Time{}, func(cs []geo.ThrottleCount) {
		cs[0].Fails, cs[0].Last, cs[0].Mark = 1, t0.Add(time.Hour), t0.Add(time.Hour)
	}); err != nil {
		t.Fatal(err)
	}
	if err := other.UpdateThrottle(ctx, late, t0.Add(time.Minute), func([]geo.ThrottleCount) {}); err != nil {
		t.Fatal(err)
	}
	if cs, err := a.ThrottleCounts(ctx, append(slices.Clone(keys), late...)); err != nil || len(cs) != 1 || cs[0].Key != late[0] {
		t.Fatalf("after pruning before %v: %+v, %v", t0.Add(time.Minute), cs, err)
	}
}
