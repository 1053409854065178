package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Limits on how many audit entries one Audit call returns.
const (
	minAuditLimit = 1
	maxAuditLimit = 1000
)

// Names and codes sort by their bytes (COLLATE "C"), whatever the
// database's collation, as in the GeoPackage.

// AddUser validates u and stores it with the audit entry, in one
// transaction. An invalid user is the error from u.Validate (matching
// geo.ErrInvalid); a name already taken matches geo.ErrConflict. A zero
// CreatedAt is stored as NULL.
func (s *Store) AddUser(ctx context.Context, u geo.User, audit geo.AuditEntry) error {
	if err := u.Validate(); err != nil {
		return err
	}
	scope := u.Scope
	if scope == nil {
		scope = []string{}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (name, role, scope, carrier, password_hash, created_at)
  VALUES ($1, $2, $3, $4, $5, $6)`,
			u.Name, string(u.Role), scope, u.Carrier.String(), u.PasswordHash, nullTime(u.CreatedAt))
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if pgCode(err) == uniqueViolation {
		return fmt.Errorf("postgis: add user %q: name taken: %w", u.Name, geo.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgis: add user %q: %w", u.Name, classify(err))
	}
	return nil
}

const userColumns = `name, role, scope, carrier, password_hash, created_at`

// User returns the user with the given name, or an error matching
// geo.ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (geo.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.User{}, fmt.Errorf("postgis: user %q: %w", name, geo.ErrNotFound)
	}
	if err != nil {
		return geo.User{}, fmt.Errorf("postgis: user %q: %w", name, classify(err))
	}
	return u, nil
}

// Users returns every user, ordered by name (byte order).
func (s *Store) Users(ctx context.Context) ([]geo.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgis: users: %w", classify(err))
	}
	defer rows.Close()
	var out []geo.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis: users: %w", classify(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: users: %w", classify(err))
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE name = $2`, hash, name)
		if err != nil {
			return err
		}
		if err := mustAffect(tag, geo.ErrNotFound); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_name = $1`, name); err != nil {
			return err
		}
		if err := revokeTree(ctx, tx, `SELECT id FROM tokens WHERE user_name = $1`, name, at); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: set password of %q: %w", name, classify(err))
	}
	return nil
}

func scanUser(row pgx.Row) (geo.User, error) {
	var (
		u       geo.User
		role, c string
		scope   []string
		created pgtype.Timestamptz
	)
	if err := row.Scan(&u.Name, &role, &scope, &c, &u.PasswordHash, &created); err != nil {
		return u, err
	}
	var err error
	if u.Role, err = geo.ParseRole(role); err != nil {
		return u, fmt.Errorf("user %q: %w", u.Name, err)
	}
	if len(scope) > 0 {
		u.Scope = scope
	}
	if c != "" {
		if u.Carrier, err = geo.ParseCarrier(c); err != nil {
			return u, fmt.Errorf("user %q: carrier: %w", u.Name, err)
		}
	}
	u.CreatedAt = utc(created)
	return u, nil
}

// AddToken stores t with the audit entry, in one transaction. The ID and
// hash are required and the label is at most geo.MaxLabelLen characters
// (errors matching geo.ErrInvalid); an unknown user matches
// geo.ErrNotFound, and an ID or hash already stored geo.ErrConflict. A
// Parent that is a token not stored or revoked, or a session not stored
// or expired at t.CreatedAt, matches geo.ErrUnauthenticated: checked in
// the transaction that stores t, with the parent's row locked, so a
// revocation that commits first keeps t out and one that commits after
// revokes it too.
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := parentAlive(ctx, tx, t); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			t.ID, t.User, t.Hash, t.Label, nullTime(t.CreatedAt), nullTime(t.LastUsedAt), nullTime(t.RevokedAt), t.Parent)
		switch pgCode(err) {
		case uniqueViolation:
			return fmt.Errorf("id or hash already stored: %w", geo.ErrConflict)
		case foreignKeyViolation:
			return fmt.Errorf("no such user %q: %w", t.User, geo.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: add token %q: %w", t.ID, classify(err))
	}
	return nil
}

const tokenColumns = `id, user_name, hash, label, created_at, last_used_at, revoked_at, parent`

// errParentGone is a token's parent credential that no longer
// authenticates.
var errParentGone = geo.NewError(geo.ErrUnauthenticated, "the credential making the token was revoked or has ended")

// parentAlive returns errParentGone unless t's parent, a token or a
// session, still authenticates; the command line and tokens without a
// recorded parent pass. The parent's row is locked (FOR SHARE) until the
// transaction ends, so a revocation or sign-out on another replica waits
// for it, and then revokes t with its parent.
func parentAlive(ctx context.Context, tx pgx.Tx, t geo.Token) error {
	var ok bool
	var err error
	switch sess, isSession := strings.CutPrefix(t.Parent, "session:"); {
	case t.Parent == "" || t.Parent == "cli":
		return nil
	case isSession:
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM sessions WHERE left(hash, 16) = $1
  AND ($2::timestamptz IS NULL OR expires_at > $2) FOR SHARE)`, sess, nullTime(t.CreatedAt)).Scan(&ok)
	default:
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM tokens WHERE id = $1 AND revoked_at IS NULL FOR SHARE)`, t.Parent).Scan(&ok)
	}
	if err != nil {
		return err
	}
	if !ok {
		return errParentGone
	}
	return nil
}

// revokeTree revokes at at the tokens that roots (a query of token IDs
// with one parameter, $1 = arg) selects and every token made by one of
// them, down the Parent links; tokens already revoked keep their time.
func revokeTree(ctx context.Context, tx pgx.Tx, roots string, arg any, at time.Time) error {
	_, err := tx.Exec(ctx, `WITH RECURSIVE tree(id) AS (
    `+roots+`
    UNION SELECT t.id FROM tokens t JOIN tree ON t.parent = tree.id
  )
  UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id IN (SELECT id FROM tree)`, arg, nullTime(at))
	return err
}

// TokenByHash returns the token whose secret has the given hash, revoked
// or not, or an error matching geo.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (geo.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		// The hash is a credential: leave it out of the message.
		return geo.Token{}, fmt.Errorf("postgis: token by hash: %w", geo.ErrNotFound)
	}
	if err != nil {
		return geo.Token{}, fmt.Errorf("postgis: token by hash: %w", classify(err))
	}
	return t, nil
}

// Token returns the token with the given ID, or an error matching
// geo.ErrNotFound.
func (s *Store) Token(ctx context.Context, id string) (geo.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.Token{}, fmt.Errorf("postgis: token %q: %w", id, geo.ErrNotFound)
	}
	if err != nil {
		return geo.Token{}, fmt.Errorf("postgis: token %q: %w", id, classify(err))
	}
	return t, nil
}

// Tokens returns the tokens of user, or of every user when user is "",
// newest (by CreatedAt) first; tokens created at the same time come in
// reverse insertion order. An unknown user matches geo.ErrNotFound.
func (s *Store) Tokens(ctx context.Context, user string) ([]geo.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens
  WHERE $1 = '' OR user_name = $1 ORDER BY created_at DESC NULLS LAST, n DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("postgis: tokens of %q: %w", user, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Token, error) { return scanToken(r) })
	if err == nil && len(out) == 0 && user != "" {
		err = s.userExists(ctx, user)
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: tokens of %q: %w", user, classify(err))
	}
	return out, nil
}

// RevokeToken marks the token revoked at at, and every token it made and
// theirs (through Parent), and writes the audit entry, in one
// transaction. A token already revoked keeps its first revocation time.
// An unknown ID matches geo.ErrNotFound and a zero at geo.ErrInvalid.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, audit geo.AuditEntry) error {
	if at.IsZero() {
		return &geo.FieldError{Field: "at", Reason: "required"}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM tokens WHERE id = $1)`, id).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return geo.ErrNotFound
		}
		if err := revokeTree(ctx, tx, `SELECT $1::text`, id, at); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: revoke token %q: %w", id, classify(err))
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
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2`, nullTime(at), id)
	if err == nil {
		err = mustAffect(tag, geo.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgis: touch token %q: %w", id, classify(err))
	}
	return nil
}

func scanToken(row pgx.Row) (geo.Token, error) {
	var (
		t                      geo.Token
		created, used, revoked pgtype.Timestamptz
	)
	if err := row.Scan(&t.ID, &t.User, &t.Hash, &t.Label, &created, &used, &revoked, &t.Parent); err != nil {
		return t, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = utc(created), utc(used), utc(revoked)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			ss.Hash, ss.User, ss.CSRF, nullTime(ss.CreatedAt), nullTime(ss.ExpiresAt))
		switch pgCode(err) {
		case uniqueViolation:
			return fmt.Errorf("hash already stored: %w", geo.ErrConflict)
		case foreignKeyViolation:
			return fmt.Errorf("no such user %q: %w", ss.User, geo.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !ss.CreatedAt.IsZero() {
			// Sessions that ended before this one began are of no more use.
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 AND hash <> $2`, nullTime(ss.CreatedAt), ss.Hash); err != nil {
				return err
			}
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: add session of %q: %w", ss.User, classify(err))
	}
	return nil
}

// Session returns the session with the given cookie hash, expired or not,
// or an error matching geo.ErrNotFound.
func (s *Store) Session(ctx context.Context, hash string) (geo.Session, error) {
	var (
		ss               geo.Session
		created, expires pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT hash, user_name, csrf, created_at, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&ss.Hash, &ss.User, &ss.CSRF, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.Session{}, fmt.Errorf("postgis: session: %w", geo.ErrNotFound)
	}
	if err != nil {
		return geo.Session{}, fmt.Errorf("postgis: session: %w", classify(err))
	}
	ss.CreatedAt, ss.ExpiresAt = utc(created), utc(expires)
	return ss, nil
}

// DeleteSession removes the session with the given cookie hash and writes
// the audit entry, in one transaction; removing an unknown one is not an
// error and writes no entry.
func (s *Store) DeleteSession(ctx context.Context, hash string, audit geo.AuditEntry) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: delete session: %w", classify(err))
	}
	return nil
}

// AddAudit appends e, an entry that records no write (a failed sign-in),
// to the audit log and has committed it when it returns. e.ID is ignored
// (the log numbers its entries); a zero e.At is stamped with the current
// time, and an empty Action matches geo.ErrInvalid.
func (s *Store) AddAudit(ctx context.Context, e geo.AuditEntry) error {
	if e.Action == "" {
		return &geo.FieldError{Field: "action", Reason: "required"}
	}
	if err := addAudit(ctx, s.pool, e); err != nil {
		return fmt.Errorf("postgis: add audit %s: %w", e.Action, classify(err))
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
	_, err := q.Exec(ctx, `INSERT INTO audit_log (at, actor, via, action, target, remote, detail)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`, nullTime(e.At), e.Actor, e.Via, e.Action, e.Target, e.Remote, e.Detail)
	return err
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Audit returns up to limit entries with an ID below beforeID (0 or less:
// from the newest), newest first. limit is clamped to [1, 1000].
func (s *Store) Audit(ctx context.Context, beforeID int64, limit int) ([]geo.AuditEntry, error) {
	limit = min(max(limit, minAuditLimit), maxAuditLimit)
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, via, action, target, remote, detail FROM audit_log
  WHERE $1 <= 0 OR id < $1 ORDER BY id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: audit: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("postgis: audit: %w", classify(err))
	}
	return out, nil
}

func scanAudit(row pgx.CollectableRow) (geo.AuditEntry, error) {
	var (
		e  geo.AuditEntry
		at pgtype.Timestamptz
	)
	err := row.Scan(&e.ID, &at, &e.Actor, &e.Via, &e.Action, &e.Target, &e.Remote, &e.Detail)
	e.At = utc(at)
	return e, err
}

// SetReview records r as the verdict on report r.ReportID, replacing an
// earlier one, with the audit entry, in one transaction. An unknown
// status matches geo.ErrInvalid and an unknown report geo.ErrNotFound.
func (s *Store) SetReview(ctx context.Context, r geo.Review, audit geo.AuditEntry) error {
	if _, err := geo.ParseReviewStatus(string(r.Status)); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO report_reviews (report_id, status, reviewer, at, comment)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (report_id) DO UPDATE SET status = $2, reviewer = $3, at = $4, comment = $5`,
			r.ReportID, string(r.Status), r.Reviewer, nullTime(r.At), r.Comment)
		if pgCode(err) == foreignKeyViolation {
			return fmt.Errorf("no such report: %w", geo.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgis: review report %q: %w", r.ReportID, classify(err))
	}
	return nil
}

// Reviews returns the latest verdict on each reviewed report, ordered by
// report ID (byte order).
func (s *Store) Reviews(ctx context.Context) ([]geo.Review, error) {
	rows, err := s.pool.Query(ctx, `SELECT report_id, status, reviewer, at, comment FROM report_reviews ORDER BY report_id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgis: reviews: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.Review, error) {
		var (
			r      geo.Review
			status string
			at     pgtype.Timestamptz
		)
		if err := row.Scan(&r.ReportID, &status, &r.Reviewer, &at, &r.Comment); err != nil {
			return r, err
		}
		var err error
		if r.Status, err = geo.ParseReviewStatus(status); err != nil {
			return r, fmt.Errorf("review of %q: %w", r.ReportID, err)
		}
		r.At = utc(at)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: reviews: %w", classify(err))
	}
	return out, nil
}

// userExists returns an error matching geo.ErrNotFound unless the named
// user is stored.
func (s *Store) userExists(ctx context.Context, name string) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM users WHERE name = $1)`, name).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no such user %q: %w", name, geo.ErrNotFound)
	}
	return nil
}

// mustAffect returns notFound unless the command changed a row.
func mustAffect(tag pgconn.CommandTag, notFound error) error {
	if tag.RowsAffected() == 0 {
		return notFound
	}
	return nil
}
