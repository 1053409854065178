package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// clientFrom returns a client whose connections to e's server leave from
// the loopback address ip (all of 127.0.0.0/8 is loopback on Linux), so
// the server sees it as another client address. It skips the test where
// the system has no such address.
func (e *env) clientFrom(ip string) *http.Client {
	e.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		e.t.Skipf("cannot connect from %s: %v", ip, err)
	}
	c.Close()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// signInFrom signs in as signIn does, from the loopback address ip.
func (e *env) signInFrom(ip, name, password string) (*browser, resp) {
	e.t.Helper()
	b := &browser{e: e, client: e.clientFrom(ip)}
	r, err := postSignIn(b.client, e.ts.URL, name, password)
	if err != nil {
		e.t.Fatal(err)
	}
	var s sessionOut
	json.Unmarshal(r.body, &s)
	b.csrf = s.CSRF
	return b, r
}

// postSignIn posts a sign-in with c; safe to call from any goroutine.
func postSignIn(c *http.Client, base, name, password string) (resp, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	res, err := c.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}, err
}

// signInAll makes the sign-ins of names at once, the i-th with client
// of(i), and returns their replies in order.
func (e *env) signInAll(of func(i int) *http.Client, password string, names []string) []resp {
	e.t.Helper()
	out := make([]resp, len(names))
	errs := make([]error, len(names))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, name := range names {
		c := of(i)
		wg.Go(func() {
			<-start
			out[i], errs[i] = postSignIn(c, e.ts.URL, name, password)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// metric returns the value of the unlabelled or labelled series named in
// full, as /metrics writes it.
func (e *env) metric(series string) int {
	e.t.Helper()
	for line := range strings.Lines(string(e.get("/metrics").body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	e.t.Fatalf("metrics lack %s", series)
	return 0
}

const hashesMetric = "gapmap_signin_password_checks_total"

// countStatus counts replies by status, checking that each is one of want
// and that 429 and 503 come with a Retry-After of at least a second.
func countStatus(t *testing.T, rs []resp, want ...int) map[int]int {
	t.Helper()
	n := map[int]int{}
	for _, r := range rs {
		n[r.status]++
		if !slicesContains(want, r.status) {
			t.Errorf("status %d, want one of %v: %s", r.status, want, r.body)
			continue
		}
		if r.status == 429 || r.status == 503 {
			wantProblem(t, r, r.status, "")
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("%d with Retry-After %q", r.status, r.header.Get("Retry-After"))
			}
		}
	}
	return n
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestSignInMemoryBounded: 200 sign-ins at once from 200 addresses, half
// for an unknown name and half with a wrong password, hold no more memory
// than the password-check slots allow. Run with -v for the figure.
func TestSignInMemoryBounded(t *testing.T) {
	// Four slots whatever the machine, so that the bound below is always
	// far under the 3.7 GiB of 200 hashes at once; a queue for everyone
	// and a wait long enough for many of them to be checked.
	e := newEnv(t, Options{SignIn: SignInLimits{Hashes: 4, Queue: 200, Wait: 5 * time.Second}})
	e.userWithPassword("admin2", geo.RoleAdmin, "correct horse battery")
	const n = 200
	clients := make([]*http.Client, n)
	names := make([]string, n)
	for i := range n {
		clients[i] = e.clientFrom(fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250))
		names[i] = "admin2"
		if i%2 == 1 {
			names[i] = fmt.Sprintf("nobody-%d", i)
		}
	}
	slots := cap(e.srv.signin.slots)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop, sampled := make(chan struct{}), make(chan struct{})
	var peak uint64
	go func() {
		defer close(sampled)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	rs := e.signInAll(func(i int) *http.Client { return clients[i] }, "wrong password", names)
	close(stop)
	<-sampled

	got := countStatus(t, rs, 401, 503)
	hashes := e.metric(hashesMetric)
	if hashes != got[401] || hashes < slots {
		t.Errorf("%d password checks for %d replies 401, want as many and at least %d (the slots)", hashes, got[401], slots)
	}
	// Each check holds 19 MiB; the memory of finished ones is freed at the
	// next collection, which at the default GOGC comes when the heap has
	// doubled: twice the slots, and room for the rest of the server.
	const mib = 1 << 20
	limit := uint64(2*slots*19*mib + 150*mib)
	t.Logf("%d sign-ins at once, %d slots: peak heap in use %.0f MiB over a %.0f MiB baseline (bound %d MiB); %d checked (401), %d busy (503)",
		n, slots, float64(peak-base)/mib, float64(base)/mib, limit/mib, got[401], got[503])
	if peak-base > limit {
		t.Errorf("peak heap %d MiB above the baseline, want at most %d MiB", (peak-base)/mib, limit/mib)
	}
}

// TestSignInThrottledBeforeHash: of 60 sign-ins at once from one address,
// only as many are hashed as the throttle allows; the rest get 429.
func TestSignInThrottledBeforeHash(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nameOf  func(i int) string
		allowed int
	}{
		{"60 names: the address budget", func(i int) string { return fmt.Sprintf("nobody-%d", i) }, addrFree},
		{"one name: the pair budget", func(int) string { return "admin2" }, pairFree},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A long wait: no sign-in here may be turned away as busy.
			e := newEnv(t, Options{SignIn: SignInLimits{Queue: 100, Wait: time.Minute}})
			e.userWithPassword("admin2", geo.RoleAdmin, "correct horse battery")
			c := e.clientFrom("127.0.0.5")
			names := make([]string, 60)
			for i := range names {
				names[i] = tc.nameOf(i)
			}
			got := countStatus(t, e.signInAll(func(int) *http.Client { return c }, "wrong password", names), 401, 429)
			// The clock stands still, so no back-off runs out: exactly the
			// budget is checked, however the requests interleave.
			if h := e.metric(hashesMetric); h != tc.allowed || got[401] != tc.allowed || got[429] != 60-tc.allowed {
				t.Errorf("%d password checks, %d × 401, %d × 429; want %d, %d, %d", h, got[401], got[429], tc.allowed, tc.allowed, 60-tc.allowed)
			}
		})
	}
}

// TestSignInNotLockedOut: while a name is attacked from one address, its
// user signs in from another.
func TestSignInNotLockedOut(t *testing.T) {
	e := newEnv(t, Options{SignIn: SignInLimits{Queue: 100, Wait: time.Minute}})
	e.userWithPassword("admin2", geo.RoleAdmin, "correct horse battery")
	attacker, user := e.clientFrom("127.0.0.2"), e.clientFrom("127.0.0.3")
	names := make([]string, 30)
	for i := range names {
		names[i] = "admin2"
	}
	var during resp
	var duringErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		during, duringErr = postSignIn(user, e.ts.URL, "admin2", "correct horse battery")
	}()
	got := countStatus(t, e.signInAll(func(int) *http.Client { return attacker }, "wrong password", names), 401, 429)
	<-done
	if duringErr != nil {
		t.Fatal(duringErr)
	}
	if during.status != 200 {
		t.Errorf("sign-in during the attack: %d %s", during.status, during.body)
	}
	if got[401] != pairFree {
		t.Errorf("%d wrong passwords checked from the attacking address, want %d", got[401], pairFree)
	}
	// After the attack: the user still signs in, from the same address or
	// a new one; the attacker's address waits even with the right password.
	for _, ip := range []string{"127.0.0.3", "127.0.0.4"} {
		if _, r := e.signInFrom(ip, "admin2", "correct horse battery"); r.status != 200 {
			t.Errorf("sign-in from %s after the attack: %d %s", ip, r.status, r.body)
		}
	}
	r, err := postSignIn(attacker, e.ts.URL, "admin2", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, r, 429, "")
	if h := e.metric(hashesMetric); h != pairFree+3 {
		t.Errorf("%d password checks, want %d", h, pairFree+3)
	}
}

// TestSignInFieldLengths: names and passwords too long to be anyone's are
// refused before anything is done with them.
func TestSignInFieldLengths(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name, user, password string
		status               int
		field                string
	}{
		{"5 MiB name", strings.Repeat("a", 5<<20), "wrong password", 400, "name"},
		{"65 characters", strings.Repeat("ộ", 65), "wrong password", 400, "name"},
		{"1,025-byte password", "admin2", strings.Repeat("x", 1025), 400, "password"},
		{"both too long", strings.Repeat("a", 1000), strings.Repeat("x", 2000), 400, "password"},
		{"64 characters, 192 bytes: checked", strings.Repeat("ộ", 64), "wrong password", 401, ""},
		{"1,024-byte password: checked", "admin2", strings.Repeat("ộ", 341) + "x", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.metric(hashesMetric)
			_, r := e.signIn(tc.user, tc.password)
			wantProblem(t, r, tc.status, tc.field)
			if tc.status == 400 && len(r.body) > 1000 {
				t.Errorf("reply of %d bytes", len(r.body))
			}
			checked := e.metric(hashesMetric) - before
			if want := map[bool]int{true: 1, false: 0}[tc.status == 401]; checked != want {
				t.Errorf("%d password checks, want %d", checked, want)
			}
		})
	}
	var log struct{ Entries []geo.AuditEntry }
	json.Unmarshal(e.get("/api/v1/audit").body, &log)
	fails := 0
	for _, en := range log.Entries {
		if utf8.RuneCountInString(en.Target) > geo.MaxUserNameLen || len(en.Detail) > 1000 {
			t.Errorf("audit entry %s with a %d-byte target", en.Action, len(en.Target))
		}
		if en.Action == "session.fail" {
			fails++
		}
	}
	if fails != 2 {
		t.Errorf("%d failed sign-ins audited, want 2 (the ones checked)", fails)
	}
}

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestSignInBackoffGrows: past the free failures each attempt of a name
// from an address waits twice as long as the one before; the right
// password, once its turn comes, signs in and clears the count.
func TestSignInBackoffGrows(t *testing.T) {
	clock := &testClock{t: testNow}
	e := newEnvSvc(t, Options{}, service.Options{Now: clock.now})
	e.userWithPassword("admin2", geo.RoleAdmin, "correct horse battery")
	for i := range pairFree {
		if _, r := e.signIn("admin2", "wrong password"); r.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	var waits []int
	for range 5 {
		_, r := e.signIn("admin2", "wrong password")
		wantProblem(t, r, 429, "")
		s, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		waits = append(waits, s)
		clock.advance(time.Duration(s)*time.Second - time.Millisecond)
		if _, r := e.signIn("admin2", "wrong password"); r.status != 429 {
			t.Errorf("a millisecond before the wait is over: %d", r.status)
		}
		clock.advance(time.Millisecond)
		if _, r := e.signIn("admin2", "wrong password"); r.status != 401 {
			t.Fatalf("after waiting %d s: %d %s", s, r.status, r.body)
		}
	}
	if want := []int{1, 2, 4, 8, 16}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v s, want %v", waits, want)
	}
	_, r := e.signIn("admin2", "correct horse battery")
	if got := r.header.Get("Retry-After"); r.status != 429 || got != "32" {
		t.Errorf("right password during the back-off: %d, Retry-After %q; want 429, 32", r.status, got)
	}
	clock.advance(32 * time.Second)
	if _, r := e.signIn("admin2", "correct horse battery"); r.status != 200 {
		t.Fatalf("right password after the back-off: %d %s", r.status, r.body)
	}
	if _, r := e.signIn("admin2", "wrong password"); r.status != 401 {
		t.Errorf("wrong password after signing in: %d, want 401 (count cleared)", r.status)
	}
}

// TestSignInBusy: a sign-in that finds every check slot taken and the
// queue full, or waits too long, gets 503 with Retry-After.
func TestSignInBusy(t *testing.T) {
	e := newEnv(t, Options{SignIn: SignInLimits{Hashes: 1, Queue: 1, Wait: 50 * time.Millisecond}})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.srv.signin.hashHook = func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	c := e.clientFrom("127.0.0.6")
	first := make(chan resp, 1)
	go func() {
		r, _ := postSignIn(c, e.ts.URL, "nobody-1", "wrong password")
		first <- r
	}()
	<-entered // the one slot is held
	// One of these two waits in the queue and gives up; the other finds
	// the queue full or, if it comes second, also gives up.
	got := countStatus(t, e.signInAll(func(int) *http.Client { return c }, "wrong password", []string{"nobody-2", "nobody-3"}), 503)
	close(release)
	if r := <-first; r.status != 401 {
		t.Errorf("the sign-in holding the slot: %d %s", r.status, r.body)
	}
	if got[503] != 2 || e.metric(`gapmap_signins_total{result="busy"}`) != 2 || e.metric(hashesMetric) != 1 {
		t.Errorf("%d × 503, metrics:\n%s", got[503], e.get("/metrics").body)
	}
	// Busy sign-ins count as no failure: the slot is free again and the
	// next sign-in is checked.
	if r, _ := postSignIn(c, e.ts.URL, "nobody-2", "wrong password"); r.status != 401 {
		t.Errorf("after the slot is free: %d %s", r.status, r.body)
	}
}
