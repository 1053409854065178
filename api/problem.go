package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

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
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fieldProblem writes a 400 problem naming one field.
func fieldProblem(w http.ResponseWriter, field, reason string) {
	writeProblem(w, http.StatusBadRequest, field+": "+reason, fieldError{Field: field, Reason: reason})
}

// fieldErrors converts geo field errors for a problem's errors list.
func fieldErrors(es geo.FieldErrors) []fieldError {
	out := make([]fieldError, 0, len(es))
	for _, e := range es {
		out = append(out, fieldError{Field: e.Field, Reason: e.Reason, Row: e.Row})
	}
	return out
}

// statusOf is the one error-to-status table of the HTTP layer.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, geo.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, geo.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, geo.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// writeError maps err to a status and writes it as a problem. Errors the
// caller is not at fault for are logged and not described to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && statusOf(err) == http.StatusInternalServerError {
		// The client went away (or the request timed out) while we were
		// working for it: there is no one to answer and nothing broke.
		s.log.DebugContext(r.Context(), "request abandoned", slog.String("path", r.URL.Path), slog.Any("err", err))
		return
	}
	st := statusOf(err)
	switch st {
	case http.StatusInternalServerError:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
		writeProblem(w, st, "internal error")
	case http.StatusRequestEntityTooLarge:
		writeProblem(w, st, "request body too large", fieldError{Field: "body", Reason: "larger than the server accepts"})
	case http.StatusBadRequest:
		writeProblem(w, st, err.Error(), fieldErrors(geo.AsFieldErrors(err))...)
	default:
		writeProblem(w, st, err.Error())
	}
}
