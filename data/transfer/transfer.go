// Package transfer copies everything a store holds into another store,
// of the same kind or not (a GeoPackage file into PostGIS and back), and
// verifies the copy: every table's rows counted and checksummed on both
// sides. The stores do the reading and writing (Dump, Load); this
// package holds the record types, the order and the checksums.
//
// What is copied: areas, teams, reports (with their submitters,
// idempotency keys and when they were received), users, tokens (with
// their lineage), sessions, the audit log (with its IDs), reviews, the
// measurement tasks, the hole registry (records, carriers' tracks,
// history), the frozen monthly gap lists, webhooks and their delivery
// log (with its IDs). Not copied: the saved analysis (holes, area
// scores), which the first gapmap serve over the target computes and
// saves again.
//
// It imports geo only.
package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// Report is a report as a store keeps it: the report, when it was
// received, and the Idempotency-Key and content hash it was submitted
// with ("" for none).
type Report struct {
	geo.Report
	ReceivedAt time.Time
	Key, Hash  string
}

// FrozenGap is one hole of a frozen monthly gap list as a store keeps
// it: Props is the hole's JSON as frozen.
type FrozenGap struct {
	Month    string
	FrozenAt time.Time
	Carrier  string
	ID       string
	Rank     int
	State    string
	Props    []byte
	Geometry orb.MultiPolygon
}

// Sink receives a store's contents, table by table in the order of its
// methods, each table's rows in batches in the order the store keeps
// them: areas and teams in insertion order (each area with its Vintage),
// reports in sequence order, tokens in insertion order, the audit log
// and deliveries by ID (kept), users, sessions, reviews, tasks, hole
// records and webhooks by their keys, frozen gaps by month and ID
// (months without holes as one FrozenGap with no ID).
type Sink interface {
	Areas(ctx context.Context, as []geo.Area) error
	Teams(ctx context.Context, ts []geo.Team) error
	Reports(ctx context.Context, rs []Report) error
	Users(ctx context.Context, us []geo.User) error
	Tokens(ctx context.Context, ts []geo.Token) error
	Sessions(ctx context.Context, ss []geo.Session) error
	Audit(ctx context.Context, es []geo.AuditEntry) error
	Reviews(ctx context.Context, rs []geo.Review) error
	Tasks(ctx context.Context, ts []geo.Task) error
	HoleRecords(ctx context.Context, rs []geo.HoleRecord) error
	FrozenGaps(ctx context.Context, gs []FrozenGap) error
	Webhooks(ctx context.Context, ws []geo.Webhook) error
	Deliveries(ctx context.Context, ds []geo.Delivery) error
}

// Source is a store that can be read whole.
type Source interface {
	// Dump calls sink's methods with everything the store holds.
	Dump(ctx context.Context, sink Sink) error
}

// Target is a store that can be written whole.
type Target interface {
	Source
	// Load runs fill with a Sink that writes into the store, in one
	// transaction that commits when fill returns nil. A store that holds
	// anything of what a Sink receives is refused (an error matching
	// geo.ErrConflict that says what it holds) unless replace is true:
	// then it is emptied first, in the same transaction.
	Load(ctx context.Context, replace bool, fill func(Sink) error) error
}

// Batch is how many reports a Dump hands a Sink at a time.
const Batch = 10_000

// Table is one table's row count and checksum.
type Table struct {
	Name string
	Rows int
	Sum  string // hex SHA-256 of the rows' canonical encoding, in order
}

// Summary is what Copy copied, table by table, in Sink order.
type Summary struct {
	Tables []Table
}

// Copy copies everything from holds into to, and verifies the copy: it
// checksums the rows as they are copied, reads the target back and
// compares counts and checksums table by table. replace is Load's. On a
// mismatch the error names the tables that differ; the target then holds
// the copy as written (committed), for inspection.
func Copy(ctx context.Context, from Source, to Target, replace bool) (Summary, error) {
	src := newChecksums()
	err := to.Load(ctx, replace, func(sink Sink) error {
		return from.Dump(ctx, tee{src, sink})
	})
	if err != nil {
		return Summary{}, err
	}
	dst := newChecksums()
	if err := to.Dump(ctx, dst); err != nil {
		return Summary{}, fmt.Errorf("read the copy back: %w", err)
	}
	s, d := src.summary(), dst.summary()
	var bad []string
	for i := range s.Tables {
		if s.Tables[i] != d.Tables[i] {
			bad = append(bad, fmt.Sprintf("%s (%d rows, %s; copy %d rows, %s)", s.Tables[i].Name,
				s.Tables[i].Rows, short(s.Tables[i].Sum), d.Tables[i].Rows, short(d.Tables[i].Sum)))
		}
	}
	if len(bad) > 0 {
		return s, fmt.Errorf("transfer: the copy differs from the source in %v", bad)
	}
	return s, nil
}

// Checksums dumps src and returns its tables' counts and checksums.
func Checksums(ctx context.Context, src Source) (Summary, error) {
	c := newChecksums()
	if err := src.Dump(ctx, c); err != nil {
		return Summary{}, err
	}
	return c.summary(), nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// tables are the Sink's tables, in its order.
var tables = []string{"areas", "teams", "reports", "users", "tokens", "sessions", "audit", "reviews", "tasks",
	"holes", "frozen", "webhooks", "deliveries"}

// checksums is a Sink that counts and hashes rows: each row's canonical
// JSON (times in UTC to the microsecond, the precision every store
// keeps; a report's observed_at in its own offset; map keys sorted),
// one per line.
type checksums struct {
	rows map[string]int
	h    map[string]hash.Hash
}

func newChecksums() *checksums {
	c := &checksums{rows: map[string]int{}, h: map[string]hash.Hash{}}
	for _, t := range tables {
		c.h[t] = sha256.New()
	}
	return c
}

func (c *checksums) summary() Summary {
	var s Summary
	for _, t := range tables {
		s.Tables = append(s.Tables, Table{Name: t, Rows: c.rows[t], Sum: hex.EncodeToString(c.h[t].Sum(nil))})
	}
	return s
}

func add[T any](c *checksums, table string, rows []T, canon func(T) any) error {
	h := c.h[table]
	for _, r := range rows {
		b, err := json.Marshal(canon(r))
		if err != nil {
			return fmt.Errorf("checksum %s: %w", table, err)
		}
		h.Write(append(b, '\n'))
	}
	c.rows[table] += len(rows)
	return nil
}

// micro is t in UTC to the microsecond; the zero time stays zero.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

func (c *checksums) Areas(_ context.Context, as []geo.Area) error {
	return add(c, "areas", as, func(a geo.Area) any { return a })
}

func (c *checksums) Teams(_ context.Context, ts []geo.Team) error {
	return add(c, "teams", ts, func(t geo.Team) any {
		return struct {
			geo.Team
			HasLocation bool
		}{t, t.HasLocation}
	})
}

func (c *checksums) Reports(_ context.Context, rs []Report) error {
	return add(c, "reports", rs, func(r Report) any {
		observed := r.ObservedAt.Truncate(time.Microsecond).Format(time.RFC3339Nano)
		r.ObservedAt = time.Time{}
		return struct {
			Report
			Observed string
		}{Report{Report: r.Report, ReceivedAt: micro(r.ReceivedAt), Key: r.Key, Hash: r.Hash}, observed}
	})
}

func (c *checksums) Users(_ context.Context, us []geo.User) error {
	return add(c, "users", us, func(u geo.User) any { u.CreatedAt = micro(u.CreatedAt); return u })
}

func (c *checksums) Tokens(_ context.Context, ts []geo.Token) error {
	return add(c, "tokens", ts, func(t geo.Token) any {
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = micro(t.CreatedAt), micro(t.LastUsedAt), micro(t.RevokedAt)
		return t
	})
}

func (c *checksums) Sessions(_ context.Context, ss []geo.Session) error {
	return add(c, "sessions", ss, func(s geo.Session) any {
		s.CreatedAt, s.ExpiresAt = micro(s.CreatedAt), micro(s.ExpiresAt)
		return s
	})
}

func (c *checksums) Audit(_ context.Context, es []geo.AuditEntry) error {
	return add(c, "audit", es, func(e geo.AuditEntry) any { e.At = micro(e.At); return e })
}

func (c *checksums) Reviews(_ context.Context, rs []geo.Review) error {
	return add(c, "reviews", rs, func(r geo.Review) any { r.At = micro(r.At); return r })
}

func (c *checksums) Tasks(_ context.Context, ts []geo.Task) error {
	return add(c, "tasks", ts, func(t geo.Task) any {
		t.ProposedAt, t.DoneAt = micro(t.ProposedAt), micro(t.DoneAt)
		return t
	})
}

func (c *checksums) HoleRecords(_ context.Context, rs []geo.HoleRecord) error {
	return add(c, "holes", rs, func(r geo.HoleRecord) any {
		r.FirstSeen, r.LastSeen = micro(r.FirstSeen), micro(r.LastSeen)
		r.Tracks = append([]geo.Track(nil), r.Tracks...)
		for i := range r.Tracks {
			t := &r.Tracks[i]
			t.Since, t.Answered, t.Planned, t.Fixed, t.OverdueNotified = micro(t.Since), micro(t.Answered), micro(t.Planned), micro(t.Fixed), micro(t.OverdueNotified)
			if len(t.FixCells) == 0 {
				t.FixCells = nil
			}
		}
		r.History = append([]geo.HoleEvent(nil), r.History...)
		for i := range r.History {
			r.History[i].At = micro(r.History[i].At)
		}
		if len(r.Cells) == 0 {
			r.Cells = nil
		}
		return struct {
			geo.HoleRecord
			State geo.HoleState
		}{r, r.State()}
	})
}

func (c *checksums) FrozenGaps(_ context.Context, gs []FrozenGap) error {
	return add(c, "frozen", gs, func(g FrozenGap) any {
		var props any
		if len(g.Props) > 0 {
			json.Unmarshal(g.Props, &props) // compared as values: key order and spacing are the store's
		}
		g.FrozenAt, g.Props = micro(g.FrozenAt), nil
		return struct {
			FrozenGap
			Props any
		}{g, props}
	})
}

func (c *checksums) Webhooks(_ context.Context, ws []geo.Webhook) error {
	return add(c, "webhooks", ws, func(w geo.Webhook) any {
		w.CreatedAt = micro(w.CreatedAt)
		return struct {
			geo.Webhook
			Secret string
		}{w, w.Secret}
	})
}

func (c *checksums) Deliveries(_ context.Context, ds []geo.Delivery) error {
	return add(c, "deliveries", ds, func(d geo.Delivery) any {
		d.CreatedAt, d.NextAt, d.DoneAt = micro(d.CreatedAt), micro(d.NextAt), micro(d.DoneAt)
		return struct {
			geo.Delivery
			Body []byte
		}{d, d.Body}
	})
}

// tee hands every batch to a checksums, then to a Sink.
type tee struct {
	c    *checksums
	sink Sink
}

func (t tee) Areas(ctx context.Context, as []geo.Area) error {
	return both(t.c.Areas(ctx, as), func() error { return t.sink.Areas(ctx, as) })
}
func (t tee) Teams(ctx context.Context, ts []geo.Team) error {
	return both(t.c.Teams(ctx, ts), func() error { return t.sink.Teams(ctx, ts) })
}
func (t tee) Reports(ctx context.Context, rs []Report) error {
	return both(t.c.Reports(ctx, rs), func() error { return t.sink.Reports(ctx, rs) })
}
func (t tee) Users(ctx context.Context, us []geo.User) error {
	return both(t.c.Users(ctx, us), func() error { return t.sink.Users(ctx, us) })
}
func (t tee) Tokens(ctx context.Context, ts []geo.Token) error {
	return both(t.c.Tokens(ctx, ts), func() error { return t.sink.Tokens(ctx, ts) })
}
func (t tee) Sessions(ctx context.Context, ss []geo.Session) error {
	return both(t.c.Sessions(ctx, ss), func() error { return t.sink.Sessions(ctx, ss) })
}
func (t tee) Audit(ctx context.Context, es []geo.AuditEntry) error {
	return both(t.c.Audit(ctx, es), func() error { return t.sink.Audit(ctx, es) })
}
func (t tee) Reviews(ctx context.Context, rs []geo.Review) error {
	return both(t.c.Reviews(ctx, rs), func() error { return t.sink.Reviews(ctx, rs) })
}
func (t tee) Tasks(ctx context.Context, ts []geo.Task) error {
	return both(t.c.Tasks(ctx, ts), func() error { return t.sink.Tasks(ctx, ts) })
}

func (t tee) HoleRecords(ctx context.Context, rs []geo.HoleRecord) error {
	return both(t.c.HoleRecords(ctx, rs), func() error { return t.sink.HoleRecords(ctx, rs) })
}
func (t tee) FrozenGaps(ctx context.Context, gs []FrozenGap) error {
	return both(t.c.FrozenGaps(ctx, gs), func() error { return t.sink.FrozenGaps(ctx, gs) })
}
func (t tee) Webhooks(ctx context.Context, ws []geo.Webhook) error {
	return both(t.c.Webhooks(ctx, ws), func() error { return t.sink.Webhooks(ctx, ws) })
}
func (t tee) Deliveries(ctx context.Context, ds []geo.Delivery) error {
	return both(t.c.Deliveries(ctx, ds), func() error { return t.sink.Deliveries(ctx, ds) })
}

func both(err error, then func() error) error {
	if err != nil {
		return err
	}
	return then()
}

// NotEmpty is the error of a target that holds something: counts names
// each table that does, with its rows.
func NotEmpty(counts map[string]int) error {
	var held []string
	for _, t := range tables {
		if n := counts[t]; n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, t))
		}
	}
	return fmt.Errorf("the target is not empty (it holds %v): %w", held, geo.ErrConflict)
}

// Tables lists the tables a Sink receives, in its order, as NotEmpty's
// counts name them.
func Tables() []string { return append([]string(nil), tables...) }
