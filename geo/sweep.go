package geo

import (
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// This file is the plane sweep behind ValidateMultiPolygon's checks that
// rings do not cross themselves or each other (Shamos and Hoey, "Geometric
// intersection problems", 1976): vertices are visited in (x, y) order, the
// edges the sweep line cuts are kept in a treap ordered bottom to top, and
// only edges that become neighbours in it are tested against each other.
// If any two edges conflict, the leftmost conflict is between two edges
// that are neighbours just before the sweep reaches it, so the sweep finds
// one in O(n log n) for n edges. Every predicate is exact (see orientSign),
// so the order kept in the treap is the true one and no conflict is missed
// through rounding.
//
// A sweep over one ring (sweep.multi false) reports any two non-adjacent
// edges that share a point, and adjacent edges that fold back over each
// other. A sweep over a polygon's rings together (multi true) assumes each
// ring already passed on its own and reports edges of different rings
// that cross or run along each other, rings that cross at a shared point
// (a vertex of one on the other, or a vertex of both), and holes whose
// edges lie outside ring 0, the outer ring. Rings of a polygon may touch
// at points.

// ccwErrBound bounds the rounding error of the floating-point orientation
// determinant relative to the sum of its two products (Shewchuk's
// ccwerrboundA, "Adaptive precision floating-point arithmetic and fast
// robust geometric predicates", 1997).
const ccwErrBound = (3 + 16*0x1p-53) * 0x1p-53

// orientSign is the exact sign of (b−a)×(c−a): +1 when c lies to the left
// of the directed line a→b, −1 to its right, 0 on it. The floating-point
// determinant decides whenever its error bound allows; otherwise the signs
// of the two products (exact, since a difference of floats rounds to zero
// only when it is zero) decide when they differ, and rational arithmetic
// when they do not.
func orientSign(a, b, c orb.Point) int {
	dx1, dy1 := b[0]-a[0], b[1]-a[1]
	dx2, dy2 := c[0]-a[0], c[1]-a[1]
	l, r := dx1*dy2, dy1*dx2
	det := l - r
	// Below 2⁻⁹⁰⁰ a product may have lost bits to underflow, which the
	// relative bound does not cover.
	if sum := math.Abs(l) + math.Abs(r); sum > 0x1p-900 {
		bound := ccwErrBound * sum
		if det > bound {
			return 1
		}
		if -det > bound {
			return -1
		}
	}
	sl, sr := sign(dx1)*sign(dy2), sign(dy1)*sign(dx2)
	switch {
	case sl == 0:
		return -sr
	case sr == 0 || sl != sr:
		return sl
	}
	return orientExact(a, b, c)
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// orientExact is orientSign in rational arithmetic; positions that are not
// finite count as collinear.
func orientExact(a, b, c orb.Point) int {
	var v [6]big.Rat
	for i, f := range [6]float64{a[0], a[1], b[0], b[1], c[0], c[1]} {
		if v[i].SetFloat64(f) == nil {
			return 0
		}
	}
	var dx1, dy1, dx2, dy2, l, r big.Rat
	dx1.Sub(&v[2], &v[0])
	dy1.Sub(&v[3], &v[1])
	dx2.Sub(&v[4], &v[0])
	dy2.Sub(&v[5], &v[1])
	l.Mul(&dx1, &dy2)
	r.Mul(&dy1, &dx2)
	return l.Cmp(&r)
}

// lexLess orders points by x, then y: the order the sweep visits them in.
func lexLess(p, q orb.Point) bool {
	return p[0] < q[0] || (p[0] == q[0] && p[1] < q[1])
}

func lexCmp(p, q orb.Point) int {
	switch {
	case lexLess(p, q):
		return -1
	case lexLess(q, p):
		return 1
	}
	return 0
}

// inBox reports whether p lies in the bounding box of a and b; for p on
// the line through a and b, whether it lies on the segment.
func inBox(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// closedIntersect reports whether segments p1p2 and q1q2 share a point.
func closedIntersect(p1, p2, q1, q2 orb.Point) bool {
	d1, d2 := orientSign(q1, q2, p1), orientSign(q1, q2, p2)
	d3, d4 := orientSign(p1, p2, q1), orientSign(p1, p2, q2)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return (d1 == 0 && inBox(q1, q2, p1)) || (d2 == 0 && inBox(q1, q2, p2)) ||
		(d3 == 0 && inBox(p1, p2, q1)) || (d4 == 0 && inBox(p1, p2, q2))
}

// crossOrOverlap reports whether segments p1p2 and q1q2 cross at a point
// inside both, or share a piece of positive length. Touching at a point
// that is an end of one of them is neither.
func crossOrOverlap(p1, p2, q1, q2 orb.Point) (cross, overlap bool) {
	d1, d2 := orientSign(q1, q2, p1), orientSign(q1, q2, p2)
	d3, d4 := orientSign(p1, p2, q1), orientSign(p1, p2, q2)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true, false
	}
	if d1 != 0 || d2 != 0 || d3 != 0 || d4 != 0 {
		return false, false
	}
	if lexLess(p2, p1) {
		p1, p2 = p2, p1
	}
	if lexLess(q2, q1) {
		q1, q2 = q2, q1
	}
	lo, hi := p1, p2
	if lexLess(lo, q1) {
		lo = q1
	}
	if lexLess(q2, hi) {
		hi = q2
	}
	return false, lexLess(lo, hi)
}

// sweepFound says what a sweep found; kind is foundNothing when the rings
// passed.
type sweepFound struct {
	kind int
	// e1, e2 are the conflicting edges (foundEdges).
	e1, e2 int32
	// r1, r2 are the rings that cross at point at (foundCrossAt), or r1 is
	// the hole outside the outer ring (foundOutside).
	r1, r2 int32
	at     orb.Point
}

const (
	foundNothing = iota
	foundEdges
	foundCrossAt
	foundOutside
)

// sweep is one run over a set of closed rings. pts holds every ring's
// vertices without the closing repeat and without consecutive repeats;
// edge i runs from vertex i to the next vertex of its ring.
type sweep struct {
	pts    []orb.Point
	ringOf []int32 // ring of each vertex and of the edge starting there
	first  []int32 // ring k's vertices are first[k] to first[k+1]-1
	multi  bool

	// The treap of edges the sweep line cuts, bottom to top: children,
	// parent and priority by edge, and outer, the number of ring-0 edges
	// in each subtree (for telling whether a hole edge is inside ring 0).
	left, right, up []int32
	prio            []uint32
	outer           []int32
	root            int32

	p     orb.Point // the vertex being visited
	found sweepFound
}

func newSweep(pts []orb.Point, first []int32, multi bool) *sweep {
	n := len(pts)
	s := &sweep{pts: pts, first: first, multi: multi, root: -1,
		ringOf: make([]int32, n), left: make([]int32, n), right: make([]int32, n),
		up: make([]int32, n), prio: make([]uint32, n), outer: make([]int32, n)}
	for k := 0; k+1 < len(first); k++ {
		for i := first[k]; i < first[k+1]; i++ {
			s.ringOf[i] = int32(k)
		}
	}
	for i := range n {
		s.left[i], s.right[i], s.up[i] = -1, -1, -1
		// Priorities that look random keep the treap balanced whatever
		// order an input puts its edges in; drawn from the edge's index,
		// they make a ring's verdict and the edges it names the same on
		// every run.
		s.prio[i] = uint32(splitmix64(uint64(i)) >> 32)
	}
	return s
}

// splitmix64 is the finalizer of Vigna's SplitMix64 generator: a
// bijection of 64-bit integers whose outputs look random.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

func (s *sweep) next(i int32) int32 {
	if i+1 == s.first[s.ringOf[i]+1] {
		return s.first[s.ringOf[i]]
	}
	return i + 1
}

func (s *sweep) prev(i int32) int32 {
	if i == s.first[s.ringOf[i]] {
		return s.first[s.ringOf[i]+1] - 1
	}
	return i - 1
}

// ends returns edge e's endpoints, the one visited first first.
func (s *sweep) ends(e int32) (lo, hi orb.Point) {
	a, b := s.pts[e], s.pts[s.next(e)]
	if lexLess(b, a) {
		return b, a
	}
	return a, b
}

// run sweeps every vertex and reports whether something was found (in
// s.found).
func (s *sweep) run() bool {
	n := int32(len(s.pts))
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := lexCmp(s.pts[a], s.pts[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	for g := int32(0); g < n; {
		s.p = s.pts[order[g]]
		h := g + 1
		for h < n && s.pts[order[h]] == s.p {
			h++
		}
		group := order[g:h]
		g = h
		if !s.multi && len(group) > 1 {
			s.duplicate(group[0], group[1])
			return true
		}
		// Edges ending here leave before edges starting here enter.
		for _, v := range group {
			for _, e := range [2]int32{s.prev(v), v} {
				if _, hi := s.ends(e); hi == s.p && s.remove(e) {
					return true
				}
			}
		}
		if s.multi && s.touching(group) {
			return true
		}
		for _, v := range group {
			for _, e := range [2]int32{s.prev(v), v} {
				if lo, _ := s.ends(e); lo == s.p && s.insert(e) {
					return true
				}
			}
		}
	}
	return false
}

// conflict reports whether edges i and j may not meet as they do: within
// one ring, non-adjacent edges that share a point or adjacent edges that
// fold back along one line; across rings, edges that cross or overlap.
func (s *sweep) conflict(i, j int32) bool {
	if i == j {
		return false
	}
	a, b := s.pts[i], s.pts[s.next(i)]
	c, d := s.pts[j], s.pts[s.next(j)]
	if s.ringOf[i] != s.ringOf[j] {
		cross, overlap := crossOrOverlap(a, b, c, d)
		return cross || overlap
	}
	switch {
	case s.next(i) == j: // a→b then b→d
		return orientSign(a, b, d) == 0 && lexCmp(a, b) == lexCmp(d, b)
	case s.next(j) == i: // c→d then d→b
		return orientSign(c, d, b) == 0 && lexCmp(c, d) == lexCmp(b, d)
	}
	return closedIntersect(a, b, c, d)
}

func (s *sweep) report(i, j int32) bool {
	s.found = sweepFound{kind: foundEdges, e1: min(i, j), e2: max(i, j)}
	return true
}

// duplicate reports a ring that visits one position twice, at vertices a
// and b: one of the four edges there always conflicts with another (two
// non-adjacent edges touch, or the ring goes out and straight back).
func (s *sweep) duplicate(a, b int32) {
	es := [4]int32{s.prev(a), a, s.prev(b), b}
	for x := range es {
		for y := x + 1; y < len(es); y++ {
			if s.conflict(es[x], es[y]) {
				s.report(es[x], es[y])
				return
			}
		}
	}
	s.report(a, b)
}

// cmp orders edge e, which starts at the current vertex, against edge t
// already cut by the sweep line: −1 when e runs below t, +1 above, 0 when
// they meet in a way that is a conflict.
func (s *sweep) cmp(e, t int32) int {
	tl, tr := s.ends(t)
	_, er := s.ends(e)
	if tl == s.p {
		// Both start here: the angle decides; along one line they overlap.
		return orientSign(s.p, tr, er)
	}
	if o := orientSign(tl, tr, s.p); o != 0 {
		return o
	}
	// e starts on t: within a ring that is a conflict; across rings it is
	// a touch, and e's other end tells its side.
	if s.ringOf[e] == s.ringOf[t] {
		return 0
	}
	return orientSign(tl, tr, er)
}

func (s *sweep) cnt(x int32) int32 {
	if x < 0 {
		return 0
	}
	return s.outer[x]
}

func (s *sweep) own(x int32) int32 {
	if s.ringOf[x] == 0 {
		return 1
	}
	return 0
}

func (s *sweep) fix(x int32) {
	s.outer[x] = s.cnt(s.left[x]) + s.cnt(s.right[x]) + s.own(x)
}

// rotateUp rotates x above its parent.
func (s *sweep) rotateUp(x int32) {
	p := s.up[x]
	g := s.up[p]
	if s.left[p] == x {
		b := s.right[x]
		s.left[p] = b
		if b >= 0 {
			s.up[b] = p
		}
		s.right[x] = p
	} else {
		b := s.left[x]
		s.right[p] = b
		if b >= 0 {
			s.up[b] = p
		}
		s.left[x] = p
	}
	s.up[p], s.up[x] = x, g
	switch {
	case g < 0:
		s.root = x
	case s.left[g] == p:
		s.left[g] = x
	default:
		s.right[g] = x
	}
	s.fix(p)
	s.fix(x)
}

func (s *sweep) pred(x int32) int32 {
	if s.left[x] >= 0 {
		x = s.left[x]
		for s.right[x] >= 0 {
			x = s.right[x]
		}
		return x
	}
	for s.up[x] >= 0 && s.left[s.up[x]] == x {
		x = s.up[x]
	}
	return s.up[x]
}

func (s *sweep) succ(x int32) int32 {
	if s.right[x] >= 0 {
		x = s.right[x]
		for s.left[x] >= 0 {
			x = s.left[x]
		}
		return x
	}
	for s.up[x] >= 0 && s.right[s.up[x]] == x {
		x = s.up[x]
	}
	return s.up[x]
}

// below counts the ring-0 edges under x.
func (s *sweep) below(x int32) int32 {
	c := s.cnt(s.left[x])
	for ; s.up[x] >= 0; x = s.up[x] {
		if p := s.up[x]; s.right[p] == x {
			c += s.cnt(s.left[p]) + s.own(p)
		}
	}
	return c
}

// insert puts edge e, which starts at the current vertex, into the treap
// and tests it against its new neighbours; true when something was found.
func (s *sweep) insert(e int32) bool {
	s.left[e], s.right[e], s.up[e], s.outer[e] = -1, -1, -1, s.own(e)
	if s.root < 0 {
		s.root = e
	} else {
		cur := s.root
		for {
			c := s.cmp(e, cur)
			if c == 0 {
				if s.conflict(e, cur) {
					return s.report(e, cur)
				}
				c = 1
			}
			if c < 0 {
				if s.left[cur] < 0 {
					s.left[cur] = e
					break
				}
				cur = s.left[cur]
			} else {
				if s.right[cur] < 0 {
					s.right[cur] = e
					break
				}
				cur = s.right[cur]
			}
		}
		s.up[e] = cur
		for x := cur; x >= 0; x = s.up[x] {
			s.outer[x] += s.own(e)
		}
		for s.up[e] >= 0 && s.prio[e] > s.prio[s.up[e]] {
			s.rotateUp(e)
		}
	}
	if p := s.pred(e); p >= 0 && s.conflict(e, p) {
		return s.report(e, p)
	}
	if n := s.succ(e); n >= 0 && s.conflict(e, n) {
		return s.report(e, n)
	}
	// Just right of its start a hole edge has an odd number of outer-ring
	// edges below it exactly when it is inside the outer ring.
	if s.multi && s.ringOf[e] != 0 && s.below(e)%2 == 0 {
		s.found = sweepFound{kind: foundOutside, r1: s.ringOf[e]}
		return true
	}
	return false
}

// remove takes edge e, which ends at the current vertex, out of the treap
// and tests the two edges it separated; true when something was found.
func (s *sweep) remove(e int32) bool {
	p, n := s.pred(e), s.succ(e)
	for s.left[e] >= 0 || s.right[e] >= 0 {
		c := s.left[e]
		if c < 0 || (s.right[e] >= 0 && s.prio[s.right[e]] > s.prio[c]) {
			c = s.right[e]
		}
		s.rotateUp(c)
	}
	if u := s.up[e]; u < 0 {
		s.root = -1
	} else {
		if s.left[u] == e {
			s.left[u] = -1
		} else {
			s.right[u] = -1
		}
		for x := u; x >= 0; x = s.up[x] {
			s.outer[x] -= s.own(e)
		}
	}
	s.up[e] = -1
	if p >= 0 && n >= 0 && s.conflict(p, n) {
		return s.report(p, n)
	}
	return false
}

// spoke is one edge leaving the current vertex, toward to.
type spoke struct {
	to   orb.Point
	ring int32
	edge int32
}

// touching checks where rings meet at the current vertex (multi sweeps
// only, after the edges ending here left): rings that share it, or a ring
// with a vertex here and another ring's edge passing through. Around the
// vertex each ring has two spokes; two rings cross here when their spokes
// alternate, and overlap when two spokes point the same way.
func (s *sweep) touching(group []int32) bool {
	// An edge passing through the vertex is cut by the sweep line, and the
	// edges containing a point are neighbours in the treap.
	through := s.root
	for through >= 0 {
		lo, hi := s.ends(through)
		o := orientSign(lo, hi, s.p)
		if o == 0 {
			break
		}
		if o > 0 {
			through = s.right[through]
		} else {
			through = s.left[through]
		}
	}
	if through >= 0 {
		for _, t := range [2]int32{s.pred(through), s.succ(through)} {
			if t < 0 {
				continue
			}
			if lo, hi := s.ends(t); orientSign(lo, hi, s.p) == 0 && s.conflict(through, t) {
				return s.report(through, t)
			}
		}
	}
	if through < 0 && len(group) == 1 {
		return false
	}
	spokes := make([]spoke, 0, 2*len(group)+2)
	for _, v := range group {
		pv := s.prev(v)
		spokes = append(spokes,
			spoke{s.pts[pv], s.ringOf[v], pv},
			spoke{s.pts[s.next(v)], s.ringOf[v], v})
	}
	if through >= 0 {
		spokes = append(spokes,
			spoke{s.pts[through], s.ringOf[through], through},
			spoke{s.pts[s.next(through)], s.ringOf[through], through})
	}
	// Counter-clockwise from the direction of +x.
	half := func(q orb.Point) int {
		if q[1] > s.p[1] || (q[1] == s.p[1] && q[0] > s.p[0]) {
			return 0
		}
		return 1
	}
	slices.SortFunc(spokes, func(a, b spoke) int {
		if ha, hb := half(a.to), half(b.to); ha != hb {
			return ha - hb
		}
		return -orientSign(s.p, a.to, b.to)
	})
	for i := range spokes {
		a, b := spokes[i], spokes[(i+1)%len(spokes)]
		if a.ring != b.ring && half(a.to) == half(b.to) && orientSign(s.p, a.to, b.to) == 0 {
			return s.report(a.edge, b.edge)
		}
	}
	stack := make([]int32, 0, len(spokes))
	for _, sp := range spokes {
		if k := len(stack); k > 0 && stack[k-1] == sp.ring {
			stack = stack[:k-1]
			continue
		}
		stack = append(stack, sp.ring)
	}
	if len(stack) >= 2 {
		// The first ring left open and the next one on the stack cross.
		s.found = sweepFound{kind: foundCrossAt, r1: stack[0], r2: stack[1], at: s.p}
		return true
	}
	return false
}
