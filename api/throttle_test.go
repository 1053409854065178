package api

import (
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		k    int
		want time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {9, 512 * time.Second}, {10, backoffMax}, {63, backoffMax}, {1 << 30, backoffMax}} {
		if got := backoff(tc.k); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestThrottleAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	} {
		if got := throttleAddr(tc.in); got != tc.want {
			t.Errorf("throttleAddr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestThrottleBounded: a flood of failures under new names and addresses
// does not grow the counts past their cap, keeps the newest, and forgets
// what has been forgiven.
func TestThrottleBounded(t *testing.T) {
	var th signinThrottle
	now := testNow
	const n = throttleMaxKeys/3 + 5000 // three keys each: past the cap
	for i := range n {
		k := newThrottleKeys(fmt.Sprintf("a%d", i), fmt.Sprintf("n%d", i))
		if wait, _ := th.reserve(now, k); wait != 0 {
			t.Fatalf("attempt %d waits %v", i, wait)
		}
		th.release(now, k, failed)
		if len(th.m) > throttleMaxKeys+throttleMaxKeys/10 {
			t.Fatalf("%d keys after %d attempts, cap %d", len(th.m), i+1, throttleMaxKeys)
		}
		now = now.Add(time.Microsecond) // nothing is forgiven: the cap must evict
	}
	last := newThrottleKeys(fmt.Sprintf("a%d", n-1), fmt.Sprintf("n%d", n-1))
	if e := th.m[last.pair]; e == nil || e.fails != 1 {
		t.Errorf("the newest pair is not counted: %+v", e)
	}
	// Long after, everything is forgiven: the next sweep empties the map.
	th.sweep(now.Add(pairForgive + addrForgive + nameForgive))
	if len(th.m) != 0 {
		t.Errorf("%d keys left after all is forgiven", len(th.m))
	}
}

// TestThrottleForgives: failures are forgotten one per forgive interval,
// and a key with none left is dropped.
func TestThrottleForgives(t *testing.T) {
	var th signinThrottle
	k := newThrottleKeys("192.0.2.7", "admin2")
	t0 := testNow
	for i := range pairFree + 2 { // a minute apart: past every back-off
		now := t0.Add(time.Duration(i) * time.Minute)
		if wait, _ := th.reserve(now, k); wait != 0 {
			t.Fatalf("failure %d waits %v", i+1, wait)
		}
		th.release(now, k, failed)
	}
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{0, 7}, {pairForgive, 6}, {3 * pairForgive, 4}, {7 * pairForgive, 0}} {
		now := t0.Add(6*time.Minute + tc.after)
		if tc.after > 0 {
			th.reserve(now, k)
			th.release(now, k, unchecked)
		}
		got := 0
		if e := th.m[k.pair]; e != nil {
			got = e.fails
		}
		if got != tc.want {
			t.Errorf("%v after the last failure: %d failures, want %d", tc.after, got, tc.want)
		}
	}
	if len(th.m) != 0 {
		t.Errorf("%d keys left with nothing to count", len(th.m))
	}
}
