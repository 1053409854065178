package geotest

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// DiffResults compares two analyses exactly — every area score, hole (its
// cells, outline and figures), team and the summary, to the last bit, NaN
// equal to NaN — and describes the first differences it finds (at most
// max), or returns nil when they are the same. The per-carrier cell
// statistics and the report bias are compared only when cells is true:
// a Live fixes them when it is built.
func DiffResults(got, want *geo.Result, cells bool, max int) []string {
	var out []string
	diff := func(path string, g, w any) bool {
		if len(out) >= max {
			return false
		}
		if d := firstDiff(path, reflect.ValueOf(g), reflect.ValueOf(w)); d != "" {
			out = append(out, d)
			return true
		}
		return false
	}
	if len(got.Areas) != len(want.Areas) {
		out = append(out, fmt.Sprintf("areas: %d scores, want %d", len(got.Areas), len(want.Areas)))
	} else {
		for i := range want.Areas {
			diff(fmt.Sprintf("area %s", want.Areas[i].Code), got.Areas[i], want.Areas[i])
		}
	}
	if len(got.Holes) != len(want.Holes) {
		out = append(out, fmt.Sprintf("holes: %d, want %d", len(got.Holes), len(want.Holes)))
	} else {
		for i := range want.Holes {
			diff(fmt.Sprintf("hole %d (%s)", i, want.Holes[i].ID), got.Holes[i], want.Holes[i])
		}
	}
	diff("teams", got.Teams, want.Teams)
	diff("unobserved", got.Unobserved, want.Unobserved)
	diff("summary", got.Summary, want.Summary)
	if cells {
		diff("cells", got.Cells, want.Cells)
		diff("report bias", got.ReportBias, want.ReportBias)
		diff("report bias estimates", got.ReportBiasFrom, want.ReportBiasFrom)
	}
	return out
}

// firstDiff describes the first place where g and w differ, or "".
func firstDiff(path string, g, w reflect.Value) string {
	if g.IsValid() != w.IsValid() {
		return fmt.Sprintf("%s: one is nil", path)
	}
	if !g.IsValid() {
		return ""
	}
	if g.Type() != w.Type() {
		return fmt.Sprintf("%s: type %s, want %s", path, g.Type(), w.Type())
	}
	switch g.Kind() {
	case reflect.Float32, reflect.Float64:
		a, b := g.Float(), w.Float()
		if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
			return ""
		}
		return fmt.Sprintf("%s: %v, want %v", path, a, b)
	case reflect.Struct:
		if gt, ok := g.Interface().(time.Time); ok {
			if !gt.Equal(w.Interface().(time.Time)) {
				return fmt.Sprintf("%s: %v, want %v", path, g.Interface(), w.Interface())
			}
			return ""
		}
		for i := range g.NumField() {
			if !g.Type().Field(i).IsExported() {
				continue
			}
			if d := firstDiff(path+"."+g.Type().Field(i).Name, g.Field(i), w.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if g.Len() != w.Len() {
			return fmt.Sprintf("%s: length %d, want %d", path, g.Len(), w.Len())
		}
		for i := range g.Len() {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if g.Len() != w.Len() {
			return fmt.Sprintf("%s: %d entries, want %d", path, g.Len(), w.Len())
		}
		for _, k := range w.MapKeys() {
			if d := firstDiff(fmt.Sprintf("%s[%v]", path, k), g.MapIndex(k), w.MapIndex(k)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Pointer, reflect.Interface:
		if g.IsNil() || w.IsNil() {
			if g.IsNil() != w.IsNil() {
				return fmt.Sprintf("%s: one is nil", path)
			}
			return ""
		}
		return firstDiff(path, g.Elem(), w.Elem())
	default:
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			return fmt.Sprintf("%s: %v, want %v", path, g.Interface(), w.Interface())
		}
		return ""
	}
}
