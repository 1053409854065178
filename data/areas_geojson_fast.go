package data

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/paulmach/orb"
)

// fastFeature decodes the bytes of one feature of the usual shape —
// {"type":"Feature", "geometry": a Polygon or MultiPolygon with numbers
// for coordinates, "properties": an object or null, maybe an "id" and
// other members} — without encoding/json's reflection for the
// coordinates. ok is false, and the caller decodes the feature with
// slowFeature, whenever anything is otherwise: a syntax error, a value of
// an unexpected type, a member given twice or in other letter case, a
// position with fewer than two numbers, a number out of range. When ok,
// the result is what slowFeature gives.
func fastFeature(b []byte, sc *scratch) (rawFeature, bool) {
	var rf rawFeature
	p := jp{b: b}
	if !p.open('{') {
		return rf, false
	}
	var geom, props []byte
	var mp orb.MultiPolygon
	var seen uint8
	for more := !p.close('}'); more; {
		key, ok := p.key()
		if !ok {
			return rf, false
		}
		var bit uint8
		switch key {
		case "type":
			bit = 1
			s, ok := p.plainString()
			if !ok || s != "Feature" {
				return rf, false
			}
		case "geometry":
			bit = 2
			p.ws()
			start := p.i
			if mp, ok = fastGeometry(&p, sc); !ok {
				mp = nil
				p.i = start
				if !p.skip(0) {
					return rf, false
				}
			}
			geom = b[start:p.i]
		case "properties", "id":
			p.ws()
			start := p.i
			if !p.skip(0) {
				return rf, false
			}
			if key == "properties" {
				bit, props = 4, b[start:p.i]
			} else {
				bit = 8
			}
		default:
			if strings.EqualFold(key, "type") || strings.EqualFold(key, "geometry") ||
				strings.EqualFold(key, "properties") || strings.EqualFold(key, "id") {
				return rf, false
			}
			if !p.skip(0) {
				return rf, false
			}
		}
		if seen&bit != 0 {
			return rf, false
		}
		seen |= bit
		if more, ok = p.next('}'); !ok {
			return rf, false
		}
	}
	if p.ws(); p.i != len(b) || seen&1 == 0 {
		return rf, false
	}
	if props != nil && string(props) != "null" {
		if err := json.Unmarshal(props, &rf.props); err != nil {
			if _, syn := err.(*json.SyntaxError); syn {
				return rf, false
			}
			rf.props = nil
			rf.geomErr, rf.errField = "not a JSON object", "properties"
			return rf, true
		}
	}
	if geom == nil || string(geom) == "null" {
		rf.geomErr = "missing"
		return rf, true
	}
	if mp == nil {
		rf.mp, rf.geomErr = decodePolygonal(geom)
		return rf, true
	}
	rf.mp = mp
	return rf, true
}

// scratch is a worker's reusable space for one geometry's positions.
type scratch struct {
	pts   []orb.Point
	rings []int // end of each ring in pts
	polys []int // end of each polygon in rings
}

// fastGeometry decodes a valid Polygon or MultiPolygon geometry object
// whose coordinates are all numbers, positions of two or more. Every
// position of the result shares one allocation, each ring capped at its
// own length.
func fastGeometry(p *jp, sc *scratch) (orb.MultiPolygon, bool) {
	if !p.open('{') {
		return nil, false
	}
	var typ string
	coords := -1 // where coordinates given before the type start
	var seen uint8
	sc.pts, sc.rings, sc.polys = sc.pts[:0], sc.rings[:0], sc.polys[:0]
	parsed := false
	for more := !p.close('}'); more; {
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		var bit uint8
		switch key {
		case "type":
			bit = 1
			if typ, ok = p.plainString(); !ok {
				return nil, false
			}
		case "coordinates":
			bit = 2
			if seen&1 == 0 {
				p.ws()
				coords = p.i
				if !p.skip(0) {
					return nil, false
				}
			} else if !p.coordinates(typ, sc) {
				return nil, false
			} else {
				parsed = true
			}
		default:
			if strings.EqualFold(key, "type") || strings.EqualFold(key, "coordinates") || !p.skip(0) {
				return nil, false
			}
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		if more, ok = p.next('}'); !ok {
			return nil, false
		}
	}
	if !parsed {
		if coords < 0 {
			return nil, false
		}
		c := jp{b: p.b, i: coords}
		if !c.coordinates(typ, sc) {
			return nil, false
		}
	}
	pts := make([]orb.Point, len(sc.pts))
	copy(pts, sc.pts)
	rings := make([]orb.Ring, len(sc.rings))
	lo := 0
	for i, hi := range sc.rings {
		rings[i] = pts[lo:hi:hi]
		lo = hi
	}
	mp := make(orb.MultiPolygon, len(sc.polys))
	lo = 0
	for i, hi := range sc.polys {
		mp[i] = rings[lo:hi:hi]
		lo = hi
	}
	return mp, true
}

// jp reads JSON from b at i. Its methods return false on anything they do
// not take, leaving the caller to give up.
type jp struct {
	b []byte
	i int
}

func (p *jp) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// open takes c (after white space).
func (p *jp) open(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// close takes c if it comes next, for an empty object or array.
func (p *jp) close(c byte) bool { return p.open(c) }

// next takes the ',' before another member or element (more) or the
// closing c.
func (p *jp) next(c byte) (more, ok bool) {
	p.ws()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return true, true
		case c:
			p.i++
			return false, true
		}
	}
	return false, false
}

// plainString takes a string without escapes or control characters.
func (p *jp) plainString() (string, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := string(p.b[p.i+1 : j])
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// key takes an object key without escapes and its ':'.
func (p *jp) key() (string, bool) {
	k, ok := p.plainString()
	return k, ok && p.open(':')
}

// maxSkipDepth is the nesting skip follows; deeper values go to
// encoding/json, which has a limit of its own.
const maxSkipDepth = 200

// skip takes any valid JSON value, checking it as encoding/json does.
func (p *jp) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	p.ws()
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		for more := !p.close('}'); more; {
			var ok bool
			if !p.skipString() || !p.open(':') || !p.skip(depth+1) {
				return false
			}
			if more, ok = p.next('}'); !ok {
				return false
			}
		}
		return true
	case c == '[':
		p.i++
		return p.elements(func() bool { return p.skip(depth + 1) })
	case c == '"':
		return p.skipString()
	case c == '-' || c >= '0' && c <= '9':
		end, ok := p.numberEnd()
		p.i = end
		return ok
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			return true
		}
	}
	return false
}

// skipString takes a string, checking its escapes.
func (p *jp) skipString() bool {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(p.b) {
				return false
			}
			switch p.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(p.b) {
					return false
				}
				for _, h := range p.b[j+1 : j+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

// number takes a JSON number that strconv.ParseFloat reads without
// error, as encoding/json decodes a float64.
func (p *jp) number() (float64, bool) {
	end, ok := p.numberEnd()
	if !ok {
		return 0, false
	}
	// The bytes are not changed while ParseFloat reads them, and it keeps
	// no reference to them.
	v, err := strconv.ParseFloat(unsafe.String(&p.b[p.i], end-p.i), 64)
	if err != nil {
		return 0, false
	}
	p.i = end
	return v, true
}

// numberEnd returns the end of the JSON number at p.i.
func (p *jp) numberEnd() (int, bool) {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}

// elements takes the elements of an array after its '[', each by elem.
func (p *jp) elements(elem func() bool) bool {
	for more := !p.close(']'); more; {
		var ok bool
		if !elem() {
			return false
		}
		if more, ok = p.next(']'); !ok {
			return false
		}
	}
	return true
}

// array takes an array whose elements elem takes.
func (p *jp) array(elem func() bool) bool {
	return p.open('[') && p.elements(elem)
}

// coordinates takes the coordinates of a geometry of type typ into sc.
func (p *jp) coordinates(typ string, sc *scratch) bool {
	switch typ {
	case "Polygon":
		return p.polygon(sc)
	case "MultiPolygon":
		return p.array(func() bool { return p.polygon(sc) })
	}
	return false
}

// polygon takes an array of rings into sc.
func (p *jp) polygon(sc *scratch) bool {
	if !p.array(func() bool {
		if !p.array(func() bool { return p.position(sc) }) {
			return false
		}
		sc.rings = append(sc.rings, len(sc.pts))
		return true
	}) {
		return false
	}
	sc.polys = append(sc.polys, len(sc.rings))
	return true
}

// position takes [lon, lat, …] into sc, dropping numbers past the second.
func (p *jp) position(sc *scratch) bool {
	if !p.open('[') {
		return false
	}
	var pt orb.Point
	n := 0
	for more := !p.close(']'); more; {
		var ok bool
		p.ws()
		v, ok := p.number()
		if !ok {
			return false
		}
		if n < 2 {
			pt[n] = v
		}
		n++
		if more, ok = p.next(']'); !ok {
			return false
		}
	}
	if n < 2 {
		return false
	}
	sc.pts = append(sc.pts, pt)
	return true
}
