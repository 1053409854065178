package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/gapmap/gapmap/geo"
)

// A layer request may name the properties its features carry
// (`properties=code,name`, as OGC API – Features Part 3 and
// pg_featureserv do; `properties=*` for all of them). Below slimZoom the
// areas carry by default only what a map styles and labels them with
// (areaMapProps): there a hamlet is a few pixels, and its other figures,
// which are most of its bytes, are one click away at /api/v1/areas/{code}.
// Properties are picked from the encoded features, so what is kept is
// byte for byte what the full feature holds.

// slimZoom is the web-map zoom from which the areas carry all their
// properties by default (see the sizes in zoom_test.go's
// TestSlimAreasSmaller and the README's figures).
const slimZoom = 12

// areaMapProps are the properties of an area the map page styles
// (observed_share for "no data yet", each metric it colours by, action)
// and labels (code, name, level) with.
var areaMapProps = func() map[string]bool {
	m := map[string]bool{"code": true, "name": true, "level": true, "observed_share": true,
		"dead_share": true, "hole_share": true, "reached_share": true, "action": true}
	for _, c := range geo.Carriers {
		m[c.String()+"_hole_share"] = true
	}
	return m
}()

func isMapProp(name []byte) bool { return areaMapProps[string(name)] }

// propSelect is the properties a request asks for: all of them, or those
// named.
type propSelect struct {
	all   bool
	names map[string]bool
}

// parsePropSelect parses the value of properties=: a comma-separated list
// of names, or "*".
func parsePropSelect(v string) (*propSelect, string) {
	if strings.TrimSpace(v) == "*" {
		return &propSelect{all: true}, ""
	}
	ps := &propSelect{names: map[string]bool{}}
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			ps.names[n] = true
		}
	}
	if len(ps.names) == 0 {
		return nil, `want a comma-separated list of property names, or "*" for all`
	}
	return ps, ""
}

// within reports whether every property ps asks for is in set (a
// feature encoded with set's properties can answer it).
func (ps *propSelect) within(set map[string]bool) bool {
	if ps.all {
		return false
	}
	for n := range ps.names {
		if !set[n] {
			return false
		}
	}
	return true
}

// keep reports whether ps asks for the property name.
func (ps *propSelect) keep(name []byte) bool { return ps.all || ps.names[string(name)] }

// has is keep for a name held as a string.
func (ps *propSelect) has(name string) bool { return ps.all || ps.names[name] }

// key is ps as a cache key: "" for no selection, "*" for all, else the
// names sorted and joined by commas.
func (ps *propSelect) key() string {
	switch {
	case ps == nil:
		return ""
	case ps.all:
		return "*"
	}
	names := make([]string, 0, len(ps.names))
	for n := range ps.names {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// slimAreas reports whether the areas at zoom z carry areaMapProps by
// default rather than all their properties.
func slimAreas(z int) bool { return z >= 0 && z < slimZoom }

// pickProps appends to dst the feature f (a GeoJSON Feature as the
// export package writes it: a flat "properties" object after the
// geometry) with only the properties keep accepts, each copied as it was
// encoded. A feature it cannot read is appended as it is.
func pickProps(dst, f []byte, keep func(name []byte) bool) []byte {
	const open = `,"properties":{`
	i := bytes.Index(f, []byte(open))
	if i < 0 {
		return append(dst, f...)
	}
	n0 := len(dst)
	dst = append(dst, f[:i+len(open)]...)
	j := i + len(open)
	first := true
	for j < len(f) && f[j] != '}' {
		if f[j] == ',' {
			j++
		}
		start := j
		kEnd := skipString(f, j)
		if kEnd < 0 || kEnd >= len(f) || f[kEnd] != ':' {
			return append(dst[:n0], f...)
		}
		vEnd := skipValue(f, kEnd+1)
		if vEnd < 0 {
			return append(dst[:n0], f...)
		}
		if keep(propName(f[start:kEnd])) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, f[start:vEnd]...)
		}
		j = vEnd
	}
	return append(dst, f[j:]...)
}

// propName is the name a quoted JSON key stands for.
func propName(q []byte) []byte {
	if bytes.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return q[1 : len(q)-1]
	}
	return []byte(s)
}

// skipString returns the index just past the JSON string starting at
// f[i], or -1.
func skipString(f []byte, i int) int {
	if i >= len(f) || f[i] != '"' {
		return -1
	}
	for i++; i < len(f); i++ {
		switch f[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at f[i],
// or -1.
func skipValue(f []byte, i int) int {
	if i >= len(f) {
		return -1
	}
	switch f[i] {
	case '"':
		return skipString(f, i)
	case '{', '[':
		depth := 0
		for ; i < len(f); i++ {
			switch f[i] {
			case '"':
				e := skipString(f, i)
				if e < 0 {
					return -1
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for ; i < len(f); i++ {
		if c := f[i]; c == ',' || c == '}' || c == ']' {
			return i
		}
	}
	return -1
}
