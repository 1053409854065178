package geo

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Everything the engine or a store returns that is the
// caller's fault matches ErrInvalid under errors.Is; the HTTP layer maps
// these to status codes in one table.
var (
	ErrInvalid  = errors.New("geo: invalid input")
	ErrNotFound = errors.New("geo: not found")
	ErrConflict = errors.New("geo: conflict")
)

// FieldError says which field of which input row is wrong and why. Row is
// 1-based counting data rows (the header of a CSV file is row 0); 0 means
// "not part of a file". Feature names a GeoJSON feature or area code when
// that identifies the input better than a row number.
type FieldError struct {
	Row     int    `json:"row,omitempty"`
	Feature string `json:"feature,omitempty"`
	Field   string `json:"field"`
	Reason  string `json:"reason"`
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Feature != "" {
		fmt.Fprintf(&b, "feature %q: ", e.Feature)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// FieldErrors is a list of problems found in one input; it matches
// ErrInvalid and prints one problem per line.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Is makes FieldErrors match ErrInvalid.
func (es FieldErrors) Is(target error) bool { return target == ErrInvalid }

// Err returns es as an error, or nil when it is empty.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// WithRow returns copies of es with Row set to row.
func (es FieldErrors) WithRow(row int) FieldErrors {
	out := make(FieldErrors, len(es))
	for i, e := range es {
		c := *e
		c.Row = row
		out[i] = &c
	}
	return out
}

// AsFieldErrors flattens err into field errors: a FieldErrors list, a single
// *FieldError, or anything else as one error with an empty field.
func AsFieldErrors(err error) FieldErrors {
	if err == nil {
		return nil
	}
	var es FieldErrors
	if errors.As(err, &es) {
		return es
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return FieldErrors{fe}
	}
	return FieldErrors{{Reason: err.Error()}}
}
