package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

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

func (s *Server) handleSessionGet(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	if p.Anonymous() {
		writeJSON(w, http.StatusOK, sessionOut{})
		return
	}
	u := userOut{Name: p.User, Role: p.Role, Scope: p.Scope, Carrier: p.Carrier}
	writeJSON(w, http.StatusOK, sessionOut{User: &u, CSRF: p.csrf, Via: p.Via})
}

// handleSessionCreate signs a user in with name and password. Unknown
// names and wrong passwords get the same reply, in the same time; see
// checkSignIn for the limits.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     *string `json:"name"`
		Password *string `json:"password"`
	}
	if !s.decodeJSONObject(w, r, &in) {
		return
	}
	var es []fieldError
	if in.Name == nil || *in.Name == "" {
		es = append(es, fieldError{Field: "name", Reason: "required"})
	}
	if in.Password == nil || *in.Password == "" {
		es = append(es, fieldError{Field: "password", Reason: "required"})
	}
	es = append(es, signinFieldErrors(in.Name, in.Password)...)
	if len(es) > 0 {
		writeProblem(w, http.StatusBadRequest, es[0].Field+": "+es[0].Reason, es...)
		return
	}
	u, ok := s.checkSignIn(w, r, *in.Name, *in.Password)
	if !ok {
		return
	}
	ctx, now := r.Context(), s.now()
	// A new session for every sign-in; one the browser held is ended, so
	// a planted cookie cannot be carried into the signed-in state.
	if old := PrincipalFrom(ctx); old.sessionHash != "" {
		if err := s.store.DeleteSession(ctx, old.sessionHash); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	secret, hash := credential.NewSecret("")
	csrf, _ := credential.NewSecret("")
	sess := geo.Session{Hash: hash, User: u.Name, CSRF: csrf, CreatedAt: now.UTC(), ExpiresAt: now.Add(SessionTTL).UTC()}
	if err := s.store.AddSession(ctx, sess); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(SessionTTL.Seconds()), HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
	s.metrics.signinOK.Add(1)
	s.auditAs(r, u.Name, "session", "session.create", u.Name, "")
	out := newUserOut(&u)
	out.CreatedAt = nil
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sessionOut{User: &out, CSRF: csrf, Via: "session"})
}

func (s *Server) handleSessionDelete(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p.sessionHash != "" {
		if err := s.store.DeleteSession(r.Context(), p.sessionHash); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.audit(r, "session.delete", p.User, "")
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
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

// audit records a write by the request's principal.
func (s *Server) audit(r *http.Request, action, target, detail string) {
	p := PrincipalFrom(r.Context())
	s.auditAs(r, p.User, p.Via, action, target, detail)
}

// auditAs records a write by the named actor. The write it records is
// already committed, so a failure here is logged, not returned.
func (s *Server) auditAs(r *http.Request, actor, via, action, target, detail string) {
	e := geo.AuditEntry{At: s.now().UTC(), Actor: actor, Via: via, Action: action,
		Target: target, Remote: remoteHost(r), Detail: detail}
	if err := s.store.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
		s.log.ErrorContext(r.Context(), "audit", slog.String("action", action), slog.Any("err", err))
	}
}
