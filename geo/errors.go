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
	// ErrUnauthenticated is an action that needs a signed-in user, made
	// by the public or with credentials that are not valid.
	ErrUnauthenticated = errors.New("geo: not signed in")
	// ErrForbidden is an action the signed-in user may not take (see
	// Viewer).
	ErrForbidden = errors.New("geo: forbidden")
	// ErrMismatch is a request that reuses what named an earlier one
	// (an Idempotency-Key) with other content.
	ErrMismatch = errors.New("geo: does not match the earlier request")
	// ErrUnavailable is a failure that is no one's fault and may pass:
	// the store cannot be reached now (its database server is down or
	// restarting). Try again shortly.
	ErrUnavailable = errors.New("geo: store unavailable")
)

// Error is a failure of a known kind, one of the sentinels above, with a
// message for whoever made the request and, when it helps them, the
// fields at fault. It matches its Kind under errors.Is (and nothing else
// of the sentinels, whatever Fields holds) and unwraps to Err, the cause
// when there is one.
type Error struct {
	Kind    error
	Message string
	Fields  FieldErrors
	Err     error
}

// NewError returns an *Error of kind with msg and fields.
func NewError(kind error, msg string, fields ...*FieldError) *Error {
	return &Error{Kind: kind, Message: msg, Fields: fields}
}

func (e *Error) Error() string { return e.Message }

// Is makes e match its Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

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
