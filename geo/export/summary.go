package export

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

var nan = math.NaN()

// WriteSummaryJSON writes v as JSON indented by two spaces, without HTML
// escaping. It follows encoding/json's rules (json tags with omitempty,
// omitzero, string and "-", embedded structs, json.Marshaler,
// encoding.TextMarshaler, sorted map keys) except that a NaN or infinite
// float, which encoding/json refuses, is written as null: the engine uses
// NaN for "unknown" (a median signal with no readings, the distance to a
// team when there are none).
func WriteSummaryJSON(w io.Writer, v any) error {
	t, err := plain(v)
	if err != nil {
		return err
	}
	b := appendPlain(nil, t, true, 0)
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return err
	}
	return nil
}

// The plain tree a value converts to holds nil, bool, int64, uint64,
// finite float64, string, rawJSON, []any and object.
type (
	// rawJSON is the compact output of a json.Marshaler.
	rawJSON []byte
	// object keeps its members in order: struct fields in declaration
	// order, map entries sorted by key.
	object []member
	member struct {
		key string
		val any
	}
)

// plain converts v to a plain tree.
func plain(v any) (any, error) {
	return toPlain(reflect.ValueOf(v))
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func toPlain(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nil, nil
	}
	t := v.Type()
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		pt := reflect.PointerTo(t)
		if !t.Implements(jsonMarshalerType) && pt.Implements(jsonMarshalerType) ||
			!t.Implements(textMarshalerType) && pt.Implements(textMarshalerType) {
			v, t = v.Addr(), pt
		}
	}
	if t.Implements(jsonMarshalerType) {
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("export: %s: %w", t, err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return nil, fmt.Errorf("export: %s: MarshalJSON: %w", t, err)
		}
		return rawJSON(buf.Bytes()), nil
	}
	if t.Implements(textMarshalerType) {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, fmt.Errorf("export: %s: %w", t, err)
		}
		return string(b), nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		return toPlain(v.Elem())
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint(), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil
		}
		if v.Kind() == reflect.Float32 {
			// Keep float32's shortest form (0.1, not 0.10000000149011612).
			f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', -1, 32), 64)
		}
		return f, nil
	case reflect.String:
		return v.String(), nil
	case reflect.Struct:
		return structPlain(v)
	case reflect.Map:
		return mapPlain(v)
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(jsonMarshalerType) &&
			!reflect.PointerTo(t.Elem()).Implements(textMarshalerType) {
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}
		return listPlain(v)
	case reflect.Array:
		return listPlain(v)
	}
	return nil, fmt.Errorf("export: unsupported type %s", t)
}

func listPlain(v reflect.Value) (any, error) {
	l := make([]any, v.Len())
	for i := range l {
		x, err := toPlain(v.Index(i))
		if err != nil {
			return nil, err
		}
		l[i] = x
	}
	return l, nil
}

func mapPlain(v reflect.Value) (any, error) {
	if v.IsNil() {
		return nil, nil
	}
	o := make(object, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, err := mapKey(it.Key())
		if err != nil {
			return nil, err
		}
		x, err := toPlain(it.Value())
		if err != nil {
			return nil, err
		}
		o = append(o, member{k, x})
	}
	sort.Slice(o, func(i, j int) bool { return o[i].key < o[j].key })
	return o, nil
}

// mapKey names a map entry as encoding/json does.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		if err != nil {
			return "", fmt.Errorf("export: map key %s: %w", k.Type(), err)
		}
		return string(b), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("export: unsupported map key type %s", k.Type())
}

// field is a struct field as encoding/json sees it.
type field struct {
	name      string
	index     []int
	omitEmpty bool
	omitZero  bool
	quoted    bool
	depth     int
	tagged    bool
}

var fieldCache sync.Map // reflect.Type → []field

func structPlain(v reflect.Value) (any, error) {
	fs := cachedFields(v.Type())
	o := make(object, 0, len(fs))
fields:
	for i := range fs {
		f := &fs[i]
		fv := v
		for _, x := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields // nil embedded pointer: its fields are absent
				}
				fv = fv.Elem()
			}
			fv = fv.Field(x)
		}
		if f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		x, err := toPlain(fv)
		if err != nil {
			return nil, err
		}
		if f.quoted {
			x = quote(x)
		}
		o = append(o, member{f.name, x})
	}
	return o, nil
}

// quote applies the ",string" option to a scalar.
func quote(x any) any {
	switch x := x.(type) {
	case string:
		return string(appendString(nil, x))
	case bool, int64, uint64, float64:
		return string(appendPlain(nil, x, false, 0))
	}
	return x
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(isZeroer); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

func cachedFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	fs, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return fs.([]field)
}

// typeFields lists the fields encoding/json would encode: promoted fields
// of untagged embedded structs included, a name used at several depths
// taken from the shallowest (tagged first), names still ambiguous dropped.
func typeFields(t reflect.Type) []field {
	var all []field
	var walk func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					walk(ft, idx, depth+1, seen)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := field{name: name, index: idx, depth: depth, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
				case "string":
					f.quoted = true
				}
			}
			all = append(all, f)
		}
	}
	walk(t, nil, 0, map[reflect.Type]bool{})

	byName := map[string][]field{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []field
	for _, fs := range byName {
		min := fs[0].depth
		for _, f := range fs {
			if f.depth < min {
				min = f.depth
			}
		}
		var top, tagged []field
		for _, f := range fs {
			if f.depth == min {
				top = append(top, f)
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
		}
		switch {
		case len(top) == 1:
			out = append(out, top[0])
		case len(tagged) == 1:
			out = append(out, tagged[0])
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].index, out[j].index
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return out
}

// appendPlain appends a plain tree as JSON, indented by two spaces from
// depth when indent is true, compact otherwise.
func appendPlain(b []byte, x any, indent bool, depth int) []byte {
	switch x := x.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case string:
		return appendString(b, x)
	case rawJSON:
		if !indent {
			return append(b, x...)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, x, strings.Repeat("  ", depth), "  "); err != nil {
			return append(b, x...) // compacted already, so valid
		}
		return append(b, buf.Bytes()...)
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, indent, depth+1)
			b = appendPlain(b, e, indent, depth+1)
		}
		b = newline(b, indent, depth)
		return append(b, ']')
	case object:
		if len(x) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, indent, depth+1)
			b = appendString(b, m.key)
			b = append(b, ':')
			if indent {
				b = append(b, ' ')
			}
			b = appendPlain(b, m.val, indent, depth+1)
		}
		b = newline(b, indent, depth)
		return append(b, '}')
	}
	panic(fmt.Sprintf("export: unexpected %T in plain tree", x))
}

func newline(b []byte, indent bool, depth int) []byte {
	if !indent {
		return b
	}
	b = append(b, '\n')
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}

// appendFloat formats a finite float as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
