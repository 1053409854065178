package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// tokenTouchEvery is how often a token's last-used time is written.
const tokenTouchEvery = time.Minute

// UserSpec is a new user as given on the command line or in a request.
type UserSpec struct {
	Name    string
	Role    string   // admin, reviewer, staff or carrier
	Scope   []string // staff: area codes (a commune's code covers its hamlets)
	Carrier string   // carrier users: viettel, vinaphone, mobifone or vietnamobile
	// Password is the user's password; empty makes a user who signs in
	// with API tokens only.
	Password string
}

// CheckUser builds and validates the user of spec, without its password:
// the scope's codes must name areas (or their parents) the service knows.
func (s *Service) CheckUser(spec UserSpec) (geo.User, geo.FieldErrors) {
	u := geo.User{Name: spec.Name}
	var es geo.FieldErrors
	rl, err := geo.ParseRole(spec.Role)
	if err != nil {
		es = append(es, geo.AsFieldErrors(err)...)
	}
	u.Role = rl
	for _, c := range spec.Scope {
		if c = strings.TrimSpace(c); c != "" {
			u.Scope = append(u.Scope, c)
		}
	}
	if spec.Carrier != "" {
		c, err := geo.ParseCarrier(spec.Carrier)
		if err != nil || c == geo.CarrierAll {
			es = append(es, &geo.FieldError{Field: "carrier", Reason: "must be viettel, vinaphone, mobifone or vietnamobile"})
		} else {
			u.Carrier = c
		}
	}
	if err == nil {
		for _, e := range geo.AsFieldErrors(u.Validate()) {
			if e.Field != "carrier" || spec.Carrier == "" || u.Carrier != geo.CarrierUnknown {
				es = append(es, e)
			}
		}
	}
	if len(u.Scope) > 0 {
		if _, unknown := geo.ScopeAreas(s.Areas(), u.Scope); len(unknown) > 0 {
			es = append(es, &geo.FieldError{Field: "scope", Reason: "unknown area codes: " + strings.Join(unknown, ", ")})
		}
	}
	return u, es
}

// AddUser adds the user of spec, its password hashed (argon2id).
//
// Errors: an invalid field, or a password of the wrong length, matches
// ErrInvalid (a FieldErrors naming each); a name already taken is
// ErrConflict; v without ManageUsers is ErrUnauthenticated or
// ErrForbidden.
func (s *Service) AddUser(ctx context.Context, v *geo.Viewer, spec UserSpec) (geo.User, error) {
	if err := v.Check(geo.ManageUsers); err != nil {
		return geo.User{}, err
	}
	u, es := s.CheckUser(spec)
	if spec.Password != "" {
		if err := credential.ValidatePassword(spec.Password); err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
	}
	if len(es) > 0 {
		return geo.User{}, fmt.Errorf("invalid user: %w", es)
	}
	if spec.Password != "" {
		h, err := credential.HashPassword(spec.Password)
		if err != nil {
			return geo.User{}, err
		}
		u.PasswordHash = h
	}
	u.CreatedAt = s.now().UTC()
	if err := s.store.AddUser(ctx, u, s.entry(v, "user.add", u.Name, "role="+string(u.Role))); err != nil {
		if errors.Is(err, geo.ErrConflict) {
			return geo.User{}, geo.NewError(geo.ErrConflict, "a user with this name exists",
				&geo.FieldError{Field: "name", Reason: "already taken"})
		}
		return geo.User{}, err
	}
	return u, nil
}

// Users returns every user, by name.
func (s *Service) Users(ctx context.Context, v *geo.Viewer) ([]geo.User, error) {
	if err := v.Check(geo.ManageUsers); err != nil {
		return nil, err
	}
	return s.store.Users(ctx)
}

// SetPassword gives user name a new password, and in the same
// transaction ends every session of the user and revokes every API token
// of theirs, and the tokens those made: whoever had the old password may
// have made them. No session is kept, not even one of the user's own
// making the change (passwords are changed on the command line today).
//
// Errors: a password of the wrong length matches ErrInvalid; an unknown
// user is ErrNotFound; v without ManageUsers is ErrUnauthenticated or
// ErrForbidden.
func (s *Service) SetPassword(ctx context.Context, v *geo.Viewer, name, password string) error {
	if err := v.Check(geo.ManageUsers); err != nil {
		return err
	}
	if err := credential.ValidatePassword(password); err != nil {
		return err
	}
	if _, err := s.store.User(ctx, name); err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return geo.NewError(geo.ErrNotFound, "no user "+strconv.Quote(name))
		}
		return err
	}
	h, err := credential.HashPassword(password)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, name, h, s.now().UTC(), s.entry(v, "user.passwd", name, ""))
}

// CreateToken stores a new API token for user ("" for v's own) and
// returns it with its secret, which is not stored and cannot be shown
// again. The token's Parent is v's credential (geo.Viewer.Credential),
// so revoking that token revokes this one too.
//
// Errors: a label over geo.MaxLabelLen bytes or an unknown user matches
// ErrInvalid; a token for another user without ManageAnyToken is
// ErrForbidden; the public, and a v whose token was revoked or session
// ended meanwhile, is ErrUnauthenticated.
func (s *Service) CreateToken(ctx context.Context, v *geo.Viewer, user, label string) (geo.Token, string, error) {
	if err := v.Check(geo.UseTokens); err != nil {
		return geo.Token{}, "", err
	}
	if user == "" {
		user = v.User
	}
	if !v.ManagesTokensOf(user) {
		return geo.Token{}, "", geo.NewError(geo.ErrForbidden, "only an admin makes tokens for other users",
			&geo.FieldError{Field: "user", Reason: "not you"})
	}
	if len(label) > geo.MaxLabelLen {
		return geo.Token{}, "", &geo.FieldError{Field: "label", Reason: "longer than " + strconv.Itoa(geo.MaxLabelLen) + " bytes"}
	}
	if _, err := s.store.User(ctx, user); err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return geo.Token{}, "", geo.NewError(geo.ErrInvalid, "user: no such user",
				&geo.FieldError{Field: "user", Reason: "no such user"})
		}
		return geo.Token{}, "", err
	}
	secret, hash := credential.NewSecret("gmt_")
	t := geo.Token{ID: credential.NewTokenID(), User: user, Hash: hash, Label: label, CreatedAt: s.now().UTC(),
		Parent: v.Credential}
	detail := "user=" + t.User
	if t.Parent != "" {
		detail += " parent=" + t.Parent
	}
	if err := s.store.AddToken(ctx, t, s.entry(v, "token.create", t.ID, detail)); err != nil {
		return geo.Token{}, "", err
	}
	return t, secret, nil
}

// Tokens returns the API tokens of user, newest first: v's own unless v
// may manage anyone's, when user "" means every user's.
func (s *Service) Tokens(ctx context.Context, v *geo.Viewer, user string) ([]geo.Token, error) {
	if err := v.Check(geo.UseTokens); err != nil {
		return nil, err
	}
	if !v.Can(geo.ManageAnyToken) {
		user = v.User
	}
	return s.store.Tokens(ctx, user)
}

// RevokeToken revokes the token with the given ID, and every token it
// made and theirs, which stop working at once. Another user's token is
// ErrNotFound, as an unknown one, unless v may manage anyone's.
func (s *Service) RevokeToken(ctx context.Context, v *geo.Viewer, id string) error {
	if err := v.Check(geo.UseTokens); err != nil {
		return err
	}
	t, err := s.store.Token(ctx, id)
	if errors.Is(err, geo.ErrNotFound) || err == nil && !v.ManagesTokensOf(t.User) {
		return geo.NewError(geo.ErrNotFound, "no token "+strconv.Quote(id))
	}
	if err != nil {
		return err
	}
	return s.store.RevokeToken(ctx, id, s.now().UTC(), s.entry(v, "token.revoke", id, "user="+t.User))
}

// AuditLog returns up to limit entries of the audit log with IDs below
// before (0: from the newest), newest first.
func (s *Service) AuditLog(ctx context.Context, v *geo.Viewer, before int64, limit int) ([]geo.AuditEntry, error) {
	if err := v.Check(geo.ReadAudit); err != nil {
		return nil, err
	}
	return s.store.Audit(ctx, before, limit)
}

// errBadCredentials is a credential that was given but is not valid.
var errBadCredentials = geo.NewError(geo.ErrUnauthenticated, "the API token is unknown or revoked")

// TokenViewer returns the viewer of an API token's secret, and the
// token. An unknown or revoked token, or one whose user is gone, is
// ErrUnauthenticated. A use of the token is recorded at most once a
// minute.
func (s *Service) TokenViewer(ctx context.Context, secret string) (*geo.Viewer, geo.Token, error) {
	t, err := s.store.TokenByHash(ctx, credential.HashSecret(secret))
	if errors.Is(err, geo.ErrNotFound) || err == nil && !t.RevokedAt.IsZero() {
		return nil, geo.Token{}, errBadCredentials
	}
	if err != nil {
		return nil, geo.Token{}, err
	}
	u, err := s.store.User(ctx, t.User)
	if errors.Is(err, geo.ErrNotFound) {
		return nil, geo.Token{}, errBadCredentials
	}
	if err != nil {
		return nil, geo.Token{}, err
	}
	now := s.now()
	if now.Sub(t.LastUsedAt) >= tokenTouchEvery {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			return nil, geo.Token{}, err
		}
	}
	v := s.ViewerOf(&u)
	v.Via, v.Credential = "token", t.ID
	return v, t, nil
}

// SessionViewer returns the viewer of a session cookie's value, and the
// session. A value that names no session, an expired session or one
// whose user is gone gives the public and a zero Session, not an error.
func (s *Service) SessionViewer(ctx context.Context, secret string) (*geo.Viewer, geo.Session, error) {
	sess, err := s.store.Session(ctx, credential.HashSecret(secret))
	if errors.Is(err, geo.ErrNotFound) {
		return &geo.Viewer{}, geo.Session{}, nil
	}
	if err != nil {
		return nil, geo.Session{}, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return &geo.Viewer{}, geo.Session{}, nil
	}
	u, err := s.store.User(ctx, sess.User)
	if errors.Is(err, geo.ErrNotFound) {
		return &geo.Viewer{}, geo.Session{}, nil
	}
	if err != nil {
		return nil, geo.Session{}, err
	}
	v := s.ViewerOf(&u)
	v.Via, v.Credential = "session", sessionCredential(sess.Hash)
	return v, sess, nil
}

// SignIn checks a name and password and starts a session of SessionTTL
// for the user, returning it with the cookie's secret value. The session
// with hash oldHash ("" for none), which the browser held, is ended, so a
// planted cookie cannot be carried into the signed-in state. An unknown
// name, a user without a password and a wrong password are the same
// ErrUnauthenticated, answered in the same time. Failed and successful
// sign-ins are written to the audit log, from v.Remote.
//
// check, when not nil, checks the password against the user's hash (""
// for an unknown name or a user without a password, which must fail in
// the time of a real check) in place of CheckPassword: the
// HTTP server passes one that bounds how many hashes run at once. Its
// errors are returned as they are.
func (s *Service) SignIn(ctx context.Context, v *geo.Viewer, name, password, oldHash string, check func(ctx context.Context, hash, password string) (bool, error)) (geo.User, geo.Session, string, error) {
	if check == nil {
		check = CheckPassword
	}
	u, err := s.store.User(ctx, name)
	switch {
	case errors.Is(err, geo.ErrNotFound):
		u = geo.User{}
	case err != nil:
		return geo.User{}, geo.Session{}, "", err
	}
	ok, err := check(ctx, u.PasswordHash, password)
	if err != nil {
		return geo.User{}, geo.Session{}, "", err
	}
	if !ok {
		if r := []rune(name); len(r) > geo.MaxUserNameLen {
			name = string(r[:geo.MaxUserNameLen]) // the audit row stays small
		}
		s.audit(ctx, &geo.Viewer{Remote: v.Remote}, "session.fail", name, "")
		return geo.User{}, geo.Session{}, "", geo.NewError(geo.ErrUnauthenticated, "name or password is wrong")
	}
	if oldHash != "" {
		if err := s.store.DeleteSession(ctx, oldHash, geo.AuditEntry{}); err != nil {
			return geo.User{}, geo.Session{}, "", err
		}
	}
	now := s.now()
	secret, hash := credential.NewSecret("")
	csrf, _ := credential.NewSecret("")
	sess := geo.Session{Hash: hash, User: u.Name, CSRF: csrf, CreatedAt: now.UTC(), ExpiresAt: now.Add(SessionTTL).UTC()}
	e := s.entry(&geo.Viewer{User: u.Name, Via: "session", Remote: v.Remote}, "session.create", u.Name, "")
	if err := s.store.AddSession(ctx, sess, e); err != nil {
		return geo.User{}, geo.Session{}, "", err
	}
	return u, sess, secret, nil
}

// SignOut ends the session with the given hash, v's; "" does nothing.
func (s *Service) SignOut(ctx context.Context, v *geo.Viewer, hash string) error {
	if hash == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, hash, s.entry(v, "session.delete", v.User, ""))
}

// sessionCredential names a session as the parent of the tokens it
// makes: the first 16 hex digits of its hash, enough to tell sessions
// apart and too few to stand for the credential.
func sessionCredential(hash string) string { return "session:" + hash[:min(16, len(hash))] }

// entry is the audit entry of a write by v, which the store writes in
// the write's own transaction.
func (s *Service) entry(v *geo.Viewer, action, target, detail string) geo.AuditEntry {
	return geo.AuditEntry{At: s.now().UTC(), Actor: v.User, Via: v.Via, Action: action,
		Target: target, Remote: v.Remote, Detail: detail}
}

// audit records an event that writes nothing else (a failed sign-in).
// A failure here is logged, not returned.
func (s *Service) audit(ctx context.Context, v *geo.Viewer, action, target, detail string) {
	if err := s.store.AddAudit(context.WithoutCancel(ctx), s.entry(v, action, target, detail)); err != nil {
		s.log.ErrorContext(ctx, "audit", slog.String("action", action), slog.Any("err", err))
	}
}

// CheckPassword checks password against hash; an empty hash spends the
// time of a check on a dummy hash and fails.
func CheckPassword(_ context.Context, hash, password string) (bool, error) {
	if hash == "" {
		return credential.CheckNoPassword(password), nil
	}
	return credential.CheckPassword(hash, password)
}

// ThrottleStore returns the store's keeper of the sign-in throttle's
// counts, nil when the store keeps none: over a store several replicas
// share, their throttles count the same failures.
func (s *Service) ThrottleStore() geo.ThrottleStore {
	ts, _ := s.store.(geo.ThrottleStore)
	return ts
}
