package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/gapmap/gapmap/geo"
)

// Principal is who a request acts for: the viewer (a signed-in user,
// through a session cookie or an API token, or the public, the zero
// value) and what HTTP needs of its credentials.
type Principal struct {
	geo.Viewer

	// csrf is the session's CSRF token; tokenID the API token's ID.
	csrf        string
	sessionHash string
	tokenID     string
}

type principalKey struct{}

// PrincipalFrom returns the request's principal; the public when the
// request went through no authentication.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return &Principal{}
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "gapmap_session"

// csrfHeader carries the session's CSRF token on state-changing requests.
const csrfHeader = "X-CSRF-Token"

// errUnauthenticated is an Authorization header that is not a bearer
// token.
var errUnauthenticated = geo.NewError(geo.ErrUnauthenticated, "the API token is unknown or revoked")

// authenticate finds the request's principal from its bearer token or
// session cookie. A bad bearer token is refused at once; a stale session
// cookie makes the request anonymous.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principalOf(r)
		if errors.Is(err, geo.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gapmap", error="invalid_token"`)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func (s *Server) principalOf(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, errUnauthenticated
		}
		v, t, err := s.svc.TokenViewer(ctx, tok)
		if err != nil {
			return nil, err
		}
		p := &Principal{Viewer: *v, tokenID: t.ID}
		p.Remote = remoteHost(r)
		return p, nil
	}
	p := &Principal{}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		v, sess, err := s.svc.SessionViewer(ctx, c.Value)
		if err != nil {
			return nil, err
		}
		p.Viewer, p.csrf, p.sessionHash = *v, sess.CSRF, sess.Hash
	}
	p.Remote = remoteHost(r)
	return p, nil
}

// checkCSRF reports whether a state-changing request made with a session
// cookie carries the session's CSRF token. Requests with a bearer token
// or none carry no ambient authority and pass.
func checkCSRF(r *http.Request, p *Principal) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if p.Via != "session" {
		return true
	}
	got := r.Header.Get(csrfHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) == 1
}

// guard wraps h with the route's permission check (401 for the public,
// 403 for a signed-in user; see geo.Viewer.Check) and, for
// state-changing requests made with a session, the CSRF check.
func (s *Server) guard(perm geo.Permission, csrf bool, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := PrincipalFrom(r.Context())
		if err := p.Check(perm); err != nil {
			return err
		}
		if csrf && !checkCSRF(r, p) {
			return geo.NewError(geo.ErrForbidden, "missing or wrong "+csrfHeader+" header",
				&geo.FieldError{Field: csrfHeader, Reason: "must be the csrf value of GET /api/v1/session"})
		}
		return h(w, r)
	}
}

// securityHeaders sets the headers every response carries: a content
// security policy without inline script, no MIME sniffing, no framing.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data: https://tile.openstreetmap.org https://*.tile.openstreetmap.org; " +
		"connect-src 'self'; worker-src 'self'; manifest-src 'self'; " +
		"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
