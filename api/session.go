package api

import (
	"net"
	"net/http"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = service.SessionTTL

// Sign-in throttling: failures allowed per client address and per user
// name within loginWindow, after which sign-ins are refused with 429.
const (
	loginWindow       = 10 * time.Minute
	loginFailuresAddr = 20
	loginFailuresName = 10
)

// userOut is a user as the API shows it: never the password hash.
type userOut struct {
	Name      string      `json:"name"`
	Role      geo.Role    `json:"role"`
	Scope     []string    `json:"scope,omitempty"`
	Carrier   geo.Carrier `json:"carrier,omitempty"`
	CreatedAt *time.Time  `json:"created_at,omitempty"`
}

func newUserOut(u *geo.User) userOut {
	o := userOut{Name: u.Name, Role: u.Role, Scope: u.Scope, Carrier: u.Carrier}
	if !u.CreatedAt.IsZero() {
		t := u.CreatedAt.UTC()
		o.CreatedAt = &t
	}
	return o
}

// sessionOut is the reply of the session routes.
type sessionOut struct {
	User *userOut `json:"user"`
	// CSRF is the value state-changing requests with the session cookie
	// send in X-CSRF-Token.
	CSRF string `json:"csrf,omitempty"`
	Via  string `json:"via,omitempty"`
}

func (s *Server) handleSessionGet(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	if p.Anonymous() {
		return writeJSON(w, http.StatusOK, sessionOut{})
	}
	u := userOut{Name: p.User, Role: p.Role, Scope: p.Scope, Carrier: p.Carrier}
	return writeJSON(w, http.StatusOK, sessionOut{User: &u, CSRF: p.csrf, Via: p.Via})
}

// handleSessionCreate signs a user in with name and password. Unknown
// names and wrong passwords get the same reply, in the same time.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name     *string `json:"name"`
		Password *string `json:"password"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	var es geo.FieldErrors
	if in.Name == nil || *in.Name == "" {
		es = append(es, &geo.FieldError{Field: "name", Reason: "required"})
	}
	if in.Password == nil || *in.Password == "" {
		es = append(es, &geo.FieldError{Field: "password", Reason: "required"})
	}
	if len(es) > 0 {
		return &geo.Error{Kind: geo.ErrInvalid, Message: "name and password are required", Fields: es}
	}
	if es = signinFieldErrors(in.Name, in.Password); len(es) > 0 {
		return &geo.Error{Kind: geo.ErrInvalid, Message: es[0].Error(), Fields: es}
	}
	name, pw := *in.Name, *in.Password
	u, sess, secret, err := s.signIn(w, r, name, pw)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(SessionTTL.Seconds()), HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
	s.metrics.signinOK.Add(1)
	out := newUserOut(&u)
	out.CreatedAt = nil
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, sessionOut{User: &out, CSRF: sess.CSRF, Via: "session"})
}

func (s *Server) handleSessionDelete(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	if err := s.svc.SignOut(r.Context(), &p.Viewer, p.sessionHash); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isTLS reports whether the client reached us over TLS, directly or
// through a proxy that says so.
func isTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// remoteHost is the client's address without the port.
func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
