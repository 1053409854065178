package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// bulkRTreeMin is the batch from which the points' R-tree is filled once
// after the rows (see bulkRTree) rather than by the insert trigger.
const bulkRTreeMin = 2000

// bulkRTree fills the gpkg_rtree_index of a point table's geom for a
// batch of new rows in one pass: the insert trigger is dropped for the
// batch, the rows' points are kept, and at the end the R-tree is written
// and the trigger made again, all in the batch's transaction: a reader
// sees the rows and their index together, or neither. When the R-tree
// holds no more entries than the batch adds (a first import), the whole
// tree is packed anew, its entries and the batch's together (see
// writeRTree); otherwise the points are inserted into it in Z order
// (neighbours one after the other, so the tree's pages stay in cache).
// Either way the R-tree holds the entries the trigger would make.
type bulkRTree struct {
	table, trigger, create string
	fids                   []int64
	pts                    []orb.Point
}

// startBulkRTree drops table's R-tree insert trigger within tx, keeping
// its definition.
func startBulkRTree(ctx context.Context, tx *sql.Tx, table string, n int) (*bulkRTree, error) {
	b := &bulkRTree{table: table, trigger: "rtree_" + table + "_geom_insert",
		fids: make([]int64, 0, n), pts: make([]orb.Point, 0, n)}
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, b.trigger).Scan(&b.create); err != nil {
		return nil, fmt.Errorf("the R-tree trigger of %s: %w", table, err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+b.trigger); err != nil {
		return nil, err
	}
	return b, nil
}

// add keeps the point of the row fid.
func (b *bulkRTree) add(fid int64, p orb.Point) {
	b.fids = append(b.fids, fid)
	b.pts = append(b.pts, p)
}

// finish writes the kept points into the R-tree and restores the
// trigger.
func (b *bulkRTree) finish(ctx context.Context, tx *sql.Tx) error {
	if err := b.write(ctx, tx); err != nil {
		return fmt.Errorf("R-tree of %s: %w", b.table, err)
	}
	_, err := tx.ExecContext(ctx, b.create)
	return err
}

func (b *bulkRTree) write(ctx context.Context, tx *sql.Tx) error {
	name := "rtree_" + b.table + "_geom"
	var stored int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+name+`_rowid`).Scan(&stored); err != nil {
		return err
	}
	if stored <= len(b.fids) {
		cells := make([]rtreeCell, 0, stored+len(b.fids))
		if stored > 0 {
			rows, err := tx.QueryContext(ctx, `SELECT id, minx, maxx, miny, maxy FROM `+name)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				// The module returns its 32-bit floats as doubles.
				var c rtreeCell
				var minx, maxx, miny, maxy float64
				if err := rows.Scan(&c.id, &minx, &maxx, &miny, &maxy); err != nil {
					return err
				}
				c.minx, c.maxx, c.miny, c.maxy = float32(minx), float32(maxx), float32(miny), float32(maxy)
				cells = append(cells, c)
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for i, p := range b.pts {
			cells = append(cells, pointCell(b.fids[i], p[0], p[1]))
		}
		return writeRTree(ctx, tx, name, cells)
	}
	order := make([]int, len(b.fids))
	keys := make([]uint64, len(b.fids))
	for i, p := range b.pts {
		order[i], keys[i] = i, zOrder(p)
	}
	slices.SortFunc(order, func(x, y int) int { return cmp.Compare(keys[x], keys[y]) })
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO `+name+` VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, i := range order {
		p := b.pts[i]
		// The R-tree stores 32-bit floats, rounded outwards as the
		// trigger's ST_MinX/ST_MaxX values are.
		if _, err := st.ExecContext(ctx, b.fids[i], p[0], p[0], p[1], p[1]); err != nil {
			return err
		}
	}
	return nil
}

// zOrder interleaves the bits of p's position on a 2³²-cell grid of the
// globe.
func zOrder(p orb.Point) uint64 {
	x := uint64(math.Max(0, math.Min(1, (p[0]+180)/360)) * (1<<32 - 1))
	y := uint64(math.Max(0, math.Min(1, (p[1]+90)/180)) * (1<<32 - 1))
	return spread(x) | spread(y)<<1
}

// spread puts the 32 low bits of v on the even bits.
func spread(v uint64) uint64 {
	v &= 0xFFFFFFFF
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}
