package api

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// The speed test (GET /api/v1/speedtest/download, POST
// /api/v1/speedtest/upload) is open to anyone, so that a report made
// before signing in can carry a measured speed; its limits keep it from
// being a way to make the server send or take bandwidth without end:
//
//   - a transfer moves at most MaxBytes (a larger bytes or body is a 400
//     or 413);
//   - each client address (an IPv6 /64 counts as one, see throttleAddr)
//     has an allowance of bytes that transfers use up, at least
//     speedMinCost each, and that comes back over time; a transfer past
//     it is answered 429 with Retry-After;
//   - at most Concurrent transfers run at once, and each for at most
//     Deadline; one more is answered 503 with Retry-After.

// SpeedTestLimits bound the speed test. The zero value means the
// defaults.
type SpeedTestLimits struct {
	// MaxBytes is the most one download or upload moves (default 4 MiB,
	// twice the page's test).
	MaxBytes int64
	// PerAddress is the allowance of one client address, in bytes
	// (default 24 MiB: six of the page's tests, down and up); it comes
	// back in full over Refill (default 10 minutes).
	PerAddress int64
	Refill     time.Duration
	// Concurrent is how many transfers may run at once (default 4).
	Concurrent int
	// Deadline is how long a transfer may take before its connection is
	// cut (default 30 s).
	Deadline time.Duration
}

// Defaults of SpeedTestLimits.
const (
	DefaultSpeedTestBytes      = 4 << 20
	defaultSpeedTestPerAddress = 24 << 20
	defaultSpeedTestRefill     = 10 * time.Minute
	defaultSpeedTestConcurrent = 4
	defaultSpeedTestDeadline   = 30 * time.Second

	// speedMinCost is the least a transfer uses of an allowance, so that
	// empty transfers are counted too.
	speedMinCost = 64 << 10
	// speedMaxKeys bounds the addresses counted; past it the addresses
	// whose allowance is whole again are forgotten, and when none is, a
	// new address is answered 503.
	speedMaxKeys = 100_000
	// speedBusyRetry is the Retry-After of a transfer refused for want of
	// a slot.
	speedBusyRetry = 2 * time.Second
)

// speedState is a server's speed-test limits and counts.
type speedState struct {
	lim   SpeedTestLimits
	slots chan struct{}
	mu    sync.Mutex
	used  map[string]*speedUse // by address
	// hook, when set (by tests, before any request), is called by each
	// transfer with its slot held.
	hook func()
}

// speedUse is what an address has used of its allowance, as of at.
type speedUse struct {
	bytes float64
	at    time.Time
}

func newSpeedState(l SpeedTestLimits) *speedState {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultSpeedTestBytes
	}
	if l.PerAddress <= 0 {
		l.PerAddress = defaultSpeedTestPerAddress
	}
	l.PerAddress = max(l.PerAddress, l.MaxBytes, speedMinCost) // room for one transfer at least
	if l.Refill <= 0 {
		l.Refill = defaultSpeedTestRefill
	}
	if l.Concurrent <= 0 {
		l.Concurrent = defaultSpeedTestConcurrent
	}
	if l.Deadline <= 0 {
		l.Deadline = defaultSpeedTestDeadline
	}
	return &speedState{lim: l, slots: make(chan struct{}, l.Concurrent), used: map[string]*speedUse{}}
}

// current is what u has used as of now, the allowance having come back
// at PerAddress per Refill since u.at.
func (g *speedState) current(u *speedUse, now time.Time) float64 {
	back := now.Sub(u.at).Seconds() / g.lim.Refill.Seconds() * float64(g.lim.PerAddress)
	return max(0, u.bytes-max(0, back))
}

// take uses cost bytes (at least speedMinCost) of addr's allowance. When
// the allowance does not hold them it takes nothing and returns how long
// until it does; when the addresses counted are too many to count one
// more, it returns errUnavailable.
func (g *speedState) take(now time.Time, addr string, cost int64) (time.Duration, error) {
	c := float64(max(cost, speedMinCost))
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.used[addr]
	if u == nil {
		if len(g.used) >= speedMaxKeys {
			for k, v := range g.used {
				if g.current(v, now) == 0 {
					delete(g.used, k)
				}
			}
		}
		if len(g.used) >= speedMaxKeys {
			return 0, errSpeedBusy
		}
		u = &speedUse{at: now}
		g.used[addr] = u
	}
	used := g.current(u, now)
	if over := used + c - float64(g.lim.PerAddress); over > 0 {
		return time.Duration(math.Ceil(over / float64(g.lim.PerAddress) * float64(g.lim.Refill))), nil
	}
	u.bytes, u.at = used+c, now
	return 0, nil
}

// giveBack returns n bytes taken from addr's allowance and not used.
func (g *speedState) giveBack(now time.Time, addr string, n int64) {
	if n <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if u := g.used[addr]; u != nil {
		u.bytes, u.at = max(0, g.current(u, now)-float64(n)), now
	}
}

var errSpeedBusy = geo.NewError(errUnavailable, "too many speed tests at once; try again shortly")

// startSpeedTest admits a transfer of cost bytes from r's client: it
// uses the client's allowance and takes a slot, and returns the function
// that ends the transfer, given the bytes it did not move of cost. It
// refuses with a 429 (allowance used up) or a 503 (no slot), each with
// Retry-After.
func (s *Server) startSpeedTest(w http.ResponseWriter, r *http.Request, cost int64) (end func(unused int64), err error) {
	g := s.speed
	addr := throttleAddr(remoteHost(r))
	wait, err := g.take(s.svc.Now(), addr, cost)
	if err != nil {
		setRetryAfter(w, speedBusyRetry)
		return nil, err
	}
	if wait > 0 {
		setRetryAfter(w, wait)
		return nil, geo.NewError(errTooManyRequests, "too many speed tests from your address; try again later")
	}
	select {
	case g.slots <- struct{}{}:
	default:
		g.giveBack(s.svc.Now(), addr, max(cost, speedMinCost))
		setRetryAfter(w, speedBusyRetry)
		return nil, errSpeedBusy
	}
	// A client that reads or sends slowly holds its slot for at most the
	// deadline. (Without a connection, as in tests, there is none to set.)
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(g.lim.Deadline)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
	if g.hook != nil {
		g.hook()
	}
	return func(unused int64) {
		// The connection's next request gets the server's own deadlines.
		rc.SetWriteDeadline(time.Time{})
		<-g.slots
		g.giveBack(s.svc.Now(), addr, min(unused, max(cost, speedMinCost)-speedMinCost))
	}, nil
}

// speedBlock is a block of random bytes repeated to fill a download: the
// client cannot compress it, and the server does not spend CPU per byte.
var speedBlock = func() []byte {
	b := make([]byte, 64<<10)
	rand.Read(b)
	return b
}()

func (s *Server) handleSpeedDownload(w http.ResponseWriter, r *http.Request) error {
	limit := s.speed.lim.MaxBytes
	n := min(int64(2<<20), limit)
	if v := r.URL.Query().Get("bytes"); v != "" {
		k, err := strconv.ParseInt(v, 10, 64)
		if err != nil || k < 0 || k > limit {
			return badField("bytes", "must be an integer between 0 and "+strconv.FormatInt(limit, 10))
		}
		n = k
	}
	end, err := s.startSpeedTest(w, r, n)
	if err != nil {
		return err
	}
	left := n
	defer func() { end(left) }()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	// Start at a random offset so consecutive downloads differ.
	off := mrand.IntN(len(speedBlock))
	for left > 0 {
		chunk := speedBlock[off:]
		if int64(len(chunk)) > left {
			chunk = chunk[:left]
		}
		if _, err := w.Write(chunk); err != nil {
			return nil // the client went away
		}
		left -= int64(len(chunk))
		off = 0
	}
	return nil
}

func (s *Server) handleSpeedUpload(w http.ResponseWriter, r *http.Request) error {
	limit := s.speed.lim.MaxBytes
	if r.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	cost := limit // a body of unknown length may take the whole limit
	if r.ContentLength >= 0 {
		cost = r.ContentLength
	}
	end, err := s.startSpeedTest(w, r, cost)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := io.Copy(io.Discard, limitBody(w, r, limit))
	end(cost - n)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Bytes   int64   `json:"bytes"`
		Seconds float64 `json:"seconds"`
	}{n, time.Since(start).Seconds()})
	return nil
}
