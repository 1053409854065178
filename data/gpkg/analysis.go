package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"time"

	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// SaveAnalysis replaces the stored analysis with a in one transaction: the
// holes and dead zones (table holes, each with its registry state, 'open'
// when it has none), the area
// scores (table area_scores, drawn with the areas' boundaries by the view
// scored_areas) and the one row of table analysis. NaN and infinite
// figures, such as the median signal of an area without signal readings,
// are stored as NULL; times of computation as GeoPackage DATETIME (UTC,
// milliseconds). A zero a.ComputedAt is an error matching geo.ErrInvalid;
// two holes with one ID, or two scores with one vintage and code, are an
// error matching geo.ErrConflict. On any error the stored analysis is left
// as it was.
//
// A save after this store's own last one rewrites only the rows that
// differ from what that save wrote (see lastSave); a row left as it was
// keeps its computed_at, the time it was last computed. The analysis
// row's computed_at is a's. The store has one writer, which reports wait
// on, and one report changes a few holes and scores of many thousand.
func (s *Store) SaveAnalysis(ctx context.Context, a geo.Analysis) error {
	if a.ComputedAt.IsZero() {
		return fmt.Errorf("gpkg: save analysis: %w", &geo.FieldError{Field: "computed_at", Reason: "must be set"})
	}
	s.saving.Lock()
	defer s.saving.Unlock()
	at := dateTime(a.ComputedAt)
	// The rows are made before the transaction, which then only writes.
	holes, err := holeRows(a.Holes, at)
	if err != nil {
		return fmt.Errorf("gpkg: save analysis: %w", err)
	}
	scores, err := scoreRows(a.Areas, at)
	if err != nil {
		return fmt.Errorf("gpkg: save analysis: %w", err)
	}
	prev := s.saved
	s.saved = nil // until this save commits
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if prev != nil {
			// As text, as written: read as a DATETIME the driver would
			// make it a time, whose text drops trailing zeros.
			var stored sql.NullString
			if err := tx.QueryRowContext(ctx, `SELECT computed_at || '' FROM analysis`).Scan(&stored); err != nil || stored.String != prev.at {
				prev = nil // not this store's last save: rewrite everything
			}
		}
		dead := 0
		for i := range a.Holes {
			if a.Holes[i].Carrier == geo.CarrierAll {
				dead++
			}
		}
		var holeSums, scoreSums map[string]rowSum // nil: rewrite everything
		if prev != nil {
			holeSums, scoreSums = prev.holes, prev.scores
		}
		if err := saveHoles(ctx, tx, holes, holeSums, a.Holes); err != nil {
			return err
		}
		if _, err := writeRows(ctx, tx, scoresTable, scores, scoreSums); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM analysis`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO analysis (computed_at, reports, holes, dead_zones, areas)
  VALUES (?, ?, ?, ?, ?)`, at, a.Reports, len(a.Holes)-dead, dead, len(a.Areas)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name IN ('area_scores', 'analysis')`); err != nil {
			return err
		}
		// The view's geometries are the areas', so are its bounds.
		_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  (min_x, max_x, min_y, max_y) = (SELECT min_x, max_x, min_y, max_y FROM gpkg_contents WHERE table_name = 'areas'),
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name = 'scored_areas'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("gpkg: save analysis: %w", err)
	}
	s.saved = &lastSave{at: at, holes: make(map[string]rowSum, len(holes)), scores: make(map[string]rowSum, len(scores))}
	for _, r := range holes {
		s.saved.holes[r.key] = r.sum
	}
	for _, r := range scores {
		s.saved.scores[r.key] = r.sum
	}
	return nil
}

// lastSave is what a store's last SaveAnalysis wrote: the analysis row's
// computed_at, and a sum of each hole's and area score's row, all but its
// computed_at, by the row's key. The next save compares its rows' sums
// with these and writes only those that differ, once it has seen in its
// transaction that the analysis row is still the one this save wrote (no
// other process saved one since).
type lastSave struct {
	at     string
	holes  map[string]rowSum // by hole ID
	scores map[string]rowSum // by vintage and code (scoreKey)
}

// rowSum is a 128-bit hash of a row's values (see sumRow).
type rowSum [2]uint64

// savedRow is one row to save: its key, its values in column order and
// the sum of those values but computed_at.
type savedRow struct {
	key  string
	args []any
	sum  rowSum
}

// rowSeeds are the seeds of rowSum's two halves.
var rowSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// sumRow hashes args but the one at skip (computed_at), each value with
// its type, so that NULL, 0 and "" differ.
func sumRow(args []any, skip int) rowSum {
	var sum rowSum
	for k := range sum {
		var h maphash.Hash
		h.SetSeed(rowSeeds[k])
		var b [8]byte
		for i, v := range args {
			if i == skip {
				continue
			}
			switch v := v.(type) {
			case nil:
				h.WriteByte(0)
			case string:
				h.WriteByte(1)
				binary.LittleEndian.PutUint64(b[:], uint64(len(v)))
				h.Write(b[:])
				h.WriteString(v)
			case []byte:
				h.WriteByte(2)
				binary.LittleEndian.PutUint64(b[:], uint64(len(v)))
				h.Write(b[:])
				h.Write(v)
			case int:
				h.WriteByte(3)
				binary.LittleEndian.PutUint64(b[:], uint64(v))
				h.Write(b[:])
			case int64:
				h.WriteByte(4)
				binary.LittleEndian.PutUint64(b[:], uint64(v))
				h.Write(b[:])
			case float64:
				h.WriteByte(5)
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
				h.Write(b[:])
			case bool:
				h.WriteByte(6)
				if v {
					h.WriteByte(1)
				} else {
					h.WriteByte(0)
				}
			default:
				h.WriteByte(7)
				fmt.Fprintf(&h, "%T:%v;", v, v)
			}
		}
		sum[k] = h.Sum64()
	}
	return sum
}

// holeAt is the place of computed_at among a hole row's values.
const holeAt = 21

// holeRows makes the rows of holes, in order; two holes with one ID are
// an error matching geo.ErrConflict.
func holeRows(hs []geo.Hole, at string) ([]savedRow, error) {
	rows := make([]savedRow, len(hs))
	seen := make(map[string]bool, len(hs))
	for i := range hs {
		h := &hs[i]
		if seen[h.ID] {
			return nil, fmt.Errorf("hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
		}
		seen[h.ID] = true
		g, err := encodeGeom(h.Geometry)
		if err != nil {
			return nil, fmt.Errorf("hole %q: %w", h.ID, err)
		}
		codes := make([]string, len(h.Areas))
		names := make([]string, len(h.Areas))
		for j, a := range h.Areas {
			codes[j], names[j] = a.Code, a.Name
		}
		cj, err := json.Marshal(codes)
		if err != nil {
			return nil, err
		}
		nj, err := json.Marshal(names)
		if err != nil {
			return nil, err
		}
		args := []any{g, h.ID, nullString(h.Carrier.String()), h.Rank,
			finite(h.Priority), finite(h.Severity), finite(h.Confidence), finite(h.AreaKm2),
			finite(h.Population), finite(h.Households), h.Reports, h.Weak, finite(h.WeakShare),
			finite(h.MedianSignalDBm), timeText(h.FirstObserved), timeText(h.LastObserved), string(cj),
			h.Reporters, h.Cells, finite(h.WeakLow), string(nj), at, holeState(h)}
		rows[i] = savedRow{key: h.ID, args: args, sum: sumRow(args, holeAt)}
	}
	return rows, nil
}

// holesTable is how writeRows writes holes. area_codes and area_names
// hold the codes and names of the areas a hole touches as JSON arrays.
var holesTable = rowTable{
	name: "holes",
	insert: `INSERT INTO holes
  (geom, id, carrier, rank, priority, severity, confidence, area_km2, population_affected,
   households_affected, reports, weak_reports, weak_share, median_signal_dbm,
   first_observed, last_observed, area_codes, reporters, cells, weak_low, area_names, computed_at, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	delete:  `DELETE FROM holes WHERE id = ?`,
	keyArgs: func(id string) []any { return []any{id} },
	failed: func(id string, err error) error {
		if isUnique(err) {
			return fmt.Errorf("hole %q: duplicate id: %w", id, geo.ErrConflict)
		}
		return fmt.Errorf("hole %q: %w", id, err)
	},
}

// saveHoles makes the rows of holes those of rows (see writeRows, which
// sums is for) and keeps the table's bounds; hs are the holes of rows.
func saveHoles(ctx context.Context, tx *sql.Tx, rows []savedRow, sums map[string]rowSum, hs []geo.Hole) error {
	changed, err := writeRows(ctx, tx, holesTable, rows, sums)
	if err != nil || !changed {
		return err
	}
	if sums == nil {
		return refreshBounds(ctx, tx, "holes")
	}
	// The bounds of what the rows now hold, from the holes rather than by
	// reading every row back.
	var b orb.Bound
	have := false
	for i := range hs {
		if g := hs[i].Geometry; !geomEmpty(g) {
			if have {
				b = b.Union(g.Bound())
			} else {
				b, have = g.Bound(), true
			}
		}
	}
	if !have {
		_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET min_x = NULL, max_x = NULL, min_y = NULL, max_y = NULL,
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = 'holes'`)
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET min_x = ?, max_x = ?, min_y = ?, max_y = ?,
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = 'holes'`, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	return err
}

// rowTable is one table of the analysis as writeRows writes it.
type rowTable struct {
	name    string                            // the table
	insert  string                            // inserts a row of savedRow.args
	delete  string                            // deletes the row of keyArgs(key)
	keyArgs func(key string) []any            // the arguments of delete
	failed  func(key string, err error) error // the error of a failed insert
}

// writeRows makes the rows of t those of rows. With sums nil (no last
// save to go by) every row is deleted and rows are inserted; else a row
// whose sum equals its sum in sums is left as it was, one whose sum
// differs is replaced, one sums lacks is inserted, and one sums has and
// rows lack is deleted. It reports whether it wrote anything.
func writeRows(ctx context.Context, tx *sql.Tx, t rowTable, rows []savedRow, sums map[string]rowSum) (bool, error) {
	if sums == nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.name); err != nil {
			return false, err
		}
	}
	ins, err := tx.PrepareContext(ctx, t.insert)
	if err != nil {
		return false, err
	}
	defer ins.Close()
	del, err := tx.PrepareContext(ctx, t.delete)
	if err != nil {
		return false, err
	}
	defer del.Close()
	changed := sums == nil
	var keep map[string]bool
	if sums != nil {
		keep = make(map[string]bool, len(rows))
	}
	for _, r := range rows {
		if sums != nil {
			keep[r.key] = true
			if sum, ok := sums[r.key]; ok {
				if sum == r.sum {
					continue
				}
				if _, err := del.ExecContext(ctx, t.keyArgs(r.key)...); err != nil {
					return false, err
				}
			}
			changed = true
		}
		if _, err := ins.ExecContext(ctx, r.args...); err != nil {
			return false, t.failed(r.key, err)
		}
	}
	for k := range sums {
		if !keep[k] {
			if _, err := del.ExecContext(ctx, t.keyArgs(k)...); err != nil {
				return false, err
			}
			changed = true
		}
	}
	return changed, nil
}

// geomEmpty reports whether g has no points (ST_IsEmpty).
func geomEmpty(g orb.MultiPolygon) bool {
	for _, p := range g {
		for _, r := range p {
			if len(r) > 0 {
				return false
			}
		}
	}
	return true
}

// holeState is the state stored for h: its registry state, 'open' for a
// hole that has none (an analysis outside a running service).
func holeState(h *geo.Hole) string {
	if h.Life.State == "" {
		return string(geo.StateOpen)
	}
	return string(h.Life.State)
}

// scoreKey is an area score's key: its vintage and code.
func scoreKey(sc *geo.AreaScore) string { return sc.Vintage + "\x00" + sc.Code }

// scoreRows makes the rows of area_scores, in order; two scores with one
// vintage and code are an error matching geo.ErrConflict.
func scoreRows(scores []geo.AreaScore, at string) ([]savedRow, error) {
	rows := make([]savedRow, len(scores))
	seen := make(map[string]bool, len(scores))
	for i := range scores {
		sc := &scores[i]
		k := scoreKey(sc)
		if seen[k] {
			return nil, fmt.Errorf("area score %q: duplicate code in vintage %q: %w", sc.Code, sc.Vintage, geo.ErrConflict)
		}
		seen[k] = true
		args := tables.ScoreRow(make([]any, 0, len(tables.ScoreColumns)), sc, at)
		rows[i] = savedRow{key: k, args: args, sum: sumRow(args, len(args)-1)}
	}
	return rows, nil
}

// scoresTable is how writeRows writes area scores.
var scoresTable = rowTable{
	name: "area_scores",
	insert: `INSERT INTO area_scores (` + strings.Join(tables.ScoreColumns, ", ") +
		`) VALUES (?` + strings.Repeat(", ?", len(tables.ScoreColumns)-1) + `)`,
	delete: `DELETE FROM area_scores WHERE vintage = ? AND code = ?`,
	keyArgs: func(k string) []any {
		vintage, code, _ := strings.Cut(k, "\x00")
		return []any{vintage, code}
	},
	failed: func(k string, err error) error {
		vintage, code, _ := strings.Cut(k, "\x00")
		if isUnique(err) {
			return fmt.Errorf("area score %q: duplicate code in vintage %q: %w", code, vintage, geo.ErrConflict)
		}
		return fmt.Errorf("area score %q: %w", code, err)
	},
}

// finite is v, or NULL when v is NaN or infinite (SQLite has no NaN).
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// timeText is t in RFC 3339 with its offset, or NULL when t is zero.
func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// dateTime is t as a GeoPackage DATETIME: ISO 8601 in UTC with
// milliseconds (GeoPackage 1.3 §1.1.1.1.3).
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
