package geo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a signed-in user may do. The public (no sign-in) has no
// role.
type Role string

// Roles, from most to least powerful.
const (
	// RoleAdmin is the provincial ICT department's administrator:
	// everything, including users and imports.
	RoleAdmin Role = "admin"
	// RoleReviewer reads everything and reviews reports.
	RoleReviewer Role = "reviewer"
	// RoleStaff is district or commune staff, or a community team:
	// scoped to area codes, submits and reads raw reports inside the scope.
	RoleStaff Role = "staff"
	// RoleCarrier is a carrier's planner: its own holes and gap list only.
	RoleCarrier Role = "carrier"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleReviewer, RoleStaff, RoleCarrier}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", &FieldError{Field: "role", Reason: fmt.Sprintf("unknown role %q (want admin, reviewer, staff or carrier)", s)}
}

// Limits on account values.
const (
	MaxUserNameLen = 64
	MaxScopeCodes  = 200
	MinPasswordLen = 10
	MaxPasswordLen = 256
	MaxLabelLen    = 200
)

// User is an account. Staff carry a Scope of area codes (a commune's code
// covers its hamlets); carrier users carry the Carrier they speak for.
type User struct {
	Name    string
	Role    Role
	Scope   []string
	Carrier Carrier
	// PasswordHash is a PHC-format argon2id hash (see credential.HashPassword); empty
	// means the user cannot sign in with a password, only with tokens.
	PasswordHash string
	CreatedAt    time.Time
}

// Validate checks the user's name, role, scope and carrier.
func (u *User) Validate() error {
	var es FieldErrors
	if err := ValidateUserName(u.Name); err != nil {
		es = append(es, err.(*FieldError))
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		es = append(es, err.(*FieldError))
	}
	switch u.Role {
	case RoleStaff:
		if len(u.Scope) == 0 {
			es = append(es, &FieldError{Field: "scope", Reason: "required for staff: one or more area codes"})
		}
	default:
		if len(u.Scope) > 0 {
			es = append(es, &FieldError{Field: "scope", Reason: "only staff have a scope"})
		}
	}
	if len(u.Scope) > MaxScopeCodes {
		es = append(es, &FieldError{Field: "scope", Reason: fmt.Sprintf("at most %d area codes", MaxScopeCodes)})
	}
	for _, c := range u.Scope {
		if c == "" || strings.ContainsAny(c, ", \t\r\n") {
			es = append(es, &FieldError{Field: "scope", Reason: fmt.Sprintf("bad area code %q", c)})
			break
		}
	}
	switch {
	case u.Role == RoleCarrier && !slices.Contains(Carriers, u.Carrier):
		es = append(es, &FieldError{Field: "carrier", Reason: "required for the carrier role: viettel, vinaphone, mobifone or vietnamobile"})
	case u.Role != RoleCarrier && u.Carrier != CarrierUnknown:
		es = append(es, &FieldError{Field: "carrier", Reason: "only carrier users have a carrier"})
	}
	return es.Err()
}

// ValidateUserName checks a user name: 1 to 64 characters, letters
// (Vietnamese included), digits and . _ - @, no spaces.
func ValidateUserName(name string) error {
	switch {
	case name == "":
		return &FieldError{Field: "name", Reason: "required"}
	case !utf8.ValidString(name):
		return &FieldError{Field: "name", Reason: "not valid UTF-8"}
	case utf8.RuneCountInString(name) > MaxUserNameLen:
		return &FieldError{Field: "name", Reason: fmt.Sprintf("longer than %d characters", MaxUserNameLen)}
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return &FieldError{Field: "name", Reason: fmt.Sprintf("character %q not allowed (letters, digits and . _ - @)", r)}
		}
	}
	return nil
}

// Token is an API token for programs. Only the SHA-256 hash of its secret
// is stored; the secret is shown once when it is created.
type Token struct {
	// ID is public ("t-" and 12 hex digits) and names the token for
	// listing and revoking.
	ID         string
	User       string
	Hash       string // hex SHA-256 of the secret
	Label      string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
	RevokedAt  time.Time // zero while valid
	// Parent is what made the token (Viewer.Credential): another token's
	// ID, a session ("session:" and the first 16 hex digits of its hash)
	// or the command line ("cli"); "" for tokens made before parents were
	// recorded. Revoking a token revokes every token it made, and theirs.
	Parent string
}

// Session is a signed-in browser. Only the SHA-256 hash of the cookie
// value is stored.
type Session struct {
	Hash      string // hex SHA-256 of the cookie value
	User      string
	CSRF      string // the token state-changing requests must echo
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry records one write: who, what, when and from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // user name; "" for anonymous
	Via    string    `json:"via"`    // "session", "token", "cli" or ""
	Action string    `json:"action"` // e.g. "report.create", "user.add"
	Target string    `json:"target,omitempty"`
	Remote string    `json:"remote,omitempty"` // client address
	Detail string    `json:"detail,omitempty"`
}

// ReviewStatus is a reviewer's verdict on a report.
type ReviewStatus string

// Review statuses. Rejected reports are left out of the analysis.
const (
	ReviewConfirmed ReviewStatus = "confirmed"
	ReviewRejected  ReviewStatus = "rejected"
)

// ParseReviewStatus parses a review status.
func ParseReviewStatus(s string) (ReviewStatus, error) {
	switch ReviewStatus(s) {
	case ReviewConfirmed, ReviewRejected:
		return ReviewStatus(s), nil
	}
	return "", &FieldError{Field: "status", Reason: fmt.Sprintf("unknown status %q (want confirmed or rejected)", s)}
}

// Review is the latest verdict on one report.
type Review struct {
	ReportID string       `json:"report_id"`
	Status   ReviewStatus `json:"status"`
	Reviewer string       `json:"reviewer"`
	At       time.Time    `json:"at"`
	Comment  string       `json:"comment,omitempty"`
}

// Accounts is the storage contract for users, their credentials, the
// audit log and report reviews. Unknown names, hashes or IDs are errors
// matching ErrNotFound; duplicates match ErrConflict.
//
// Every write takes the audit entry that records it and commits the two
// in one transaction, so the log holds an entry for every write and none
// for a write that failed; an entry with an empty Action is not written
// (writes no one asked for, such as test fixtures).
type Accounts interface {
	// AddUser stores a new user; a name already taken is ErrConflict.
	AddUser(ctx context.Context, u User, audit AuditEntry) error
	// User returns the user with the given name.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, by name.
	Users(ctx context.Context) ([]User, error)
	// SetPassword replaces a user's password hash and, in the same
	// transaction, ends every session of the user and revokes, at the
	// given time, every token of the user and the tokens they made (see
	// RevokeToken).
	SetPassword(ctx context.Context, name, hash string, at time.Time, audit AuditEntry) error

	// AddToken stores a token for an existing user. A token whose Parent
	// is a token that is revoked, or a session that has ended, is
	// ErrUnauthenticated and not stored, so a credential being revoked
	// cannot make one that outlives it.
	AddToken(ctx context.Context, t Token, audit AuditEntry) error
	// TokenByHash returns the token with the given secret hash, revoked or
	// not (the caller checks RevokedAt).
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Token returns the token with the given ID.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens returns a user's tokens ("" for every user's), newest first.
	Tokens(ctx context.Context, user string) ([]Token, error)
	// RevokeToken marks a token revoked at the given time, and with it
	// every token it made, and theirs (through Parent), in one
	// transaction; revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, id string, at time.Time, audit AuditEntry) error
	// TouchToken records a use of the token.
	TouchToken(ctx context.Context, id string, at time.Time) error

	// AddSession stores a new session, and removes sessions that expired
	// before its CreatedAt.
	AddSession(ctx context.Context, s Session, audit AuditEntry) error
	// Session returns the session with the given cookie hash, expired or
	// not (the caller checks ExpiresAt).
	Session(ctx context.Context, hash string) (Session, error)
	// DeleteSession removes a session; removing an unknown one is not an
	// error (and writes no audit entry).
	DeleteSession(ctx context.Context, hash string, audit AuditEntry) error

	// AddAudit appends an entry that records no write (a failed sign-in)
	// to the audit log, durably.
	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit returns up to limit entries with ID below beforeID (0: from
	// the newest), newest first.
	Audit(ctx context.Context, beforeID int64, limit int) ([]AuditEntry, error)

	// SetReview records the verdict on a stored report, replacing an
	// earlier one; an unknown report is ErrNotFound.
	SetReview(ctx context.Context, r Review, audit AuditEntry) error
	// Reviews returns the latest verdict on each reviewed report.
	Reviews(ctx context.Context) ([]Review, error)
}

// ScopeAreas marks the areas a scope covers: an area is covered when its
// code or the code of one of its ancestors (through ParentCode) is in
// codes. Codes that name no area and no area's parent are returned in
// unknown.
func ScopeAreas(areas []Area, codes []string) (covered []bool, unknown []string) {
	covered = make([]bool, len(areas))
	in := make(map[string]bool, len(codes))
	for _, c := range codes {
		in[c] = true
	}
	byCode := make(map[string]int, len(areas))
	parents := make(map[string]bool)
	for i := range areas {
		byCode[areas[i].Code] = i
		parents[areas[i].ParentCode] = true
	}
	for _, c := range codes {
		if _, ok := byCode[c]; !ok && !parents[c] {
			unknown = append(unknown, c)
		}
	}
	for i := range areas {
		// Walk up at most len(areas) steps so a cycle in the parent codes
		// cannot loop forever.
		c := areas[i].Code
		for step := 0; step <= len(areas) && c != ""; step++ {
			if in[c] {
				covered[i] = true
				break
			}
			j, ok := byCode[c]
			if !ok {
				break
			}
			c = areas[j].ParentCode
		}
	}
	return covered, unknown
}
