package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

// decodeJSONObject reads a JSON object body into v. A body that is not
// one is an error naming the field at fault.
func (s *Server) decodeJSONObject(w http.ResponseWriter, r *http.Request, v any) error {
	if mediaType(r) != "application/json" {
		return unsupportedMedia("application/json")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return geo.NewError(geo.ErrInvalid, te.Field+": wrong type",
				&geo.FieldError{Field: te.Field, Reason: "must be a JSON " + te.Type.Kind().String()})
		}
		reason := err.Error()
		if f, ok := strings.CutPrefix(reason, "json: unknown field "); ok {
			return badField(strings.Trim(f, `"`), "unknown field")
		}
		return geo.NewError(geo.ErrInvalid, "malformed JSON",
			&geo.FieldError{Field: "body", Reason: "not a JSON object: " + strings.TrimPrefix(reason, "json: ")})
	}
	return nil
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.svc.Users(r.Context(), &PrincipalFrom(r.Context()).Viewer)
	if err != nil {
		return err
	}
	out := make([]userOut, len(us))
	for i := range us {
		out[i] = newUserOut(&us[i])
	}
	return writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// handleUserCreate adds a user (admins only).
func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Scope    []string `json:"scope"`
		Carrier  string   `json:"carrier"`
		Password string   `json:"password"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	u, err := s.svc.AddUser(r.Context(), &PrincipalFrom(r.Context()).Viewer,
		service.UserSpec{Name: in.Name, Role: in.Role, Scope: in.Scope, Carrier: in.Carrier, Password: in.Password})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+urlPathEscape(u.Name))
	return writeJSON(w, http.StatusCreated, newUserOut(&u))
}

// tokenOut is a token as the API shows it; Token (the secret) only in
// the reply that creates it.
type tokenOut struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Label      string     `json:"label,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// Parent is what made the token (see geo.Token.Parent).
	Parent string `json:"parent,omitempty"`
	Token  string `json:"token,omitempty"`
}

func newTokenOut(t *geo.Token) tokenOut {
	o := tokenOut{ID: t.ID, User: t.User, Label: t.Label, CreatedAt: t.CreatedAt.UTC(), Parent: t.Parent}
	if !t.LastUsedAt.IsZero() {
		v := t.LastUsedAt.UTC()
		o.LastUsedAt = &v
	}
	if !t.RevokedAt.IsZero() {
		v := t.RevokedAt.UTC()
		o.RevokedAt = &v
	}
	return o
}

// handleTokens lists the caller's tokens; an admin sees everyone's, or
// one user's with ?user=.
func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.Tokens(r.Context(), &PrincipalFrom(r.Context()).Viewer, r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	out := make([]tokenOut, len(ts))
	for i := range ts {
		out[i] = newTokenOut(&ts[i])
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// handleTokenCreate makes an API token for the caller, or for any user
// when an admin names one. The secret is in this reply only.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		User  string `json:"user"`
		Label string `json:"label"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	t, secret, err := s.svc.CreateToken(r.Context(), &PrincipalFrom(r.Context()).Viewer, in.User, in.Label)
	if err != nil {
		return err
	}
	out := newTokenOut(&t)
	out.Token = secret
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, out)
}

// handleTokenRevoke revokes a token of the caller's, or any token for an
// admin; others' tokens are reported as not found.
func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.RevokeToken(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAudit pages through the audit log, newest first.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 100
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be an integer from 1 to 1000")
		}
		limit = n
	}
	var before int64
	if q.Has("before") {
		n, err := strconv.ParseInt(q.Get("before"), 10, 64)
		if err != nil || n < 1 {
			return badField("before", "must be a positive entry id")
		}
		before = n
	}
	es, err := s.svc.AuditLog(r.Context(), &PrincipalFrom(r.Context()).Viewer, before, limit)
	if err != nil {
		return err
	}
	if es == nil {
		es = []geo.AuditEntry{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

// handleReview records a reviewer's verdict on a report. A rejected
// report leaves the analysis; confirming it again brings it back.
func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Status  string `json:"status"`
		Comment string `json:"comment"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	rv, err := s.svc.Review(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"], geo.ReviewStatus(in.Status), in.Comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rv)
}
