package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// problem is an RFC 9457 problem details document, with the fields at
// fault listed in errors.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
}

// fieldError is one entry of a problem's errors.
type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Row    int    `json:"row,omitempty"`
}

// writeProblem writes a problem with the given status.
func writeProblem(w http.ResponseWriter, status int, detail string, errs ...fieldError) {
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: only strings and ints
		b = []byte(`{"type":"about:blank","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Kinds of failure only HTTP has words for; geo's sentinels (ErrInvalid,
// ErrNotFound, ErrConflict, ErrUnauthenticated, ErrForbidden) name the
// rest. Handlers return them as the Kind of a *geo.Error.
var (
	errUnsupportedMediaType = errors.New("api: unsupported media type")
	errMethodNotAllowed     = errors.New("api: method not allowed")
	errTooManyRequests      = errors.New("api: too many requests")
	errUnavailable          = errors.New("api: service unavailable")
)

// storeRetryAfter is the Retry-After of a 503 for a store that cannot be
// reached: about the time a database server takes to restart.
const storeRetryAfter = 2 * time.Second

// badField is the error of one query or body field that is wrong (400).
func badField(field, reason string) error { return &geo.FieldError{Field: field, Reason: reason} }

// unsupportedMedia is the error of a body that is not of the given
// media types (415).
func unsupportedMedia(types string) error {
	return geo.NewError(errUnsupportedMediaType, "send "+types,
		&geo.FieldError{Field: "Content-Type", Reason: "must be " + types})
}

// errNoResource is the error of a path that names nothing (404).
func errNoResource(r *http.Request) error {
	return geo.NewError(geo.ErrNotFound, "no such resource: "+r.URL.Path)
}

// handlerFunc is an HTTP handler that returns its failure instead of
// writing it; wrap writes it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// wrap adapts h to an http.Handler: an error h returns is written by
// writeError, the one place that turns errors into statuses.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// started reports whether a reply has begun on w (through the request
// log's statusWriter), when it is too late for a problem.
func started(w http.ResponseWriter) bool {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return x.status != 0
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return false
		}
	}
}

// fieldErrors converts geo field errors for a problem's errors list.
func fieldErrors(es geo.FieldErrors) []fieldError {
	out := make([]fieldError, 0, len(es))
	for _, e := range es {
		out = append(out, fieldError{Field: e.Field, Reason: e.Reason, Row: e.Row})
	}
	return out
}

// statusOf is the one error-to-status table of the HTTP layer. An
// *geo.Error is classified by its Kind alone.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	var be *bodyError
	if errors.As(err, &be) {
		if be.timedOut() {
			return http.StatusRequestTimeout
		}
		return http.StatusBadRequest
	}
	kind := err
	var ge *geo.Error
	if errors.As(err, &ge) {
		kind = ge.Kind
	}
	switch {
	case errors.Is(kind, errUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(kind, geo.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(kind, geo.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(kind, geo.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(kind, errMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(kind, geo.ErrConflict):
		return http.StatusConflict
	case errors.Is(kind, geo.ErrMismatch):
		return http.StatusUnprocessableEntity
	case errors.Is(kind, errTooManyRequests):
		return http.StatusTooManyRequests
	case errors.Is(kind, errUnavailable), errors.Is(kind, geo.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(kind, geo.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// problemFields are the fields at fault in err, for a problem of status
// st: those of an *geo.Error, or for a 400 the field errors err holds.
func problemFields(err error, st int) []fieldError {
	var ge *geo.Error
	if errors.As(err, &ge) {
		return fieldErrors(ge.Fields)
	}
	if st == http.StatusBadRequest {
		return fieldErrors(geo.AsFieldErrors(err))
	}
	return nil
}

// writeError maps err to a status and writes it as a problem. Errors the
// caller is not at fault for are logged and not described to the client;
// one that comes after the reply has begun can only be logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	if r.Context().Err() != nil && st == http.StatusInternalServerError {
		// The client went away (or the request timed out) while we were
		// working for it: there is no one to answer and nothing broke.
		s.log.DebugContext(r.Context(), "request abandoned", slog.String("path", r.URL.Path), slog.Any("err", err))
		return
	}
	if started(w) {
		s.log.ErrorContext(r.Context(), "request failed after its reply began", slog.String("path", r.URL.Path), slog.Any("err", err))
		return
	}
	switch st {
	case http.StatusInternalServerError:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
		writeProblem(w, st, "internal error")
	case http.StatusRequestEntityTooLarge:
		writeProblem(w, st, "request body too large", fieldError{Field: "body", Reason: "larger than the server accepts"})
	case http.StatusRequestTimeout:
		writeProblem(w, st, "the request body did not arrive in time", fieldError{Field: "body", Reason: "sent too slowly"})
	case http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			setRetryAfter(w, storeRetryAfter)
		}
		if errors.Is(err, geo.ErrUnavailable) {
			// The store's detail (an address, a socket path) is the
			// operator's, not the client's.
			s.log.WarnContext(r.Context(), "store unavailable", slog.String("path", r.URL.Path), slog.Any("err", err))
			writeProblem(w, st, "the store is unavailable; try again shortly")
			break
		}
		writeProblem(w, st, err.Error(), problemFields(err, st)...)
	default:
		var be *bodyError
		if errors.As(err, &be) {
			writeProblem(w, st, "the request body could not be read", fieldError{Field: "body", Reason: "broken off or malformed"})
			return
		}
		if st == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gapmap"`)
		}
		writeProblem(w, st, err.Error(), problemFields(err, st)...)
	}
}
