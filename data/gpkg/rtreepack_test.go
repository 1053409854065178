package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// TestRTreeRounding: the 32-bit bounds of a coordinate are the nearest
// floats at or below and at or above it, as the rtree module stores.
func TestRTreeRounding(t *testing.T) {
	for _, d := range []float64{0, 1, -1, 0.1, -0.1, 106.700001, -33.3333333, 1e-50, -1e-50, 179.99999999, math.MaxFloat32} {
		lo, hi := rtreeDown(d), rtreeUp(d)
		if float64(lo) > d || float64(hi) < d {
			t.Errorf("%v: bounds %v, %v do not hold it", d, lo, hi)
		}
		if float64(math.Nextafter32(lo, float32(math.Inf(1)))) <= d {
			t.Errorf("%v: lower bound %v is not the nearest", d, lo)
		}
		if float64(math.Nextafter32(hi, float32(math.Inf(-1)))) >= d {
			t.Errorf("%v: upper bound %v is not the nearest", d, hi)
		}
	}
}

// TestPackedRTree: a packed R-tree, written into the rtree module's
// tables, is one the module accepts (rtreecheck), holds what the module
// stores for the same points inserted one by one, answers box queries
// with the same entries, and takes later inserts and deletes by the
// module. Pages of 512 bytes make nodes of 18 cells, so 20,000 points
// need four levels.
func TestPackedRTree(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "rtree.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA page_size = 512`,
		`CREATE VIRTUAL TABLE one USING rtree(id, minx, maxx, miny, maxy)`,
		`CREATE VIRTUAL TABLE packed USING rtree(id, minx, maxx, miny, maxy)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rnd := rand.New(rand.NewPCG(14, 1))
	type pt struct {
		id   int64
		x, y float64
	}
	var pts []pt
	for i := range 20000 {
		x, y := 102+rnd.Float64()*8, 8+rnd.Float64()*15
		switch i % 10 {
		case 0: // a cluster
			x, y = 106.7+rnd.NormFloat64()*1e-3, 10.8+rnd.NormFloat64()*1e-3
		case 1: // the same point again
			if i > 1 {
				x, y = pts[i-10].x, pts[i-10].y
			}
		case 2: // all over the globe
			x, y = -180+rnd.Float64()*360, -90+rnd.Float64()*180
		}
		pts = append(pts, pt{int64(i*3 + 1), x, y})
	}
	insert := func(table string, ps []pt) {
		t.Helper()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, p := range ps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` VALUES (?, ?, ?, ?, ?)`, p.id, p.x, p.x, p.y, p.y); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	insert("one", pts)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cells := make([]rtreeCell, len(pts))
	for i, p := range pts {
		cells[i] = pointCell(p.id, p.x, p.y)
	}
	if err := writeRTree(ctx, tx, "packed", cells); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var root []byte
	if err := db.QueryRowContext(ctx, `SELECT data FROM packed_node WHERE nodeno = 1`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if d := binary.BigEndian.Uint16(root); d < 3 {
		t.Errorf("packed tree of depth %d, want at least 3", d)
	}
	var nodes [2]int
	for i, table := range []string{"one", "packed"} {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+`_node`).Scan(&nodes[i]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("nodes: %d inserted one by one, %d packed (%d bytes each)", nodes[0], nodes[1], len(root))

	same := func(stage string) {
		t.Helper()
		for _, table := range []string{"one", "packed"} {
			var check string
			if err := db.QueryRowContext(ctx, `SELECT rtreecheck(?)`, table).Scan(&check); err != nil {
				t.Fatal(err)
			}
			if check != "ok" {
				t.Fatalf("%s: rtreecheck(%s): %s", stage, table, check)
			}
		}
		all := func(table, where string, args ...any) [][5]float64 {
			t.Helper()
			rows, err := db.QueryContext(ctx, `SELECT id, minx, maxx, miny, maxy FROM `+table+where+` ORDER BY id`, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out [][5]float64
			for rows.Next() {
				var r [5]float64
				if err := rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4]); err != nil {
					t.Fatal(err)
				}
				out = append(out, r)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if a, b := all("one", ""), all("packed", ""); !slices.Equal(a, b) {
			t.Fatalf("%s: %d entries inserted one by one, %d packed, not the same", stage, len(a), len(b))
		}
		found := 0
		for range 1000 {
			x, y := 102+rnd.Float64()*8, 8+rnd.Float64()*15
			w, h := rnd.ExpFloat64()*0.05, rnd.ExpFloat64()*0.05
			if rnd.IntN(10) == 0 {
				x, y = 106.7, 10.8
			}
			where := ` WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?`
			a, b := all("one", where, x-w, x+w, y-h, y+h), all("packed", where, x-w, x+w, y-h, y+h)
			if !slices.Equal(a, b) {
				t.Fatalf("%s: box %v,%v ± %v,%v: %d entries one by one, %d packed", stage, x, y, w, h, len(a), len(b))
			}
			found += len(a)
		}
		if found < 1000 {
			t.Errorf("%s: the boxes found %d entries in all: too few to tell", stage, found)
		}
	}
	same("packed")
	// Later inserts and deletes go through the module on both.
	var more []pt
	for i := range 3000 {
		more = append(more, pt{int64(i*3 + 2), 102 + rnd.Float64()*8, 8 + rnd.Float64()*15})
	}
	insert("one", more)
	insert("packed", more)
	for _, table := range []string{"one", "packed"} {
		if _, err := db.ExecContext(ctx, `DELETE FROM `+table+` WHERE id % 7 = 0`); err != nil {
			t.Fatal(err)
		}
	}
	same("after inserts and deletes")
}

// BenchmarkPackRTree packs the R-tree of 1M points spread over Vietnam.
func BenchmarkPackRTree(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pts := make([]rtreeCell, 1_000_000)
	for i := range pts {
		pts[i] = pointCell(int64(i+1), 102+rnd.Float64()*8, 8+rnd.Float64()*15)
	}
	cells := make([]rtreeCell, len(pts))
	for b.Loop() {
		copy(cells, pts)
		packRTree(cells, 51)
	}
}
