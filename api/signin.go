package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// SignInLimits bound the work that sign-ins with a password make the
// server do. Each password check is an argon2id hash holding 19 MiB for a
// few tens of milliseconds, so the number of checks running at once
// bounds the memory sign-ins take: Hashes × 19 MiB. The zero value means
// the defaults.
type SignInLimits struct {
	// Hashes is how many password checks may run at once (default twice
	// GOMAXPROCS).
	Hashes int
	// Queue is how many sign-ins may wait for a check to end (default 8
	// per check slot; negative: none). A sign-in that finds the queue full
	// is answered 503.
	Queue int
	// Wait is how long a sign-in waits in the queue before it is answered
	// 503 (default 1.5 s).
	Wait time.Duration
}

// The longest sign-in fields accepted. Names are refused past the longest
// user name (geo.MaxUserNameLen characters); passwords past 1,024 bytes,
// room for geo.MaxPasswordLen characters of up to 4 bytes each.
const (
	maxSigninName     = geo.MaxUserNameLen
	maxSigninPassword = geo.MaxPasswordLen * utf8.UTFMax
)

// signinFieldErrors checks the lengths of a sign-in's fields (nil when
// absent) before anything else is done with them.
func signinFieldErrors(name, pw *string) geo.FieldErrors {
	var es geo.FieldErrors
	// The byte test first: a name of megabytes is not counted rune by rune.
	if name != nil && (len(*name) > maxSigninName*utf8.UTFMax || utf8.RuneCountInString(*name) > maxSigninName) {
		es = append(es, &geo.FieldError{Field: "name", Reason: fmt.Sprintf("longer than %d characters", maxSigninName)})
	}
	if pw != nil && len(*pw) > maxSigninPassword {
		es = append(es, &geo.FieldError{Field: "password", Reason: fmt.Sprintf("longer than %d bytes", maxSigninPassword)})
	}
	return es
}

// signinState is a server's sign-in state: the gate over password checks
// and the throttle of failures.
type signinState struct {
	slots    chan struct{} // one per check running
	queue    chan struct{} // one per sign-in waiting for a slot
	wait     time.Duration
	throttle signinThrottle
	// hashHook, when set (by tests, before any request), is called before
	// each password check with a slot held.
	hashHook func()
}

func newSigninState(l SignInLimits) *signinState {
	if l.Hashes <= 0 {
		l.Hashes = 2 * runtime.GOMAXPROCS(0)
	}
	switch {
	case l.Queue == 0:
		l.Queue = 8 * l.Hashes
	case l.Queue < 0:
		l.Queue = 0
	}
	if l.Wait <= 0 {
		l.Wait = 1500 * time.Millisecond
	}
	return &signinState{slots: make(chan struct{}, l.Hashes), queue: make(chan struct{}, l.Queue), wait: l.Wait}
}

// errSigninBusy is a sign-in that found no slot for its password check.
var errSigninBusy = errors.New("api: too many sign-ins at once")

// acquire takes a slot for one password check, waiting in the queue for
// at most wait. It returns errSigninBusy when the queue is full or the
// wait ran out, and ctx's error when the client went away.
func (g *signinState) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.queue <- struct{}{}:
	default:
		return errSigninBusy
	}
	defer func() { <-g.queue }()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errSigninBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *signinState) release() { <-g.slots }

// checkPassword checks pw against hash within a slot; an empty hash (an
// unknown name, or a user without a password) spends the same time on a
// dummy hash and fails.
func (s *Server) checkPassword(ctx context.Context, hash, pw string) (bool, error) {
	if err := s.signin.acquire(ctx); err != nil {
		return false, err
	}
	defer s.signin.release()
	s.metrics.signinHashes.Add(1)
	if s.signin.hashHook != nil {
		s.signin.hashHook()
	}
	return service.CheckPassword(ctx, hash, pw)
}

// signIn signs r's client in as name with password pw: throttled before
// the password is hashed (429), hashed in a bounded number of slots (503
// when none is free soon), and a new session made when they match (see
// service.SignIn). An unknown name and a wrong password get the same
// answer in the same time.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, name, pw string) (geo.User, geo.Session, string, error) {
	ctx := r.Context()
	keys := newThrottleKeys(throttleAddr(remoteHost(r)), name)
	if err := s.signin.throttle.load(ctx, s.svc.Now(), keys); err != nil {
		return geo.User{}, geo.Session{}, "", err
	}
	wait, delay := s.signin.throttle.reserve(s.svc.Now(), keys)
	if wait > 0 {
		s.metrics.signinThrottled.Add(1)
		setRetryAfter(w, wait)
		return geo.User{}, geo.Session{}, "", geo.NewError(errTooManyRequests, "too many failed sign-ins; try again later")
	}
	result := unchecked
	defer func() {
		now := s.svc.Now()
		s.signin.throttle.release(now, keys, result)
		// Counted even when the client went away once its password was
		// checked.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.signin.throttle.record(ctx, now, keys, result); err != nil {
			s.log.Error("counting a sign-in in the store failed", slog.Any("err", err))
		}
	}()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return geo.User{}, geo.Session{}, "", ctx.Err() // no one to answer
		}
	}
	p := PrincipalFrom(ctx)
	u, sess, secret, err := s.svc.SignIn(ctx, &p.Viewer, name, pw, p.sessionHash, s.checkPassword)
	switch {
	case errors.Is(err, errSigninBusy):
		s.metrics.signinBusy.Add(1)
		setRetryAfter(w, s.signin.wait)
		return geo.User{}, geo.Session{}, "", geo.NewError(errUnavailable, "too many sign-ins at once; try again shortly")
	case errors.Is(err, geo.ErrUnauthenticated):
		result = failed
		s.metrics.signinFailed.Add(1)
	case err == nil:
		result = succeeded
	}
	return u, sess, secret, err
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}
