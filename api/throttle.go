package api

import (
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// Sign-in throttling. Failed sign-ins are counted per (name, address)
// pair, per address and per name, and an attempt takes its place in the
// counts before its password is hashed, so attempts still being checked
// count too: N concurrent attempts cannot all slip in under a limit.
//
// A pair or an address that has used its free failures must wait before
// each further attempt, twice as long after each failure (1 s, 2 s, 4 s…,
// at most backoffMax), one attempt at a time. Failures are forgiven one
// by one as time passes (one per pairForgive, addrForgive), and a correct
// password clears its pair.
//
// There is no lock per name alone: that would let anyone lock anyone out,
// admins included. The right password for a name from another address
// signs in while the name is being attacked from elsewhere. Against an
// attack on one name spread over many addresses, a name with nameSlowAfter
// or more unforgiven failures has each attempt delayed by nameDelay
// before its password is checked: a slowdown for everyone trying that
// name, never a refusal.
const (
	pairFree    = 5
	pairForgive = 15 * time.Minute
	addrFree    = 20
	addrForgive = time.Minute

	nameSlowAfter = 100
	nameForgive   = 10 * time.Second
	nameDelay     = time.Second

	backoffMax = 15 * time.Minute

	// throttleMaxKeys bounds the memory the counts take (a few hundred
	// bytes per key); beyond it the idle keys with the oldest failures
	// are dropped.
	throttleMaxKeys = 100_000
)

// throttleRule is how one kind of key is counted.
type throttleRule struct {
	free    int           // failures before back-off (before the delay, for names)
	forgive time.Duration // one failure is forgotten per forgive
}

var (
	pairRule = throttleRule{free: pairFree, forgive: pairForgive}
	addrRule = throttleRule{free: addrFree, forgive: addrForgive}
	nameRule = throttleRule{free: nameSlowAfter, forgive: nameForgive}
)

// throttleEntry is the count of one key.
type throttleEntry struct {
	fails    int // unforgiven failures
	inflight int // attempts being checked now
	// unrecorded counts the attempts ended and counted here whose
	// outcome the store (signinThrottle.store) has not yet taken: until
	// it has, the store's counts lack them and do not replace these.
	unrecorded int
	last       time.Time // the last failure
	mark       time.Time // forgiveness runs from here
}

// forgive forgets the failures whose time has passed.
func (e *throttleEntry) forgive(now time.Time, r throttleRule) {
	if e.fails == 0 {
		return
	}
	n := int(now.Sub(e.mark) / r.forgive)
	if n <= 0 {
		return
	}
	if n >= e.fails {
		e.fails = 0
		return
	}
	e.fails -= n
	e.mark = e.mark.Add(time.Duration(n) * r.forgive)
}

// count takes an attempt that ended at now with o into the failures
// counted under rule r; pair says whether they are the pair's, which a
// success clears.
func (e *throttleEntry) count(now time.Time, r throttleRule, o outcome, pair bool) {
	e.forgive(now, r)
	switch {
	case o == failed:
		if e.fails == 0 {
			e.mark = now
		}
		e.fails++
		e.last = now
	case o == succeeded && pair:
		e.fails = 0
	}
}

// wait is how long until an attempt under rule r may start; 0 if now.
func (e *throttleEntry) wait(now time.Time, r throttleRule) time.Duration {
	n := e.fails + e.inflight
	if n < r.free {
		return 0
	}
	if e.inflight > 0 {
		// Past the free failures one attempt runs at a time; the next
		// waits at least the back-off it would have after this one fails.
		return backoff(n - r.free)
	}
	return max(0, e.last.Add(backoff(e.fails-r.free)).Sub(now))
}

// backoff is the wait after k failures beyond the free ones: 2^k seconds,
// at most backoffMax.
func backoff(k int) time.Duration {
	if k >= 20 {
		return backoffMax
	}
	return min(time.Second<<k, backoffMax)
}

// signinThrottle holds the counts. The zero value is ready to use.
type signinThrottle struct {
	mu      sync.Mutex
	m       map[string]*throttleEntry
	sweepAt int // sweep when the map reaches this many keys

	// store, when set, keeps the failures (see throttlestore.go), so
	// that the replicas over one store count the same; pruned is when
	// its old counts were last removed.
	store  geo.ThrottleStore
	pruned time.Time
	// recorded counts the outcomes the store has taken; a load whose
	// read of the store overlapped one keeps the counts here.
	recorded uint64
}

// throttleKeys are the keys of one attempt: its pair, address and name.
type throttleKeys struct{ pair, addr, name string }

func newThrottleKeys(addr, name string) throttleKeys {
	return throttleKeys{pair: "p\x00" + addr + "\x00" + name, addr: "a\x00" + addr, name: "n\x00" + name}
}

// outcome is how a reserved attempt ended.
type outcome uint8

const (
	unchecked outcome = iota // not checked (busy, cancelled, error): counts nothing
	failed                   // wrong password or unknown name
	succeeded                // signed in: clears the pair
)

// reserve takes a place for an attempt from addr for name. If the pair or
// the address must wait, it returns how long and takes nothing; otherwise
// the attempt counts as in flight until release, and delay is how long it
// must be held back before its password is checked.
func (t *signinThrottle) reserve(now time.Time, k throttleKeys) (wait, delay time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, kr := range [...]struct {
		key  string
		rule throttleRule
	}{{k.pair, pairRule}, {k.addr, addrRule}} {
		if e := t.m[kr.key]; e != nil {
			e.forgive(now, kr.rule)
			wait = max(wait, e.wait(now, kr.rule))
		}
	}
	if wait > 0 {
		return wait, 0
	}
	for _, key := range [...]string{k.pair, k.addr, k.name} {
		t.entry(now, key).inflight++
	}
	if e := t.m[k.name]; e != nil {
		e.forgive(now, nameRule)
		if e.fails >= nameRule.free {
			delay = nameDelay
		}
	}
	return 0, delay
}

// release ends an attempt that reserve let through.
func (t *signinThrottle) release(now time.Time, k throttleKeys, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, kr := range [...]struct {
		key  string
		rule throttleRule
	}{{k.pair, pairRule}, {k.addr, addrRule}, {k.name, nameRule}} {
		e := t.m[kr.key]
		if e == nil { // dropped by a sweep while in flight: cannot happen
			continue
		}
		e.inflight--
		e.count(now, kr.rule, o, kr.key == k.pair)
		if t.store != nil && o != unchecked {
			e.unrecorded++
		}
		if e.fails == 0 && e.inflight == 0 && e.unrecorded == 0 {
			delete(t.m, kr.key)
		}
	}
}

// entry returns the entry of key, made if there is none. The caller
// holds mu.
func (t *signinThrottle) entry(now time.Time, key string) *throttleEntry {
	if e := t.m[key]; e != nil {
		return e
	}
	if t.m == nil {
		t.m = map[string]*throttleEntry{}
	}
	if len(t.m) >= max(t.sweepAt, throttleMaxKeys) {
		t.sweep(now)
	}
	e := &throttleEntry{}
	t.m[key] = e
	return e
}

// sweep drops the keys whose failures are all forgiven and then, while
// the map holds more than nine tenths of throttleMaxKeys, the idle keys
// with the oldest last failure. Keys in flight stay. The caller holds mu.
func (t *signinThrottle) sweep(now time.Time) {
	type aged struct {
		key  string
		last time.Time
	}
	var idle []aged
	for k, e := range t.m {
		if e.inflight > 0 || e.unrecorded > 0 {
			continue
		}
		e.forgive(now, ruleOf(k))
		if e.fails == 0 {
			delete(t.m, k)
			continue
		}
		idle = append(idle, aged{k, e.last})
	}
	if drop := len(t.m) - throttleMaxKeys*9/10; drop > 0 && len(idle) > 0 {
		slices.SortFunc(idle, func(a, b aged) int { return a.last.Compare(b.last) })
		for _, a := range idle[:min(drop, len(idle))] {
			delete(t.m, a.key)
		}
	}
	// If keys in flight still fill the map, let it grow by a tenth before
	// sweeping again rather than sweeping on every new key.
	t.sweepAt = len(t.m) + throttleMaxKeys/10
}

func ruleOf(key string) throttleRule {
	switch key[0] {
	case 'p':
		return pairRule
	case 'a':
		return addrRule
	}
	return nameRule
}

// throttleAddr is the client address sign-ins are counted under: the
// IPv4 address, or the /64 network of an IPv6 address, since one client
// usually holds a whole /64.
func throttleAddr(host string) string {
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
