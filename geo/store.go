package geo

import (
	"context"
	"time"
)

// Store is the storage contract the service core works against: the areas
// and teams, loaded at start and again when another process changed them,
// the reports, read back in full (or those added since) and added one at
// a time or in batches, a version that says when any of these changed,
// and the current analysis, saved for GIS tools that open the store
// directly. Package data/gpkg implements it over a GeoPackage file.
// Implementations are safe for concurrent use.
//
// Errors that are the caller's fault match ErrInvalid, ErrNotFound or
// ErrConflict under errors.Is.
type Store interface {
	// Areas returns every area of every vintage, in insertion order.
	Areas(ctx context.Context) ([]Area, error)

	// Teams returns all teams in insertion order.
	Teams(ctx context.Context) ([]Team, error)

	// EachReport calls fn with each stored report in insertion order,
	// stopping at fn's first error, which it returns. The *Report may be
	// reused between calls, so fn must copy what it keeps, and fn must not
	// call the Store.
	EachReport(ctx context.Context, fn func(*Report) error) error

	// EachReportSince calls fn, in insertion order, with each report
	// stored after the one with sequence number after (0: from the
	// first), and its sequence number, stopping at fn's first error,
	// which it returns. Sequence numbers are positive and grow in the
	// order reports are committed, by any writer, so a report committed
	// after a call returned has a number above every one it passed. The
	// *Report may be reused between calls, and fn must not call the
	// Store.
	EachReportSince(ctx context.Context, after int64, fn func(seq int64, r *Report) error) error

	// Version returns the store's version, which changes whenever a
	// write that adds reports or changes the areas, teams or reviews is
	// committed, by this process or another (the command line, a GIS
	// tool): a running service polls it to pick those writes up. It is
	// cheap enough to call every few hundred milliseconds.
	Version(ctx context.Context) (Version, error)

	// Report returns the report with the given ID; an unknown ID is an
	// error matching ErrNotFound.
	Report(ctx context.Context, id string) (Report, error)

	// AddReport stores r, and the audit entry of sub in the same
	// transaction, and has committed both durably when it returns without
	// error. A report without an ID gets a generated one ("r-" and 16 hex
	// digits). When sub.Key is not empty and a report with the same
	// Submitter was already stored under that key, AddReport stores
	// nothing and returns that report with created false, or, when both
	// were stored with a Hash and the hashes differ, an error matching
	// ErrMismatch; concurrent calls with the same submitter and key store
	// one report. An ID already stored (under another key, or none) is an
	// error matching ErrConflict.
	AddReport(ctx context.Context, r Report, sub Submission) (stored Report, created bool, err error)

	// AddReports stores rs, and audit, in one transaction, durably
	// committed when it returns without error, and returns how many it
	// added. Reports without an ID get generated ones, which are not
	// returned. An ID already stored, or given twice in rs, is an error
	// matching ErrConflict, and then nothing is added. An audit entry
	// with an empty Action is not written.
	AddReports(ctx context.Context, rs []Report, audit AuditEntry) (int, error)

	// SaveAnalysis replaces the stored analysis (holes, dead zones, area
	// scores and when they were computed) with a, in one transaction, so a
	// reader sees the previous analysis or the new one, never parts of
	// both. On error the stored analysis is left as it was; a zero
	// ComputedAt is an error matching ErrInvalid.
	SaveAnalysis(ctx context.Context, a Analysis) error
}

// Submission is how one report was submitted, for Store.AddReport.
type Submission struct {
	// Key is the client's Idempotency-Key ("" for none). Keys are scoped
	// to the report's Submitter: two submitters' keys never meet.
	Key string
	// Hash identifies the report's content as submitted (stored with the
	// key), so a key sent again with another report is told apart from
	// a retry; "" matches any.
	Hash string
	// Audit is the entry that records the write, written in the same
	// transaction as the report, and not when a key replays; an entry
	// with an empty Action is not written.
	Audit AuditEntry
}

// Analysis is one published analysis as a Store keeps it.
type Analysis struct {
	// ComputedAt is when the analysis was computed.
	ComputedAt time.Time
	// Reports is the number of reports analysed.
	Reports int
	// Holes are the carriers' coverage holes and the all-carrier dead
	// zones (Carrier == CarrierAll).
	Holes []Hole
	// Areas are the area scores: one per loaded area, and the roll-ups.
	Areas []AreaScore
}

// Version says what a store holds, cheaply: two Versions of one store
// differ in a field when that part changed in between. The values mean
// nothing else, and are not comparable across stores.
type Version struct {
	// Reports is the sequence number of the newest report (0: none; see
	// Store.EachReportSince).
	Reports int64
	// Areas, Teams and Reviews change whenever an area, a team or a
	// review is added, changed or removed.
	Areas, Teams, Reviews int64
	// Holes changes whenever a record of the hole registry is saved
	// (see HoleStore.SaveHoleRecords), in the same transaction.
	Holes int64
}

// TaskStore keeps the teams' measurement tasks (see Task) that a service
// has proposed, open and done, across restarts.
type TaskStore interface {
	// Tasks returns every task kept, in no particular order.
	Tasks(ctx context.Context) ([]Task, error)
	// SaveTasks replaces the tasks kept with ts, in one transaction.
	SaveTasks(ctx context.Context, ts []Task) error
}

// Notifier is implemented by stores that tell a running service, without
// being polled, that another process committed a write: Changed receives
// a value soon after (PostGIS: LISTEN/NOTIFY). The service still polls
// Version (see Store.Version), so a missed notification costs one poll's
// wait, never a write.
type Notifier interface {
	Changed() <-chan struct{}
}

// Leader is implemented by stores that several processes share: Lead
// reports whether this process is the one to do the work named work
// that must run once for all of them (saving the analysis for GIS tools,
// scheduled jobs). The role passes to another process when its holder
// stops or loses the store; a process asks again before each run.
type Leader interface {
	Lead(ctx context.Context, work string) (bool, error)
}

// ThrottleStore keeps the sign-in throttle's counts of failures, by key
// (a name and address, an address, a name), so that every replica over
// one store counts the same failures. Forgiving failures as time passes
// is the caller's; a store only keeps what it is given.
type ThrottleStore interface {
	// ThrottleCounts returns the counts of those of keys that have one.
	ThrottleCounts(ctx context.Context, keys []string) ([]ThrottleCount, error)
	// UpdateThrottle calls fn with the count of each of keys, in keys'
	// order (a zero count with its Key for a key without one), in a
	// transaction that holds them against concurrent updates, and
	// stores what fn left them: a count with no Fails is removed. The
	// counts whose Last is before prune are removed first (the zero time
	// removes none).
	UpdateThrottle(ctx context.Context, keys []string, prune time.Time, fn func([]ThrottleCount)) error
}

// ThrottleCount is the failed sign-ins counted under one key.
type ThrottleCount struct {
	Key string
	// Fails is the number of failures not yet forgiven; Last is when the
	// last one happened and Mark when forgiving runs from.
	Fails      int
	Last, Mark time.Time
}
