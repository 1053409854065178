package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
)

// Store implements the accounts contract as well.
var _ geo.Accounts = (*Store)(nil)

// Limits on how many audit entries one Audit call returns.
const (
	minAuditLimit = 1
	maxAuditLimit = 1000
)

// utcLayout is RFC 3339 in UTC with exactly nine fraction digits. Unlike
// time.RFC3339Nano, which drops trailing zeros, it has a fixed width, so
// the text sorts in time order (ORDER BY created_at, max(...)) and
// time.RFC3339Nano still parses it.
const utcLayout = "2006-01-02T15:04:05.000000000Z"

// timeUTC is t in utcLayout, or NULL when t is zero.
func timeUTC(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(utcLayout)
}

// parseUTC reads a time written by timeUTC (or any RFC 3339 time) back in
// UTC; NULL is the zero time.
func parseUTC(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// AddUser validates u and stores it with the audit entry, in one
// transaction. An invalid user is the error from u.Validate (matching
// geo.ErrInvalid); a name already taken matches geo.ErrConflict. A zero
// CreatedAt is stored as NULL.
func (s *Store) AddUser(ctx context.Context, u geo.User, audit geo.AuditEntry) error {
	if err := u.Validate(); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, scope, carrier, password_hash, created_at)
  VALUES (?, ?, ?, ?, ?, ?)`,
			u.Name, string(u.Role), strings.Join(u.Scope, ","), u.Carrier.String(), u.PasswordHash, timeUTC(u.CreatedAt))
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if isUnique(err) {
		return fmt.Errorf("gpkg: add user %q: name taken: %w", u.Name, geo.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("gpkg: add user %q: %w", u.Name, err)
	}
	return nil
}

const userColumns = `name, role, scope, carrier, password_hash, created_at`

// User returns the user with the given name, or an error matching
// geo.ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (geo.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return geo.User{}, fmt.Errorf("gpkg: user %q: %w", name, geo.ErrNotFound)
	}
	if err != nil {
		return geo.User{}, fmt.Errorf("gpkg: user %q: %w", name, err)
	}
	return u, nil
}

// Users returns every user, ordered by name (byte order).
func (s *Store) Users(ctx context.Context) ([]geo.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: users: %w", err)
	}
	defer rows.Close()
	var out []geo.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("gpkg: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: users: %w", err)
	}
	return out, nil
}

// SetPassword replaces the password hash of the named user and, in the
// same transaction, deletes the user's sessions, revokes at at every
// token of the user's and every token those made (see RevokeToken), and
// writes the audit entry. An unknown user matches geo.ErrNotFound and a
// zero at geo.ErrInvalid.
func (s *Store) SetPassword(ctx context.Context, name, hash string, at time.Time, audit geo.AuditEntry) error {
	if at.IsZero() {
		return &geo.FieldError{Field: "at", Reason: "required"}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name)
		if err != nil {
			return err
		}
		if err := mustAffect(res, geo.ErrNotFound); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name); err != nil {
			return err
		}
		if err := revokeTree(ctx, tx, `SELECT id FROM tokens WHERE user = ?1`, name, at); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: set password of %q: %w", name, err)
	}
	return nil
}

// scanUser reads the userColumns of one row. Scope is stored as its codes
// joined by commas (geo.User.Validate forbids commas in a code) and an
// empty scope as "", read back as nil.
func scanUser(row interface{ Scan(...any) error }) (geo.User, error) {
	var (
		u              geo.User
		role, scope, c string
		created        sql.NullString
	)
	if err := row.Scan(&u.Name, &role, &scope, &c, &u.PasswordHash, &created); err != nil {
		return u, err
	}
	var err error
	if u.Role, err = geo.ParseRole(role); err != nil {
		return u, fmt.Errorf("user %q: %w", u.Name, err)
	}
	if scope != "" {
		u.Scope = strings.Split(scope, ",")
	}
	if c != "" {
		if u.Carrier, err = geo.ParseCarrier(c); err != nil {
			return u, fmt.Errorf("user %q: carrier: %w", u.Name, err)
		}
	}
	if u.CreatedAt, err = parseUTC(created); err != nil {
		return u, fmt.Errorf("user %q: created_at: %w", u.Name, err)
	}
	return u, nil
}

// AddToken stores t with the audit entry, in one transaction. The ID and
// hash are required and the label is at most geo.MaxLabelLen characters
// (errors matching geo.ErrInvalid); an unknown user matches
// geo.ErrNotFound, and an ID or hash already stored geo.ErrConflict. A
// Parent that is a token not stored or revoked, or a session not stored
// or expired at t.CreatedAt, matches geo.ErrUnauthenticated: checked in
// the transaction that stores t, so a revocation that commits first
// keeps t out and one that commits after revokes it too.
func (s *Store) AddToken(ctx context.Context, t geo.Token, audit geo.AuditEntry) error {
	var es geo.FieldErrors
	if t.ID == "" {
		es = append(es, &geo.FieldError{Field: "id", Reason: "required"})
	}
	if t.Hash == "" {
		es = append(es, &geo.FieldError{Field: "hash", Reason: "required"})
	}
	if utf8.RuneCountInString(t.Label) > geo.MaxLabelLen {
		es = append(es, &geo.FieldError{Field: "label", Reason: fmt.Sprintf("longer than %d characters", geo.MaxLabelLen)})
	}
	if err := es.Err(); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, t.User); err != nil {
			return err
		}
		if err := parentAlive(ctx, tx, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.User, t.Hash, t.Label, timeUTC(t.CreatedAt), timeUTC(t.LastUsedAt), timeUTC(t.RevokedAt), t.Parent)
		if isUnique(err) {
			return fmt.Errorf("id or hash already stored: %w", geo.ErrConflict)
		}
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: add token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, user, hash, label, created_at, last_used_at, revoked_at, parent`

// errParentGone is a token's parent credential that no longer
// authenticates.
var errParentGone = geo.NewError(geo.ErrUnauthenticated, "the credential making the token was revoked or has ended")

// parentAlive returns errParentGone unless t's parent, a token or a
// session, still authenticates; the command line and tokens without a
// recorded parent pass.
func parentAlive(ctx context.Context, tx *sql.Tx, t geo.Token) error {
	var n int
	var err error
	switch sess, isSession := strings.CutPrefix(t.Parent, "session:"); {
	case t.Parent == "" || t.Parent == "cli":
		return nil
	case isSession:
		// Times are fixed-width UTC text, so they compare as strings.
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE substr(hash, 1, 16) = ?1
  AND (?2 IS NULL OR expires_at > ?2)`, sess, timeUTC(t.CreatedAt)).Scan(&n)
	default:
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE id = ? AND revoked_at IS NULL`, t.Parent).Scan(&n)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return errParentGone
	}
	return nil
}

// revokeTree revokes at at the tokens that roots (a query of token IDs
// with one parameter, arg) selects and every token made by one of them,
// down the Parent links; tokens already revoked keep their time.
func revokeTree(ctx context.Context, tx *sql.Tx, roots string, arg any, at time.Time) error {
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE tree(id) AS (
    `+roots+`
    UNION SELECT t.id FROM tokens t JOIN tree ON t.parent = tree.id
  )
  UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id IN (SELECT id FROM tree)`, arg, timeUTC(at))
	return err
}

// TokenByHash returns the token whose secret has the given hash, revoked
// or not, or an error matching geo.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (geo.Token, error) {
	t, err := scanToken(s.rdb.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a credential: leave it out of the message.
		return geo.Token{}, fmt.Errorf("gpkg: token by hash: %w", geo.ErrNotFound)
	}
	if err != nil {
		return geo.Token{}, fmt.Errorf("gpkg: token by hash: %w", err)
	}
	return t, nil
}

// Token returns the token with the given ID, or an error matching
// geo.ErrNotFound.
func (s *Store) Token(ctx context.Context, id string) (geo.Token, error) {
	t, err := scanToken(s.rdb.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return geo.Token{}, fmt.Errorf("gpkg: token %q: %w", id, geo.ErrNotFound)
	}
	if err != nil {
		return geo.Token{}, fmt.Errorf("gpkg: token %q: %w", id, err)
	}
	return t, nil
}

// Tokens returns the tokens of user, or of every user when user is "",
// newest (by CreatedAt) first; tokens created at the same time come in
// reverse insertion order. An unknown user matches geo.ErrNotFound.
func (s *Store) Tokens(ctx context.Context, user string) ([]geo.Token, error) {
	out, err := s.tokens(ctx, user)
	if err == nil && len(out) == 0 && user != "" {
		err = userExists(ctx, s.db, user)
	}
	if err != nil {
		return nil, fmt.Errorf("gpkg: tokens of %q: %w", user, err)
	}
	return out, nil
}

func (s *Store) tokens(ctx context.Context, user string) ([]geo.Token, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens
  WHERE ?1 = '' OR user = ?1 ORDER BY created_at DESC, rowid DESC`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []geo.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken marks the token revoked at at, and every token it made and
// theirs (through Parent), and writes the audit entry, in one
// transaction. A token already revoked keeps its first revocation time.
// An unknown ID matches geo.ErrNotFound and a zero at geo.ErrInvalid.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, audit geo.AuditEntry) error {
	if at.IsZero() {
		return &geo.FieldError{Field: "at", Reason: "required"}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return geo.ErrNotFound
		}
		if err := revokeTree(ctx, tx, `SELECT ?1`, id, at); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: revoke token %q: %w", id, err)
	}
	return nil
}

// TouchToken records a use of the token at at. The latest use wins, so
// touches that commit out of order never move LastUsedAt back. An unknown
// ID matches geo.ErrNotFound and a zero at geo.ErrInvalid.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return &geo.FieldError{Field: "at", Reason: "required"}
	}
	// utcLayout has a fixed width, so max compares times.
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = max(coalesce(last_used_at, ?1), ?1) WHERE id = ?2`,
		timeUTC(at), id)
	if err == nil {
		err = mustAffect(res, geo.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("gpkg: touch token %q: %w", id, err)
	}
	return nil
}

// scanToken reads the tokenColumns of one row.
func scanToken(row interface{ Scan(...any) error }) (geo.Token, error) {
	var (
		t                      geo.Token
		created, used, revoked sql.NullString
	)
	if err := row.Scan(&t.ID, &t.User, &t.Hash, &t.Label, &created, &used, &revoked, &t.Parent); err != nil {
		return t, err
	}
	var err error
	if t.CreatedAt, err = parseUTC(created); err != nil {
		return t, fmt.Errorf("token %q: created_at: %w", t.ID, err)
	}
	if t.LastUsedAt, err = parseUTC(used); err != nil {
		return t, fmt.Errorf("token %q: last_used_at: %w", t.ID, err)
	}
	if t.RevokedAt, err = parseUTC(revoked); err != nil {
		return t, fmt.Errorf("token %q: revoked_at: %w", t.ID, err)
	}
	return t, nil
}

// AddSession stores a new session with the audit entry, in one
// transaction, and removes the sessions that expired before it was
// created. An empty hash matches geo.ErrInvalid, an unknown user
// geo.ErrNotFound and a hash already stored geo.ErrConflict.
func (s *Store) AddSession(ctx context.Context, ss geo.Session, audit geo.AuditEntry) error {
	if ss.Hash == "" {
		return &geo.FieldError{Field: "hash", Reason: "required"}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, ss.User); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			ss.Hash, ss.User, ss.CSRF, timeUTC(ss.CreatedAt), timeUTC(ss.ExpiresAt))
		if isUnique(err) {
			return fmt.Errorf("hash already stored: %w", geo.ErrConflict)
		}
		if err != nil {
			return err
		}
		if !ss.CreatedAt.IsZero() {
			// Sessions that ended before this one began are of no more
			// use. Times are fixed-width UTC text, so they compare as
			// strings.
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? AND hash <> ?`,
				timeUTC(ss.CreatedAt), ss.Hash); err != nil {
				return err
			}
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: add session of %q: %w", ss.User, err)
	}
	return nil
}

// Session returns the session with the given cookie hash, expired or not,
// or an error matching geo.ErrNotFound.
func (s *Store) Session(ctx context.Context, hash string) (geo.Session, error) {
	var (
		ss               geo.Session
		created, expires sql.NullString
	)
	err := s.rdb.QueryRowContext(ctx, `SELECT hash, user, csrf, created_at, expires_at FROM sessions WHERE hash = ?`, hash).
		Scan(&ss.Hash, &ss.User, &ss.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return geo.Session{}, fmt.Errorf("gpkg: session: %w", geo.ErrNotFound)
	}
	if err == nil {
		ss.CreatedAt, err = parseUTC(created)
	}
	if err == nil {
		ss.ExpiresAt, err = parseUTC(expires)
	}
	if err != nil {
		return geo.Session{}, fmt.Errorf("gpkg: session: %w", err)
	}
	return ss, nil
}

// DeleteSession removes the session with the given cookie hash and writes
// the audit entry, in one transaction; removing an unknown one is not an
// error and writes no entry.
func (s *Store) DeleteSession(ctx context.Context, hash string, audit geo.AuditEntry) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: delete session: %w", err)
	}
	return nil
}

// AddAudit appends e to the audit log and has committed it durably when it
// returns. e.ID is ignored (the log numbers its entries); a zero e.At is
// stamped with the current time, and an empty Action matches
// geo.ErrInvalid.
func (s *Store) AddAudit(ctx context.Context, e geo.AuditEntry) error {
	if e.Action == "" {
		return &geo.FieldError{Field: "action", Reason: "required"}
	}
	if err := addAudit(ctx, s.db, e); err != nil {
		return fmt.Errorf("gpkg: add audit %s: %w", e.Action, err)
	}
	return nil
}

// addAudit appends e to the audit log through q, the transaction of the
// write it records; an entry with an empty Action is not written, and a
// zero e.At is stamped with the current time.
func addAudit(ctx context.Context, q execer, e geo.AuditEntry) error {
	if e.Action == "" {
		return nil
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log (at, actor, via, action, target, remote, detail)
  VALUES (?, ?, ?, ?, ?, ?, ?)`, timeUTC(e.At), e.Actor, e.Via, e.Action, e.Target, e.Remote, e.Detail)
	return err
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Audit returns up to limit entries with an ID below beforeID (0 or less:
// from the newest), newest first. limit is clamped to [1, 1000].
func (s *Store) Audit(ctx context.Context, beforeID int64, limit int) ([]geo.AuditEntry, error) {
	limit = min(max(limit, minAuditLimit), maxAuditLimit)
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at, actor, via, action, target, remote, detail FROM audit_log
  WHERE ?1 <= 0 OR id < ?1 ORDER BY id DESC LIMIT ?2`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("gpkg: audit: %w", err)
	}
	defer rows.Close()
	var out []geo.AuditEntry
	for rows.Next() {
		var (
			e  geo.AuditEntry
			at sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Via, &e.Action, &e.Target, &e.Remote, &e.Detail); err != nil {
			return nil, fmt.Errorf("gpkg: audit: %w", err)
		}
		if e.At, err = parseUTC(at); err != nil {
			return nil, fmt.Errorf("gpkg: audit %d: at: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: audit: %w", err)
	}
	return out, nil
}

// SetReview records r as the verdict on report r.ReportID, replacing an
// earlier one, with the audit entry, in one transaction. An unknown
// status matches geo.ErrInvalid and an unknown report geo.ErrNotFound.
func (s *Store) SetReview(ctx context.Context, r geo.Review, audit geo.AuditEntry) error {
	if _, err := geo.ParseReviewStatus(string(r.Status)); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE id = ?`, r.ReportID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no such report: %w", geo.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO report_reviews (report_id, status, reviewer, at, comment)
  VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (report_id) DO UPDATE SET status = ?2, reviewer = ?3, at = ?4, comment = ?5`,
			r.ReportID, string(r.Status), r.Reviewer, timeUTC(r.At), r.Comment)
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("gpkg: review report %q: %w", r.ReportID, err)
	}
	return nil
}

// Reviews returns the latest verdict on each reviewed report, ordered by
// report ID.
func (s *Store) Reviews(ctx context.Context) ([]geo.Review, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT report_id, status, reviewer, at, comment FROM report_reviews ORDER BY report_id`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: reviews: %w", err)
	}
	defer rows.Close()
	var out []geo.Review
	for rows.Next() {
		var (
			r      geo.Review
			status string
			at     sql.NullString
		)
		if err := rows.Scan(&r.ReportID, &status, &r.Reviewer, &at, &r.Comment); err != nil {
			return nil, fmt.Errorf("gpkg: reviews: %w", err)
		}
		if r.Status, err = geo.ParseReviewStatus(status); err != nil {
			return nil, fmt.Errorf("gpkg: review of %q: %w", r.ReportID, err)
		}
		if r.At, err = parseUTC(at); err != nil {
			return nil, fmt.Errorf("gpkg: review of %q: at: %w", r.ReportID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: reviews: %w", err)
	}
	return out, nil
}

// userExists returns an error matching geo.ErrNotFound unless the named
// user is stored.
func userExists(ctx context.Context, q queryRower, name string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no such user %q: %w", name, geo.ErrNotFound)
	}
	return nil
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// mustAffect returns notFound unless res changed (or matched) a row.
func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}
