package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
	"github.com/gorilla/mux"
)

// decodeJSONObject reads a JSON object body into v, writing a problem and
// returning false when the body is not one.
func (s *Server) decodeJSONObject(w http.ResponseWriter, r *http.Request, v any) bool {
	if mediaType(r) != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "send application/json",
			fieldError{Field: "Content-Type", Reason: "must be application/json"})
		return false
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			writeProblem(w, http.StatusBadRequest, te.Field+": wrong type", fieldError{Field: te.Field, Reason: "must be a JSON " + te.Type.Kind().String()})
			return false
		}
		reason := err.Error()
		if f, ok := strings.CutPrefix(reason, "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			writeProblem(w, http.StatusBadRequest, f+": unknown field", fieldError{Field: f, Reason: "unknown field"})
			return false
		}
		writeProblem(w, http.StatusBadRequest, "malformed JSON", fieldError{Field: "body", Reason: "not a JSON object: " + strings.TrimPrefix(reason, "json: ")})
		return false
	}
	return true
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.store.Users(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]userOut, len(us))
	for i := range us {
		out[i] = newUserOut(&us[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// handleUserCreate adds a user (admins only).
func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Scope    []string `json:"scope"`
		Carrier  string   `json:"carrier"`
		Password string   `json:"password"`
	}
	if !s.decodeJSONObject(w, r, &in) {
		return
	}
	u, es := s.newUser(in.Name, in.Role, in.Scope, in.Carrier)
	if in.Password != "" {
		if err := credential.ValidatePassword(in.Password); err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
	}
	if len(es) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid user: "+es.Error(), fieldErrors(es)...)
		return
	}
	if in.Password != "" {
		h, err := credential.HashPassword(in.Password)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		u.PasswordHash = h
	}
	u.CreatedAt = s.now().UTC()
	if err := s.store.AddUser(r.Context(), u); err != nil {
		if errors.Is(err, geo.ErrConflict) {
			writeProblem(w, http.StatusConflict, "a user with this name exists", fieldError{Field: "name", Reason: "already taken"})
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "user.add", u.Name, "role="+string(u.Role))
	w.Header().Set("Location", "/api/v1/users/"+urlPathEscape(u.Name))
	writeJSON(w, http.StatusCreated, newUserOut(&u))
}

// NewUser builds and validates a user from its command-line or API
// fields: the scope's codes must name areas (or their parents) in areas.
func NewUser(areas []geo.Area, name, role string, scope []string, carrier string) (geo.User, geo.FieldErrors) {
	u := geo.User{Name: name}
	var es geo.FieldErrors
	rl, err := geo.ParseRole(role)
	if err != nil {
		es = append(es, geo.AsFieldErrors(err)...)
	}
	u.Role = rl
	for _, c := range scope {
		if c = strings.TrimSpace(c); c != "" {
			u.Scope = append(u.Scope, c)
		}
	}
	if carrier != "" {
		c, err := geo.ParseCarrier(carrier)
		if err != nil || c == geo.CarrierAll {
			es = append(es, &geo.FieldError{Field: "carrier", Reason: "must be viettel, vinaphone, mobifone or vietnamobile"})
		} else {
			u.Carrier = c
		}
	}
	if err == nil {
		for _, e := range geo.AsFieldErrors(u.Validate()) {
			if e.Field != "carrier" || carrier == "" || u.Carrier != geo.CarrierUnknown {
				es = append(es, e)
			}
		}
	}
	if len(u.Scope) > 0 {
		if _, unknown := geo.ScopeAreas(areas, u.Scope); len(unknown) > 0 {
			es = append(es, &geo.FieldError{Field: "scope", Reason: "unknown area codes: " + strings.Join(unknown, ", ")})
		}
	}
	return u, es
}

func (s *Server) newUser(name, role string, scope []string, carrier string) (geo.User, geo.FieldErrors) {
	return NewUser(s.areas, name, role, scope, carrier)
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
	Token      string     `json:"token,omitempty"`
}

func newTokenOut(t *geo.Token) tokenOut {
	o := tokenOut{ID: t.ID, User: t.User, Label: t.Label, CreatedAt: t.CreatedAt.UTC()}
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
func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	user := p.User
	if p.Role == geo.RoleAdmin {
		user = r.URL.Query().Get("user")
	}
	ts, err := s.store.Tokens(r.Context(), user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]tokenOut, len(ts))
	for i := range ts {
		out[i] = newTokenOut(&ts[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// handleTokenCreate makes an API token for the caller, or for any user
// when an admin names one. The secret is in this reply only.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	var in struct {
		User  string `json:"user"`
		Label string `json:"label"`
	}
	if !s.decodeJSONObject(w, r, &in) {
		return
	}
	if in.User == "" {
		in.User = p.User
	}
	if in.User != p.User && p.Role != geo.RoleAdmin {
		writeProblem(w, http.StatusForbidden, "only an admin makes tokens for other users", fieldError{Field: "user", Reason: "not you"})
		return
	}
	if len(in.Label) > geo.MaxLabelLen {
		fieldProblem(w, "label", "longer than "+strconv.Itoa(geo.MaxLabelLen)+" bytes")
		return
	}
	t, secret, err := CreateToken(r.Context(), s.store, in.User, in.Label, s.now())
	if errors.Is(err, geo.ErrNotFound) {
		writeProblem(w, http.StatusBadRequest, "user: no such user", fieldError{Field: "user", Reason: "no such user"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "token.create", t.ID, "user="+t.User)
	out := newTokenOut(&t)
	out.Token = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// CreateToken stores a new API token for user and returns it with its
// secret, which is not stored and cannot be shown again.
func CreateToken(ctx context.Context, store geo.Accounts, user, label string, now time.Time) (geo.Token, string, error) {
	if _, err := store.User(ctx, user); err != nil {
		return geo.Token{}, "", err
	}
	secret, hash := credential.NewSecret("gmt_")
	t := geo.Token{ID: credential.NewTokenID(), User: user, Hash: hash, Label: label, CreatedAt: now.UTC()}
	if err := store.AddToken(ctx, t); err != nil {
		return geo.Token{}, "", err
	}
	return t, secret, nil
}

// handleTokenRevoke revokes a token of the caller's, or any token for an
// admin; others' tokens are reported as not found.
func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	id := mux.Vars(r)["id"]
	t, err := s.store.Token(r.Context(), id)
	if errors.Is(err, geo.ErrNotFound) || err == nil && t.User != p.User && p.Role != geo.RoleAdmin {
		writeProblem(w, http.StatusNotFound, "no token "+strconv.Quote(id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.RevokeToken(r.Context(), id, s.now().UTC()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "token.revoke", id, "user="+t.User)
	w.WriteHeader(http.StatusNoContent)
}

// handleAudit pages through the audit log, newest first.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > 1000 {
			fieldProblem(w, "limit", "must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	var before int64
	if q.Has("before") {
		n, err := strconv.ParseInt(q.Get("before"), 10, 64)
		if err != nil || n < 1 {
			fieldProblem(w, "before", "must be a positive entry id")
			return
		}
		before = n
	}
	es, err := s.store.Audit(r.Context(), before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if es == nil {
		es = []geo.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

// handleReview records a reviewer's verdict on a report. A rejected
// report leaves the analysis; confirming it again brings it back.
func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	id := mux.Vars(r)["id"]
	var in struct {
		Status  string `json:"status"`
		Comment string `json:"comment"`
	}
	if !s.decodeJSONObject(w, r, &in) {
		return
	}
	st, err := geo.ParseReviewStatus(in.Status)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Comment) > geo.MaxNoteLen {
		fieldProblem(w, "comment", "longer than "+strconv.Itoa(geo.MaxNoteLen)+" bytes")
		return
	}
	rv := geo.Review{ReportID: id, Status: st, Reviewer: p.User, At: s.now().UTC(), Comment: in.Comment}
	if err := s.store.SetReview(r.Context(), rv); err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			writeProblem(w, http.StatusNotFound, "no report with id "+strconv.Quote(id))
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "report.review", id, "status="+string(st))
	s.setRejected(id, st == geo.ReviewRejected)
	writeJSON(w, http.StatusOK, rv)
}
