package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
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
		if err := saveHoles(ctx, tx, holes, prev, a.Holes); err != nil {
			return err
		}
		if err := saveScores(ctx, tx, scores, prev); err != nil {
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

// saveHoles makes the rows of holes those of rows: all of them written
// anew when prev is nil, else only those whose sum differs from prev's,
// and those prev has and rows not deleted. hs are the holes of rows, for
// the table's bounds. area_codes and area_names hold the codes and names
// of the areas a hole touches as JSON arrays.
func saveHoles(ctx context.Context, tx *sql.Tx, rows []savedRow, prev *lastSave, hs []geo.Hole) error {
	if prev == nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM holes`); err != nil {
			return err
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO holes
  (geom, id, carrier, rank, priority, severity, confidence, area_km2, population_affected,
   households_affected, reports, weak_reports, weak_share, median_signal_dbm,
   first_observed, last_observed, area_codes, reporters, cells, weak_low, area_names, computed_at, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM holes WHERE id = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	changed := prev == nil
	var keep map[string]bool
	if prev != nil {
		keep = make(map[string]bool, len(rows))
	}
	for _, r := range rows {
		if prev != nil {
			keep[r.key] = true
			if sum, ok := prev.holes[r.key]; ok {
				if sum == r.sum {
					continue
				}
				if _, err := del.ExecContext(ctx, r.key); err != nil {
					return err
				}
			}
			changed = true
		}
		if _, err := st.ExecContext(ctx, r.args...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("hole %q: duplicate id: %w", r.key, geo.ErrConflict)
			}
			return fmt.Errorf("hole %q: %w", r.key, err)
		}
	}
	for id := range prev.holeKeys() {
		if !keep[id] {
			if _, err := del.ExecContext(ctx, id); err != nil {
				return err
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if prev == nil {
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

// holeKeys ranges over the IDs of the holes p saved (none for nil).
func (p *lastSave) holeKeys() iter.Seq[string] {
	if p == nil {
		return func(func(string) bool) {}
	}
	return maps.Keys(p.holes)
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

// saveScores makes the rows of area_scores those of rows, as saveHoles
// does for holes.
func saveScores(ctx context.Context, tx *sql.Tx, rows []savedRow, prev *lastSave) error {
	if prev == nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM area_scores`); err != nil {
			return err
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO area_scores (`+strings.Join(tables.ScoreColumns, ", ")+
		`) VALUES (?`+strings.Repeat(", ?", len(tables.ScoreColumns)-1)+`)`)
	if err != nil {
		return err
	}
	defer st.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM area_scores WHERE vintage = ? AND code = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	var keep map[string]bool
	if prev != nil {
		keep = make(map[string]bool, len(rows))
	}
	for _, r := range rows {
		if prev != nil {
			keep[r.key] = true
			if sum, ok := prev.scores[r.key]; ok {
				if sum == r.sum {
					continue
				}
				if _, err := del.ExecContext(ctx, r.args[0], r.args[1]); err != nil {
					return err
				}
			}
		}
		if _, err := st.ExecContext(ctx, r.args...); err != nil {
			vintage, code := r.args[0], r.args[1]
			if isUnique(err) {
				return fmt.Errorf("area score %q: duplicate code in vintage %q: %w", code, vintage, geo.ErrConflict)
			}
			return fmt.Errorf("area score %q: %w", code, err)
		}
	}
	if prev != nil {
		for k := range prev.scores {
			if !keep[k] {
				vintage, code, _ := strings.Cut(k, "\x00")
				if _, err := del.ExecContext(ctx, vintage, code); err != nil {
					return err
				}
			}
		}
	}
	return nil
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
