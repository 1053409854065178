package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// An R-tree of SQLite's rtree module (a 2-D one here) is three tables:
// name_node(nodeno, data) holds each node as a blob, name_rowid(rowid,
// nodeno) the leaf of each entry, and name_parent(nodeno, parentnode) the
// parent of each node but the root, which is node 1. A node's blob has a
// fixed size, fixed when the table was made (the page size less 64 bytes,
// at most 51 cells): 2 bytes of tree depth (read on the root only, 0 when
// the root is a leaf), 2 bytes of cell count, then the cells, each an
// 8-byte id (the entry's rowid in a leaf, a child's nodeno above) and
// minx, maxx, miny, maxy as 32-bit floats, all big-endian, the rest zero.
// Coordinates are rounded outwards to 32 bits, as the module does.

// rtreeCellBytes is the size of a cell of a 2-D R-tree.
const rtreeCellBytes = 8 + 4*4

// rtreeMaxDepth is the module's limit (RTREE_MAX_DEPTH).
const rtreeMaxDepth = 40

// rtreeCell is an entry of an R-tree node: an id and its box.
type rtreeCell struct {
	id                     int64
	minx, maxx, miny, maxy float32
}

// pointCell is the cell the rtree module stores for the point (x, y).
func pointCell(id int64, x, y float64) rtreeCell {
	return rtreeCell{id: id, minx: rtreeDown(x), maxx: rtreeUp(x), miny: rtreeDown(y), maxy: rtreeUp(y)}
}

// rtreeDown is d as a 32-bit float not above d, the module's
// rtreeValueDown: the nearest float, moved one step down when above.
func rtreeDown(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		b := math.Float32bits(f)
		if b&0x80000000 != 0 {
			b++
		} else {
			b--
		}
		f = math.Float32frombits(b)
	}
	return f
}

// rtreeUp is d as a 32-bit float not below d (rtreeValueUp).
func rtreeUp(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		b := math.Float32bits(f)
		if b&0x80000000 != 0 {
			b--
		} else {
			b++
		}
		f = math.Float32frombits(b)
	}
	return f
}

// packedRTree is an R-tree built bottom up over all its entries at once:
// Sort-Tile-Recursive packing, each level's cells sorted by x into
// vertical slices and each slice by y into full nodes. nodes[0] is the
// root (node 1) and node i is number i+1, each level after the one above;
// the leaves are the last nleaves.
type packedRTree struct {
	nodes   [][]rtreeCell
	parent  []int64 // parent nodeno of node i, 0 for the root
	nleaves int
	depth   int // levels below the root
}

// packRTree packs cells (which it reorders) into nodes of at most fanout
// cells.
func packRTree(cells []rtreeCell, fanout int) packedRTree {
	// levels[0] are the leaves, the last level is the root alone; while
	// building, a cell above the leaves holds its child's index in the
	// level below.
	levels := [][][]rtreeCell{}
	level := cells
	for len(level) > fanout {
		groups := strTiles(level, fanout)
		levels = append(levels, groups)
		level = make([]rtreeCell, len(groups))
		for i, g := range groups {
			level[i] = cover(int64(i), g)
		}
	}
	levels = append(levels, [][]rtreeCell{level})
	t := packedRTree{depth: len(levels) - 1, nleaves: len(levels[0])}
	// Number top down: the root 1, then each level below.
	base := make([]int64, len(levels))
	next := int64(1)
	for l := len(levels) - 1; l >= 0; l-- {
		base[l] = next
		next += int64(len(levels[l]))
		t.nodes = append(t.nodes, levels[l]...)
	}
	t.parent = make([]int64, len(t.nodes))
	for l := len(levels) - 1; l > 0; l-- {
		for i, n := range levels[l] {
			for k := range n {
				child := base[l-1] + n[k].id
				n[k].id = child
				t.parent[child-1] = base[l] + int64(i)
			}
		}
	}
	return t
}

// strTiles cuts cells into groups of at most fanout, near neighbours
// together.
func strTiles(cells []rtreeCell, fanout int) [][]rtreeCell {
	nodes := (len(cells) + fanout - 1) / fanout
	slicesN := int(math.Ceil(math.Sqrt(float64(nodes))))
	per := slicesN * fanout
	// Centres doubled, compared as they are (the order of ties does not
	// matter, and the sort is the same for the same input).
	byX := func(a, b rtreeCell) int { return cmp.Compare(a.minx+a.maxx, b.minx+b.maxx) }
	byY := func(a, b rtreeCell) int { return cmp.Compare(a.miny+a.maxy, b.miny+b.maxy) }
	slices.SortFunc(cells, byX)
	groups := make([][]rtreeCell, 0, nodes)
	for s := 0; s < len(cells); s += per {
		sl := cells[s:min(s+per, len(cells))]
		slices.SortFunc(sl, byY)
		for g := 0; g < len(sl); g += fanout {
			groups = append(groups, sl[g:min(g+fanout, len(sl))])
		}
	}
	return groups
}

// cover is the cell id whose box holds every cell of n.
func cover(id int64, n []rtreeCell) rtreeCell {
	c := n[0]
	c.id = id
	for _, x := range n[1:] {
		c.minx, c.maxx = min(c.minx, x.minx), max(c.maxx, x.maxx)
		c.miny, c.maxy = min(c.miny, x.miny), max(c.maxy, x.maxy)
	}
	return c
}

// writeRTree replaces the content of the 2-D R-tree name (a virtual
// table of the rtree module) with a packed tree of cells, which it
// reorders, writing its three tables directly within tx. The node size
// is the one the table was made with, read from its root.
func writeRTree(ctx context.Context, tx *sql.Tx, name string, cells []rtreeCell) error {
	q := `"` + strings.ReplaceAll(name, `"`, `""`)
	var nodeSize int
	if err := tx.QueryRowContext(ctx, `SELECT length(data) FROM `+q+`_node" WHERE nodeno = 1`).Scan(&nodeSize); err != nil {
		return fmt.Errorf("R-tree %s: the root: %w", name, err)
	}
	fanout := (nodeSize - 4) / rtreeCellBytes
	if fanout < 2 {
		return fmt.Errorf("R-tree %s: nodes of %d bytes", name, nodeSize)
	}
	t := packRTree(cells, fanout)
	if t.depth >= rtreeMaxDepth {
		return fmt.Errorf("R-tree %s: %d levels", name, t.depth)
	}
	for _, s := range []string{"_node", "_rowid", "_parent"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+q+s+`"`); err != nil {
			return fmt.Errorf("R-tree %s: %w", name, err)
		}
	}
	buf := make([]byte, len(t.nodes)*nodeSize)
	err := insertRows(ctx, tx, q+`_node"(nodeno, data)`, 2, len(t.nodes), func(i int, args []any) []any {
		b := buf[i*nodeSize : (i+1)*nodeSize]
		if i == 0 {
			binary.BigEndian.PutUint16(b, uint16(t.depth))
		}
		encodeNode(b, t.nodes[i])
		return append(args, i+1, b)
	})
	if err != nil {
		return fmt.Errorf("R-tree %s nodes: %w", name, err)
	}
	if err := insertRows(ctx, tx, q+`_parent"(nodeno, parentnode)`, 2, len(t.nodes)-1, func(i int, args []any) []any {
		return append(args, i+2, t.parent[i+1])
	}); err != nil {
		return fmt.Errorf("R-tree %s parents: %w", name, err)
	}
	// The leaf of each entry, in rowid order so the table is appended to.
	type leafOf struct{ id, node int64 }
	rowids := make([]leafOf, 0, len(cells))
	for i := len(t.nodes) - t.nleaves; i < len(t.nodes); i++ {
		for _, c := range t.nodes[i] {
			rowids = append(rowids, leafOf{c.id, int64(i + 1)})
		}
	}
	slices.SortFunc(rowids, func(a, b leafOf) int { return cmp.Compare(a.id, b.id) })
	if err := insertRows(ctx, tx, q+`_rowid"(rowid, nodeno)`, 2, len(rowids), func(i int, args []any) []any {
		return append(args, rowids[i].id, rowids[i].node)
	}); err != nil {
		return fmt.Errorf("R-tree %s rowids: %w", name, err)
	}
	return nil
}

// encodeNode writes the cell count and cells of n into the node blob b.
func encodeNode(b []byte, n []rtreeCell) {
	binary.BigEndian.PutUint16(b[2:], uint16(len(n)))
	p := b[4:]
	for _, c := range n {
		binary.BigEndian.PutUint64(p, uint64(c.id))
		binary.BigEndian.PutUint32(p[8:], math.Float32bits(c.minx))
		binary.BigEndian.PutUint32(p[12:], math.Float32bits(c.maxx))
		binary.BigEndian.PutUint32(p[16:], math.Float32bits(c.miny))
		binary.BigEndian.PutUint32(p[20:], math.Float32bits(c.maxy))
		p = p[rtreeCellBytes:]
	}
}

// insertRowsBatch is how many rows one INSERT of insertRows carries.
const insertRowsBatch = 256

// insertRows inserts n rows of ncol values into into ("table"(columns)),
// many rows a statement; row appends the values of row i to args.
func insertRows(ctx context.Context, tx *sql.Tx, into string, ncol, n int, row func(i int, args []any) []any) error {
	stmt := func(rows int) string {
		one := "(?" + strings.Repeat(", ?", ncol-1) + ")"
		return `INSERT INTO ` + into + ` VALUES ` + one + strings.Repeat(", "+one, rows-1)
	}
	var full *sql.Stmt
	if n >= insertRowsBatch {
		var err error
		if full, err = tx.PrepareContext(ctx, stmt(insertRowsBatch)); err != nil {
			return err
		}
		defer full.Close()
	}
	args := make([]any, 0, insertRowsBatch*ncol)
	i := 0
	for ; i+insertRowsBatch <= n; i += insertRowsBatch {
		args = args[:0]
		for k := i; k < i+insertRowsBatch; k++ {
			args = row(k, args)
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	if i < n {
		args = args[:0]
		for k := i; k < n; k++ {
			args = row(k, args)
		}
		if _, err := tx.ExecContext(ctx, stmt(n-i), args...); err != nil {
			return err
		}
	}
	return nil
}
